import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import type { AuditLogTable } from '../../db/tables.js';

/**
 * Appends one entry to the hash chain (`audit_append`, migration 0005): chain lock, last entry and insert in one
 * statement. Inside a transaction the entry commits with it; outside, it is its own transaction.
 */
export async function appendEntry(
  db: Db,
  e: Pick<AuditLogTable, 'actor' | 'action' | 'case_id' | 'people' | 'request_id' | 'detail'>,
): Promise<void> {
  await sql`select audit_append(${e.actor}, ${e.action}, ${e.case_id}::uuid, ${e.people}::int, ${e.request_id},
    ${e.detail})`.execute(db);
}

export interface EntryFilter {
  caseId?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  /** At or after. */
  from?: Date | undefined;
  /** Before. */
  to?: Date | undefined;
  afterSeq?: number;
  /** Below this seq (newest first: the next page). */
  beforeSeq?: number;
  /** At most this seq (a verification stops at the head it began with). */
  toSeq?: number;
  /** Newest first. */
  descending?: boolean;
  limit: number;
}

/** Entries in seq order (or newest first); each filter has its index (audit_log_case, 0002; actor, action and at, 0025). */
export async function listEntries(db: Db, f: EntryFilter) {
  let q = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('seq', f.descending ? 'desc' : 'asc')
    .limit(f.limit);
  if (f.caseId) q = q.where('case_id', '=', f.caseId);
  if (f.actor) q = q.where('actor', '=', f.actor);
  if (f.action) q = q.where('action', '=', f.action);
  if (f.from) q = q.where('at', '>=', f.from);
  if (f.to) q = q.where('at', '<', f.to);
  if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq);
  if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq);
  if (f.toSeq !== undefined) q = q.where('seq', '<=', f.toSeq);
  return q.execute();
}

/** The last entry of the chain, or undefined when it is empty. */
export async function findHead(db: Db) {
  return db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
}

export async function findEntry(db: Db, seq: number) {
  return db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirst();
}
