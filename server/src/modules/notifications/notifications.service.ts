import type { CaseNotifications, MyNotification, Notification, NotifyResult } from '@ridetrace/shared';
import { createHash, randomUUID } from 'node:crypto';
import { agencyOf, type Official } from '../../actors.js';
import { perContext, type AppContext } from '../../context.js';
import type { NotificationsTable } from '../../db/tables.js';
import type { Selectable } from 'kysely';
import { appendAudit, auditBy } from '../audit/audit.service.js';
import { recordDataAccess } from '../privacy/access-log.service.js';
import { assertCaseExists, caseExposures, openCaseFacts } from '../cases/cases.service.js';
import { NotificationWorker, type Senders } from './notification-worker.js';
import * as repo from './notifications.repository.js';

/** The notification worker of this process, when it runs one. */
const workerOf = perContext((): { worker: NotificationWorker | null } => ({ worker: null }));

/** Creates this process's notification worker (the caller starts and stops it). */
export function createNotificationWorker(
  ctx: AppContext,
  senders: Senders,
  log: (err: unknown, msg: string) => void,
): NotificationWorker {
  const worker = new NotificationWorker(ctx, senders, log);
  workerOf(ctx).worker = worker;
  return worker;
}

/** Starts a delivery round now, when this process runs a worker (new notifications were queued). */
export function kickNotifier(ctx: AppContext): void {
  workerOf(ctx).worker?.kick();
}

export const ADVICE = {
  'zh-CN':
    '您曾与一名确诊病例乘坐同一交通工具。请在观察期结束前减少外出、每日自测体温，如出现发热、咳嗽等症状请及时就医并主动告知乘车经历。',
  en:
    'You rode the same vehicle as a confirmed case. Until the observation period ends, limit outings and check your ' +
    'temperature daily; if you develop fever or cough, see a doctor and mention this ride.',
};

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    caseId: row.case_id,
    personId: row.passenger_id,
    channel: row.channel,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
  };
}

/**
 * Queues exactly one notification per exposed person (degree 1) and marks every registration of that person
 * yellow until infectiousTo + observation days. Repeat calls add nothing (unique per case and person).
 * The marks, the notifications and the audit entry commit together.
 */
export async function notifyCase(ctx: AppContext, who: Official, caseId: string): Promise<NotifyResult> {
  const traced = await caseExposures(ctx, await openCaseFacts(ctx, caseId), 1);
  const observeUntil = new Date(
    traced.case.infectiousTo.getTime() + ctx.config.trace.observationDays * 86_400_000,
  );
  const queued = await ctx.db.transaction().execute(async (tx) => {
    await repo.insertMarks(
      tx,
      traced.persons.flatMap((p) =>
        p.passengerIds.map((passenger_id) => ({
          case_id: caseId,
          passenger_id,
          level: p.level,
          carrier_id: p.contacts[0]!.carrier.id,
          boarded_at: p.contacts[0]!.contactBoardedAt,
          observe_until: observeUntil,
        })),
      ),
    );
    const n = await repo.insertNotifications(
      tx,
      traced.persons.map((p) => ({
        id: randomUUID(),
        case_id: caseId,
        passenger_id: p.personId,
        channel:
          p.registration.kind === 'app' && p.registration.has_openid ? ('app' as const) : ('sms' as const),
        state: 'queued' as const,
      })),
    );
    await appendAudit(tx, {
      ...auditBy(who),
      action: 'case.notify',
      caseId,
      people: traced.persons.length,
      detail: `queued=${n}`,
    });
    await recordDataAccess(tx, {
      passengerIds: traced.persons.flatMap((p) => p.passengerIds),
      agency: agencyOf(who),
      purpose: 'notification',
      caseId,
      at: ctx.now(),
    });
    return n;
  });
  kickNotifier(ctx);
  return { caseId, exposed: traced.persons.length, queued, alreadyQueued: traced.persons.length - queued };
}

export async function caseNotifications(
  ctx: AppContext,
  who: Official,
  caseId: string,
): Promise<CaseNotifications> {
  await assertCaseExists(ctx, caseId);
  const rows = await repo.listCaseNotifications(ctx.db, caseId);
  const summary: Record<string, number> = { queued: 0, sending: 0, sent: 0, failed: 0 };
  for (const r of rows) summary[r.state] = (summary[r.state] ?? 0) + 1;
  await appendAudit(ctx.db, {
    ...auditBy(who),
    action: 'notifications.read',
    caseId,
    people: rows.length,
    facts: { returned: rows.length },
  });
  return { items: rows.map(toNotification), summary };
}

export async function myNotifications(ctx: AppContext, passengerId: string): Promise<MyNotification[]> {
  const marks = await repo.findMarksOfPassenger(ctx.db, passengerId);
  return marks.map((m) => ({
    // Stable, but does not disclose the case id to the passenger.
    id: createHash('sha256').update(`${m.case_id}:${passengerId}`).digest('hex').slice(0, 24),
    kind: 'exposure' as const,
    createdAt: m.created_at.toISOString(),
    exposure: {
      carrier: { id: m.carrier_id, kind: m.kind, plate: m.plate, route: m.route, city: m.city },
      boardedAt: m.boarded_at.toISOString(),
      level: m.level,
    },
    advice: ADVICE,
    observeUntil: m.observe_until.toISOString(),
  }));
}
