import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // When the health authority read a passenger's data, which agency and why, shown to that passenger alone. No
  // official and no case number: the audit log says who did what. case_id stays (never shown) so that purging a case
  // drops its entries with it.
  // One entry per passenger, case, purpose and UTC day (the first read): officials page through a case's exposures
  // many times a day, and the passenger learns nothing more from every page.
  await sql`
    create table passenger_access (
      id bigint generated always as identity primary key,
      passenger_id uuid not null references passengers (id) on delete cascade,
      at timestamptz not null,
      day date not null generated always as ((at at time zone 'UTC')::date) stored,
      agency text not null check (length(agency) between 1 and 200),
      purpose text not null check (purpose in ('case_investigation', 'contact_tracing', 'notification')),
      case_id uuid references cases (id) on delete cascade
    )`.execute(db);
  await sql`
    create unique index passenger_access_once_a_day
      on passenger_access (passenger_id, case_id, purpose, day) nulls not distinct`.execute(db);
  await sql`create index passenger_access_passenger on passenger_access (passenger_id, at desc, id desc)`.execute(
    db,
  );
  // The case purge deletes by case_id: without an index each case deleted would scan the table.
  await sql`create index passenger_access_case on passenger_access (case_id) where case_id is not null`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
