import {
  NOTIFICATION_STATES,
  type CaseNotifications,
  type DeliveryReceipt,
  type DeliveryReceiptsResult,
  type MyNotification,
  type Notification,
  type NotifyResult,
} from '@ridetrace/shared';
import { createHash, randomUUID } from 'node:crypto';
import type { Official } from '../../actors.js';
import { perContext, type AppContext } from '../../context.js';
import type { NotificationsTable } from '../../db/tables.js';
import type { Selectable } from 'kysely';
import { appendAudit, auditBy } from '../audit/audit.service.js';
import { metricsOf } from '../metrics/metrics.service.js';
import { deliveringAgency, recordDataAccess } from '../privacy/access-log.service.js';
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

/** Notifications not delivered yet, and how long the oldest has waited (metrics). */
export function notificationBacklog(
  ctx: AppContext,
): Promise<{ queued: number; oldestSeconds: number | null }> {
  return repo.countBacklog(ctx.db);
}

export const ADVICE = {
  'zh-CN':
    '您曾与一名确诊病例乘坐同一交通工具。请在观察期结束前减少外出、每日自测体温，如出现发热、咳嗽等症状请及时就医并主动告知乘车经历。',
  en:
    'You rode the same vehicle as a confirmed case. Until the observation period ends, limit outings and check your ' +
    'temperature daily; if you develop fever or cough, see a doctor and mention this ride.',
};

/** Advice to a secondary contact (degree 2): rode with a close contact of a case, not with the case. */
export const SECONDARY_ADVICE = {
  'zh-CN':
    '您曾与一名确诊病例的密切接触者乘坐同一交通工具（次密接）。请在观察期结束前留意自身健康状况、尽量减少聚集，' +
    '如出现发热、咳嗽等症状请及时就医并主动告知乘车经历。',
  en:
    'You rode the same vehicle as a close contact of a confirmed case (a secondary contact). Until the observation ' +
    'period ends, watch your health and avoid crowds; if you develop fever or cough, see a doctor and mention this ' +
    'ride.',
};

const DAY_MS = 86_400_000;

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    caseId: row.case_id,
    personId: row.passenger_id,
    degree: row.degree,
    channel: row.channel,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
  };
}

type TracedPerson = Awaited<ReturnType<typeof caseExposures>>['persons'][number];
type Counts = NotifyResult['byDegree'][1];

/** What a person's mark says: their own degree's contacts only (a merged registration may add another degree's). */
function markOf(ctx: AppContext, p: TracedPerson, caseObserveUntil: Date) {
  const own = p.contacts.filter((c) => c.degree === p.degree);
  const first = own[0]!;
  const last = own[own.length - 1]!;
  return {
    degree: p.degree,
    level: own.some((c) => c.level === 'close') ? ('close' as const) : ('possible' as const),
    carrier_id: first.carrier.id,
    boarded_at: first.contactBoardedAt,
    // Degree 1: the case's infectious window + observation. Degree 2: their own last contact + observation (they
    // met the degree-1 contact after that one's exposure, possibly after the case's window ended).
    observe_until:
      p.degree === 1
        ? caseObserveUntil
        : new Date(last.contactBoardedAt.getTime() + ctx.config.trace.observationDays * DAY_MS),
    yellow: p.degree === 1 || ctx.config.notify.degree2Status === 'yellow',
  };
}

/**
 * Queues one notification per person and degree found (degree 1; with `degree` 2 their secondary contacts too) and
 * marks every registration of the person: degree 1 yellow until infectiousTo + observation days, degree 2 as
 * NOTIFY_DEGREE2_STATUS says (`notice`: the message only). Nobody is told twice: a person notified for this case
 * before (through any registration) at the same degree is skipped, and so is a secondary contact already told as a
 * degree-1 contact. A person told as a secondary contact who later turns out degree 1 (a late offline scan) gets the
 * degree-1 notice too: its advice and colour are stronger. The marks, the notifications, the audit entry and the
 * access-log entries commit together.
 */
