import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Case-number search is a case-insensitive prefix match (`lower(case_number) like 'sz-2026%'`): text_pattern_ops
  // lets a btree serve LIKE prefixes whatever the database collation.
  await sql`create index cases_case_number on cases (lower(case_number) text_pattern_ops)`.execute(db);

  // Audit log filters (GET /v1/audit?actor=…&action=…&from=…&to=…), each read in seq order a page at a time. The log
  // is append-only (its trigger refuses UPDATE and DELETE), which an index does not touch.
  await sql`create index audit_log_actor on audit_log (actor, seq)`.execute(db);
  await sql`create index audit_log_action on audit_log (action, seq)`.execute(db);
  await sql`create index audit_log_at on audit_log (at)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
