import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The document an ID number belongs to. Null with an ID number means a resident ID card: rows sealed before
  // document types are left as they are (no rewrite of the table), and their blind index (of the bare number) is
  // what cn_id numbers are still indexed by. Other types are indexed with the type in front.
  await sql`
    alter table passengers add column id_type text
      constraint passengers_id_type_check
      check (id_type in ('cn_id', 'passport', 'hk_mo_permit', 'tw_permit', 'foreign_pr'))`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