export async function notifyCase(
  ctx: AppContext,
  who: Official,
  caseId: string,
  degree: 1 | 2 = 1,
): Promise<NotifyResult> {
  const traced = await caseExposures(ctx, await openCaseFacts(ctx, caseId), degree);
  const caseObserveUntil = new Date(
    traced.case.infectiousTo.getTime() + ctx.config.trace.observationDays * DAY_MS,
  );
  const byDegree: Record<1 | 2, Counts> = {
    1: { exposed: 0, queued: 0, alreadyQueued: 0 },
    2: { exposed: 0, queued: 0, alreadyQueued: 0 },
  };
  for (const p of traced.persons) byDegree[p.degree].exposed++;
  const allIds = traced.persons.flatMap((p) => p.passengerIds);
  await ctx.db.transaction().execute(async (tx) => {
    const told = new Map<string, Set<number>>();
    for (const r of await repo.findNotifiedDegrees(tx, caseId, allIds)) {
      told.set(r.passenger_id, (told.get(r.passenger_id) ?? new Set()).add(r.degree));
    }
    const toldAt = (p: TracedPerson, d: 1 | 2) => p.passengerIds.some((id) => told.get(id)?.has(d));
    // A secondary contact already told as a degree-1 contact gets neither the weaker notice nor the weaker mark.
    const due = traced.persons.filter((p) => !(p.degree === 2 && toldAt(p, 1)));
    await repo.insertMarks(
      tx,
      due.flatMap((p) => {
        const mark = markOf(ctx, p, caseObserveUntil);
        return p.passengerIds.map((passenger_id) => ({ case_id: caseId, passenger_id, ...mark }));
      }),
    );
    const queued = await repo.insertNotifications(
      tx,
      due
        .filter((p) => !toldAt(p, p.degree))
        .map((p) => ({
          id: randomUUID(),
          case_id: caseId,
          passenger_id: p.personId,
          degree: p.degree,
          channel:
            p.registration.kind === 'app' && p.registration.has_openid ? ('app' as const) : ('sms' as const),
          state: 'queued' as const,
        })),
    );
    for (const d of queued) byDegree[d].queued++;
    for (const c of Object.values(byDegree)) c.alreadyQueued = c.exposed - c.queued;
    await appendAudit(tx, {
      ...auditBy(who),
      action: 'case.notify',
      caseId,
      people: traced.persons.length,
      facts: {
        degree,
        queued: queued.length,
        degree1Exposed: byDegree[1].exposed,
        degree1Queued: byDegree[1].queued,
        degree2Exposed: byDegree[2].exposed,
        degree2Queued: byDegree[2].queued,
        degree2Status: degree === 2 ? ctx.config.notify.degree2Status : null,
      },
      detail: `queued=${queued.length}`,
    });
    await recordDataAccess(tx, {
      passengerIds: allIds,
      agency: deliveringAgency(who, ctx.config.authorityName),
      purpose: 'notification',
      caseId,
      at: ctx.now(),
    });
  });
  kickNotifier(ctx);
  const exposed = traced.persons.length;
  const queued = byDegree[1].queued + byDegree[2].queued;
  return { caseId, degree, exposed, queued, alreadyQueued: exposed - queued, byDegree };
}

export async function caseNotifications(
  ctx: AppContext,
  who: Official,
  caseId: string,
): Promise<CaseNotifications> {
  await assertCaseExists(ctx, caseId);
  const rows = await repo.listCaseNotifications(ctx.db, caseId);
  const summary: Record<string, number> = Object.fromEntries(NOTIFICATION_STATES.map((s) => [s, 0]));
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

/**
 * A provider's reason, as the notification's lastError keeps it: officials read it without a reveal grant, and a
 * provider may echo the recipient's number, so runs of 7 or more digits (with spaces or dashes) are cut.
 */
function providerReason(error: string | undefined): string {
  if (!error) return '';
  return `: ${error.replace(/\+?\d(?:[\s-]?\d){6,}/g, '…').trim()}`;
}

/**
 * Applies a gateway's delivery receipts for one channel (POST /v1/delivery-receipts/{channel}) in one statement:
 * a sent message reported `delivered` becomes delivered; one reported `failed` falls back to SMS (a super-app
 * message) or fails (an SMS). Unknown ids and receipts about notifications no longer `sent` change nothing and are
 * counted as ignored, so a gateway may resend a batch safely.
 */
export async function applyDeliveryReceipts(
  ctx: AppContext,
  channel: 'app' | 'sms',
  receipts: readonly DeliveryReceipt[],
): Promise<DeliveryReceiptsResult> {
  const changed = await repo.applyReceipts(
    ctx.db,
    channel,
    receipts.map((r) => ({
      key: repo.providerKey(channel, r.messageId),
      status: r.status,
      error: `${channel === 'app' ? 'app: ' : ''}not delivered${providerReason(r.error)}`,
    })),
  );
  const delivered = changed.filter((c) => c.status === 'delivered').length;
  const undelivered = changed.length - delivered;
  const metrics = metricsOf(ctx);
  const label = channel === 'app' ? 'superapp' : 'sms';
  metrics.delivery(label, 'delivered', delivered);
  metrics.delivery(label, 'undelivered', undelivered);
  if (channel === 'app' && undelivered > 0) {
    metrics.delivery(label, 'fallback', undelivered);
    // Their SMS are due now.
    kickNotifier(ctx);
  } else if (undelivered > 0) metrics.delivery(label, 'failed', undelivered);
  metrics.receiptsIgnored(label, receipts.length - changed.length);
  return { updated: changed.length, ignored: receipts.length - changed.length };
}

export async function myNotifications(ctx: AppContext, passengerId: string): Promise<MyNotification[]> {
  const marks = await repo.findMarksOfPassenger(ctx.db, passengerId);
  return marks.map((m) => ({
    // Stable, but does not disclose the case id to the passenger.
    id: createHash('sha256')
      .update(m.degree === 1 ? `${m.case_id}:${passengerId}` : `${m.case_id}:${passengerId}:${m.degree}`)
      .digest('hex')
      .slice(0, 24),
    kind: m.degree === 1 ? ('exposure' as const) : ('secondary_exposure' as const),
    createdAt: m.created_at.toISOString(),
    exposure: {
      carrier: { id: m.carrier_id, kind: m.kind, plate: m.plate, route: m.route, city: m.city },
      boardedAt: m.boarded_at.toISOString(),
      level: m.level,
    },
    advice: m.degree === 1 ? ADVICE : SECONDARY_ADVICE,
    observeUntil: m.observe_until.toISOString(),
  }));
}
