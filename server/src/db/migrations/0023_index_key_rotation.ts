import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The blind-index key of identities rotates (`pnpm cli keys rotate-index`). Generation 1 is the system key
  // `blind-index`, a rotation adds `blind-index-2`, `-3`, …. Every server reads this row (re-read when its copy is
  // older than INDEX_KEYS_MAX_AGE_SECONDS): new identity indexes are written under `generation`, lookups match it
  // and, while a rotation runs, `other_generation` too (the next one before the switch, the previous one after it).
  await sql`
    create table index_key_state (
      id boolean primary key default true check (id),
      generation smallint not null default 1 check (generation >= 1),
      other_generation smallint check (other_generation >= 1 and other_generation <> generation),
      changed_at timestamptz not null default now()
    )`.execute(db);
  await sql`insert into index_key_state default values`.execute(db);

  // The generation every identity index of the row is under, or an older one (never a newer one): writers set it to
  // the generation they wrote with, or keep the lower one when they rewrite only some of the row's indexes. A
  // rotation recomputes the rows below its new generation; every index stored so far is of generation 1.
  await sql`alter table passengers add column index_generation smallint not null default 1`.execute(db);
  await sql`alter table phone_otps add column index_generation smallint not null default 1`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
