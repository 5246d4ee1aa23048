import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import type { DayEra } from './ride-days.js';

export async function findEras(db: Db): Promise<DayEra[]> {
  const rows = await db.selectFrom('ride_calendar').select(['since', 'time_zone']).orderBy('id').execute();
  return rows.map((r) => ({ sinceMs: r.since ? r.since.getTime() : -Infinity, timeZone: r.time_zone }));
}

export async function insertEra(db: Db, since: Date | null, timeZone: string): Promise<void> {
  await db.insertInto('ride_calendar').values({ since, time_zone: timeZone }).execute();
}

/** Held until the transaction ends: one process at a time records eras. */
export async function lockCalendar(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('ridetrace.ride-calendar'))`.execute(db);
}

/** The latest day that has a partition or a day key (YYYY-MM-DD), if any. */
export async function latestRecordedDay(db: Db): Promise<string | undefined> {
  const r = await sql<{ day: string | null }>`
    select greatest(
      (select max(day)::text from ride_day_keys),
      (select max(to_char(to_date(substr(c.relname, 7), 'YYYYMMDD'), 'YYYY-MM-DD')) from pg_inherits i
         join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
        where p.relname = 'rides' and c.relname ~ '^rides_[0-9]{8}$')) as day`.execute(db);
  return r.rows[0]?.day ?? undefined;
}

/** Rows in a partition; undefined when it does not exist. */
export async function partitionRows(db: Db, table: string): Promise<number | undefined> {
  const exists = await sql<{ ok: boolean }>`select to_regclass(${table}) is not null as ok`.execute(db);
  if (!exists.rows[0]?.ok) return undefined;
  const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

export async function dropPartition(db: Db, table: string): Promise<void> {
  await sql`drop table ${sql.table(table)}`.execute(db);
}
