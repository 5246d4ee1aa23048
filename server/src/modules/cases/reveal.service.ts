import type { CreateRevealRequestBody, RevealRequest, RevealRequestState } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { Official } from '../../actors.js';
import type { AppContext } from '../../context.js';
import { openOfficialText, seal } from '../../crypto/aead.js';
import { AppError } from '../../errors.js';
import { parseCursor } from '../../paging.js';
import { appendAudit, auditBy } from '../audit/audit.service.js';
import { findCase } from './cases.repository.js';
import * as repo from './reveal.repository.js';

/** A request's state as the API shows it: pending and approved ones lapse at expires_at. */
function stateOf(row: repo.RevealRow, now: Date): RevealRequestState {
  if (row.state === 'refused') return 'refused';
  return row.expires_at.getTime() <= now.getTime() ? 'expired' : row.state;
}

const reasonAad = (id: string) => `reveal/reason/${id}`;
const noteAad = (id: string) => `reveal/note/${id}`;

function toRevealRequest(ctx: AppContext, row: repo.RevealRow): RevealRequest {
  const key = ctx.keyring.caseKey();
  return {
    id: row.id,
    caseId: row.case_id,
    caseNumber: row.case_number,
    requestedBy: {
      id: row.requested_by,
      kind: row.requester_kind,
      name: row.requester_name,
      agency: row.requester_agency,
    },
    reason: openOfficialText(key, row.reason_sealed, reasonAad(row.id)),
    requestedAt: row.requested_at.toISOString(),
    state: stateOf(row, ctx.now()),
    selfGranted: row.self_granted,
    decidedBy:
      row.decided_by === null
        ? null
        : {
            id: row.decided_by,
            kind: row.decider_kind ?? 'person',
            name: row.decider_name ?? row.decided_by,
            agency: row.decider_agency,
          },
    decidedAt: row.decided_at?.toISOString() ?? null,
    note: row.note_sealed ? openOfficialText(key, row.note_sealed, noteAad(row.id)) : null,
    expiresAt: row.expires_at.toISOString(),
  };
}

const grantMs = (ctx: AppContext) => ctx.config.reveal.grantHours * 3_600_000;

/**
 * Asks for unmasked identities of one case. With `REVEAL_APPROVAL=single` the requester's own request is the grant;
 * otherwise it waits for another official. A live grant or pending request of the same official is answered again
 * (`created: false`) instead of piling up requests.
 */
export async function requestReveal(
  ctx: AppContext,
  who: Official,
  caseId: string,
  body: CreateRevealRequestBody,
): Promise<{ created: boolean; request: RevealRequest }> {
  return ctx.db.transaction().execute(async (tx) => {
    const c = await findCase(tx, caseId);
    if (!c) throw new AppError('case_not_found');
    if (c.status !== 'open')
      throw new AppError('case_closed', 'Identities of a closed case are not revealed.');
    const now = ctx.now();
    const live = (await repo.latestRevealRequests(tx, caseId, who.id)).find((r) => {
      const s = stateOf(r, now);
      return s === 'approved' || s === 'pending';
    });
    if (live) return { created: false, request: toRevealRequest(ctx, live) };

    const id = randomUUID();
    const single = ctx.config.reveal.approval === 'single';
    const actor = { kind: who.kind, name: who.name, agency: who.agency };
    await repo.insertRevealRequest(tx, {
      id,
      case_id: caseId,
      requested_by: who.id,
      requester_kind: actor.kind,
      requester_name: actor.name,
      requester_agency: actor.agency,
      reason_sealed: seal(ctx.keyring.caseKey(), body.reason, reasonAad(id)),
      requested_at: now,
      state: single ? 'approved' : 'pending',
      self_granted: single,
      ...(single
        ? {
            decided_by: who.id,
            decider_kind: actor.kind,
            decider_name: actor.name,
            decider_agency: actor.agency,
            decided_at: now,
          }
        : {}),
      expires_at: new Date(now.getTime() + grantMs(ctx)),
    });
    await appendAudit(tx, {
      ...auditBy(who),
      action: single ? 'reveal.grant' : 'reveal.request',
      caseId,
      people: 0,
      detail: body.reason,
      facts: { request: id, approval: ctx.config.reveal.approval },
    });
    const row = await repo.findRevealRequest(tx, id);
    return { created: true, request: toRevealRequest(ctx, row!) };
  });
}

