import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Ride days (day keys, partitions, purge) are calendar days of the deployment's TIME_ZONE. Each row starts an era:
  // from `since` (a midnight of its zone; null: the beginning) on, days are counted in `time_zone`. A database that
  // already holds rides counted them in UTC: it gets that era, and the server adds the configured zone's era at the
  // first midnight after its last existing day, so no day is cut twice.
  await sql`
    create table ride_calendar (
      id smallint generated always as identity primary key,
      since timestamptz unique,
      time_zone text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    insert into ride_calendar (since, time_zone)
    select null, 'UTC'
    where exists (select 1 from ride_day_keys)
       or exists (select 1 from pg_inherits i join pg_class p on p.oid = i.inhparent where p.relname = 'rides')`.execute(
    db,
  );
}
