import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import { ridePartitionName } from '../../db/partitions.js';

/** Ride days before `cutoffDay` that still have a day key or a partition. */
export async function findDaysBefore(db: Db, cutoffDay: string): Promise<string[]> {
  const r = await sql<{ day: string }>`
    select day::text as day from ride_day_keys where day < ${cutoffDay}::date
    union
    select to_char(to_date(substr(c.relname, 7), 'YYYYMMDD'), 'YYYY-MM-DD') as day
    from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname = 'rides' and c.relname ~ '^rides_[0-9]{8}$' and to_date(substr(c.relname, 7), 'YYYYMMDD') < ${cutoffDay}::date
    order by day`.execute(db);
  return r.rows.map((x) => x.day);
}

export async function partitionExists(db: Db, day: string): Promise<boolean> {
  const r = await sql<{
    n: number;
  }>`select count(*)::int as n from pg_class where relname = ${ridePartitionName(day)} and relkind = 'r'`.execute(
    db,
  );
  return (r.rows[0]?.n ?? 0) > 0;
}

export async function countPartitionRows(db: Db, day: string): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.table(ridePartitionName(day))}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

export async function dayKeyExists(db: Db, day: string): Promise<boolean> {
  const row = await db.selectFrom('ride_day_keys').select('day').where('day', '=', day).executeTakeFirst();
  return row !== undefined;
}

/** Crypto-shredding: without the day key, that day's sealed passenger ids and blind indexes are noise. */
export async function destroyDayKey(db: Db, day: string): Promise<void> {
  await db.deleteFrom('ride_day_keys').where('day', '=', day).execute();
}

export async function dropPartition(db: Db, day: string): Promise<void> {
  await sql`drop table if exists ${sql.table(ridePartitionName(day))}`.execute(db);
}

export async function deleteRideRequestsBefore(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('ride_requests').where('boarded_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** One purge at a time across all server processes and CLIs. */
export async function tryPurgeLock(db: Db): Promise<boolean> {
  const r = await sql<{
    ok: boolean;
  }>`select pg_try_advisory_xact_lock(hashtext('ridetrace.purge')) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}
