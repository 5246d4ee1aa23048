import type { AuditAction, AuditEntry } from '@ridetrace/shared';
import type { Official, StaffClient } from '../../actors.js';
import { createHash } from 'node:crypto';
import type { Db } from '../../db/index.js';
import type { AuditLogTable } from '../../db/tables.js';
import type { Selectable } from 'kysely';
import { AppError } from '../../errors.js';
import { parseCursor } from '../../paging.js';
import * as repo from './audit.repository.js';

export const GENESIS_HASH = '0'.repeat(64);

/** Who acted, as the entry keeps them: a snapshot, so renaming or disabling an account later changes nothing. */
export interface ActorSnapshot {
  kind: 'person' | 'system';
  name: string;
  agency: string | null;
}

export interface AuditInput {
  actor: string;
  action: AuditAction;
  caseId: string | null;
  /** How many people's data the action returned or changed (counts only, never the data). */
  people: number;
  requestId: string | null;
  detail?: string | null;
  by?: ActorSnapshot;
  /** What was asked and returned, as counts and parameters (kept in `detail` as JSON with `by`). */
  facts?: Record<string, string | number | boolean | null>;
}

/** The actor fields of an entry for an official's request. */
export function auditBy(who: Official): Pick<AuditInput, 'actor' | 'requestId' | 'by'> {
  return {
    actor: who.id,
    requestId: who.requestId,
    by: { kind: who.kind, name: who.name, agency: who.agency },
  };
}

/** The actor fields of an entry for a staff client's request: a client (kind system) of its operator. */
export function auditByStaff(who: StaffClient): Pick<AuditInput, 'actor' | 'requestId' | 'by'> {
  return {
    actor: who.id,
    requestId: who.requestId,
    by: { kind: 'system', name: who.name, agency: who.operatorId },
  };
}

/** An audit entry as its hash covers it: every column but the hash itself. */
type Hashable = Omit<Selectable<AuditLogTable>, 'hash'>;

/** The entry hash covers every field and the previous hash; JSON keeps field boundaries unambiguous. */
export function entryHash(e: Hashable): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at.toISOString(),
    e.actor,
    e.action,
    e.case_id,
    e.people,
    e.request_id,
    e.detail,
    e.prev_hash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Appends one entry to the hash chain, in the caller's transaction when given one (the audited action and its
 * entry commit together), otherwise on its own. Appends are serialised by a transaction-scoped advisory lock; the
 * database computes the same `entryHash` (migration 0005), so an append is one round trip.
 */
export async function appendAudit(db: Db, input: AuditInput): Promise<void> {
  await repo.appendEntry(db, {
    actor: input.actor,
    action: input.action,
    case_id: input.caseId,
    people: input.people,
    request_id: input.requestId,
    detail:
      input.by || input.facts
        ? JSON.stringify({ by: input.by ?? null, ...input.facts, note: input.detail ?? null })
        : (input.detail ?? null),
  });
}

/** The actor snapshot of an entry's detail (entries of system jobs and older entries have none). */
function snapshotOf(detail: string | null): ActorSnapshot | null {
  if (!detail?.startsWith('{')) return null;
  try {
    const by = (JSON.parse(detail) as { by?: ActorSnapshot | null }).by;
    return by && typeof by.name === 'string' ? by : null;
  } catch {
    return null;
  }
}

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  const by = snapshotOf(row.detail);
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    actor: row.actor,
    actorKind: by?.kind ?? null,
    actorName: by?.name ?? null,
    actorAgency: by?.agency ?? null,
    action: row.action,
    caseId: row.case_id,
    people: row.people,
    requestId: row.request_id,
    detail: row.detail,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** A page of the audit log; reading it is itself an entry (who looked at the record of who looked). */
export async function listAudit(
  db: Db,
  who: Official,
  q: {
    caseId?: string | undefined;
    actor?: string | undefined;
    action?: AuditAction | undefined;
    from?: string | undefined;
    to?: string | undefined;
    order?: 'asc' | 'desc' | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  },
) {
  const limit = q.limit ?? 50;
  const descending = q.order === 'desc';
  const afterSeq = parseCursor(q.cursor, Number.MAX_SAFE_INTEGER);
  const from = q.from === undefined ? undefined : new Date(q.from);
  const to = q.to === undefined ? undefined : new Date(q.to);
  if (from && to && from > to) throw new AppError('validation_failed', '`from` is after `to`');
  const rows = await repo.listEntries(db, {
    caseId: q.caseId,
    actor: q.actor,
    action: q.action,
    from,
    to,
    // The cursor is the last seq of the page before, in either direction.
    ...(afterSeq !== undefined ? (descending ? { beforeSeq: afterSeq } : { afterSeq }) : {}),
    descending,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  await appendAudit(db, {
    ...auditBy(who),
    action: 'audit.read',
    // Null: a case's own trail lists what was done to its data, not who read the trail.
    caseId: null,
    people: 0,
    facts: {
      caseId: q.caseId ?? null,
      actor: q.actor ?? null,
      action: q.action ?? null,
      from: q.from ?? null,
      to: q.to ?? null,
      order: descending ? 'desc' : 'asc',
      returned: page.length,
      after: afterSeq ?? null,
    },
  });
  return {
    items: page.map(toEntry),
    nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
  };
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  /** The first entry whose hash or link does not match. */
  firstBroken: { seq: number; reason: 'hash' | 'link' | 'sequence' } | null;
}

/**
 * Recomputes the chain in order, in batches: the whole chain, or (for a bounded check) the entries after `afterSeq`
 * up to `toSeq`, the first of them linked to `prevHash`.
 */
export async function verifyAuditChain(
  db: Db,
  range: { afterSeq: number; prevHash: string; toSeq?: number } = { afterSeq: 0, prevHash: GENESIS_HASH },
): Promise<VerifyReport> {
  let prevHash = range.prevHash;
  let expectedSeq = range.afterSeq + 1;
  let count = 0;
  let after = range.afterSeq;
  for (;;) {
    const rows = await repo.listEntries(db, {
      afterSeq: after,
      ...(range.toSeq !== undefined ? { toSeq: range.toSeq } : {}),
      limit: 5000,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      count++;
      if (row.seq !== expectedSeq)
        return { ok: false, entries: count, firstBroken: { seq: row.seq, reason: 'sequence' } };
      if (row.prev_hash !== prevHash)
        return { ok: false, entries: count, firstBroken: { seq: row.seq, reason: 'link' } };
      if (entryHash(row) !== row.hash)
        return { ok: false, entries: count, firstBroken: { seq: row.seq, reason: 'hash' } };
      prevHash = row.hash;
      expectedSeq++;
      after = row.seq;
    }
  }
  return { ok: true, entries: count, firstBroken: null };
}