/** Approves or refuses another official's pending request; only a person may decide. */
export async function decideReveal(
  ctx: AppContext,
  who: Official,
  id: string,
  decision: 'approve' | 'refuse',
  note: string | undefined,
): Promise<RevealRequest> {
  if (who.kind !== 'person')
    throw new AppError('forbidden', 'Only a signed-in official person may decide a reveal request.');
  return ctx.db.transaction().execute(async (tx) => {
    const row = await repo.findRevealRequest(tx, id, true);
    if (!row) throw new AppError('reveal_request_not_found');
    if (row.requested_by === who.id) throw new AppError('approval_by_requester');
    if (row.state !== 'pending') throw new AppError('reveal_request_decided');
    const now = ctx.now();
    if (row.expires_at.getTime() <= now.getTime()) throw new AppError('reveal_request_expired');
    if (decision === 'approve' && row.case_status !== 'open')
      throw new AppError('case_closed', 'Identities of a closed case are not revealed.');
    await repo.decideRevealRequest(tx, id, {
      state: decision === 'approve' ? 'approved' : 'refused',
      decided_by: who.id,
      decider_kind: who.kind,
      decider_name: who.name,
      decider_agency: who.agency,
      decided_at: now,
      note_sealed: note === undefined ? null : seal(ctx.keyring.caseKey(), note, noteAad(id)),
      // The grant runs from the approval, so a request approved late still gets its full time.
      expires_at: decision === 'approve' ? new Date(now.getTime() + grantMs(ctx)) : row.expires_at,
    });
    await appendAudit(tx, {
      ...auditBy(who),
      action: decision === 'approve' ? 'reveal.approve' : 'reveal.refuse',
      caseId: row.case_id,
      people: 0,
      detail: note ?? null,
      facts: { request: id, requestedBy: row.requested_by },
    });
    return toRevealRequest(ctx, (await repo.findRevealRequest(tx, id))!);
  });
}

export async function getRevealRequest(
  ctx: AppContext,
  who: Official,
  id: string,
  canApprove: boolean,
): Promise<RevealRequest> {
  const row = await repo.findRevealRequest(ctx.db, id);
  // Officials who cannot approve see only their own requests; others' are "not found", not "forbidden".
  if (!row || (!canApprove && row.requested_by !== who.id)) throw new AppError('reveal_request_not_found');
  return toRevealRequest(ctx, row);
}

export async function listRevealRequests(
  ctx: AppContext,
  who: Official,
  q: {
    state?: RevealRequestState | undefined;
    caseId?: string | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  },
  canApprove: boolean,
) {
  const limit = q.limit ?? 50;
  const offset = parseCursor(q.cursor) ?? 0;
  const rows = await repo.listRevealRequests(ctx.db, {
    state: q.state,
    caseId: q.caseId,
    requestedBy: canApprove ? undefined : who.id,
    now: ctx.now(),
    offset,
    limit: limit + 1,
  });
  return {
    items: rows.slice(0, limit).map((r) => toRevealRequest(ctx, r)),
    nextCursor: rows.length > limit ? String(offset + limit) : null,
  };
}

/**
 * Whether a read shows unmasked identities: only when asked for, by an official holding trace:reveal with a live
 * grant for this case. Returns the grant's request id for the audit entry; throws the reason otherwise.
 */
export async function revealGrant(
  ctx: AppContext,
  who: Official,
  caseId: string,
  asked: boolean | undefined,
): Promise<string | null> {
  if (!asked) return null;
  if (!who.reveal) throw new AppError('forbidden', 'Unmasked identities need the trace:reveal scope.');
  const now = ctx.now();
  const rows = await repo.latestRevealRequests(ctx.db, caseId, who.id);
  const grant = rows.find((r) => stateOf(r, now) === 'approved');
  // Closing a case ends its grants: its identities are no longer needed for tracing.
  if (grant?.case_status === 'closed')
    throw new AppError('case_closed', 'Identities of a closed case are not revealed.');
  if (grant) return grant.id;
  const latest = rows[0];
  if (!latest && !(await findCase(ctx.db, caseId))) throw new AppError('case_not_found');
  if (latest?.state === 'refused') throw new AppError('reveal_request_refused');
  if (latest?.state === 'approved') throw new AppError('reveal_grant_expired');
  if (latest && stateOf(latest, now) === 'pending')
    throw new AppError('reveal_grant_required', 'Your reveal request for this case is waiting for approval.');
  throw new AppError('reveal_grant_required');
}
