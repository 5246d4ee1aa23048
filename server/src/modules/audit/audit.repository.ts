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

export async function listEntries(
  db: Db,
  f: { caseId?: string | undefined; afterSeq?: number; limit: number },
) {
  let q = db.selectFrom('audit_log').selectAll().orderBy('seq').limit(f.limit);
  if (f.caseId) q = q.where('case_id', '=', f.caseId);
  if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq);
  return q.execute();
}
