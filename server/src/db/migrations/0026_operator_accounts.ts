import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Console accounts of transport operators (role `operator`): each manages one operator's fleet, named here.
  await sql`alter table officials add column operator_id text references operators (id)`.execute(db);
  await sql`alter table officials drop constraint officials_roles_check`.execute(db);
  await sql`
    alter table officials add constraint officials_roles_check check (cardinality(roles) > 0 and
      roles <@ array['tracer', 'notifier', 'supervisor', 'auditor', 'admin', 'operator'])`.execute(db);
  await sql`
    alter table officials add constraint officials_operator_check
      check (('operator' = any (roles)) = (operator_id is not null))`.execute(db);

  // The console's plate search: a case-insensitive prefix within one operator's fleet.
  await sql`create index carriers_operator_plate_prefix on carriers (operator_id, lower(plate) text_pattern_ops)`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
