import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import type { AuditLogTable } from '../../db/tables.js';
import type { Insertable } from 'kysely';

/** Serialises appends to the chain for the rest of the caller's transaction. */
export async function lockChain(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('ridetrace.audit_log'))`.execute(db);
}

export async function lastEntry(db: Db) {
  return db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function insertEntry(db: Db, row: Insertable<AuditLogTable>) {
  return db.insertInto('audit_log').values(row).returningAll().executeTakeFirstOrThrow();
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
