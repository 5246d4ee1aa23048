import { sql } from 'kysely';
import type { Db } from '../../db/index.js';

export interface NewRide {
  id: string;
  carrierId: number;
  generation: number | null; // null: any generation (staff registration)
  boardedAt: Date;
  passengerKey: Buffer;
  passengerSealed: Buffer;
  source: 'scan' | 'offline' | 'manual';
  late: boolean;
  receivedAt: Date;
  registeredBy: string | null;
  requestKey: Buffer;
  /** Blind indexes of the same passenger on the days around boardedAt, for the carrier-switch flag. */
  neighbourKeys: Buffer[];
  switchWindowSeconds: number;
}

export interface InsertedRide {
  id: string;
  carrier_id: number;
  boarded_at: Date;
  received_at: Date;
  source: 'scan' | 'offline' | 'manual';
  late: boolean;
  flagged: boolean;
  kind: 'bus' | 'taxi' | 'metro' | 'ferry';
  plate: string;
  route: string | null;
  city: string;
}

/**
 * One statement, one transaction: checks the carrier and code generation, claims the idempotency key,
 * inserts the ride, and flags it when the same passenger rode another carrier within the window.
 * Returns no row when the carrier check fails or the request key was already used; the caller finds out which.
 */
export async function insertRide(db: Db, r: NewRide): Promise<InsertedRide | undefined> {
  const window = `${r.switchWindowSeconds} seconds`;
  const result = await sql<InsertedRide>`
    with c as (
      select id, kind, plate, route, city from carriers
      where id = ${r.carrierId} and retired_at is null
        and (${r.generation}::int is null or code_generation = ${r.generation}::int)
    ), req as (
      insert into ride_requests (request_key, ride_id, carrier_id, boarded_at)
      select ${r.requestKey}, ${r.id}::uuid, c.id, ${r.boardedAt}::timestamptz from c
      on conflict (request_key) do nothing
      returning ride_id
    ), ins as (
      insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, late, flagged, received_at, registered_by)
      select ${r.id}::uuid, c.id, ${r.boardedAt}::timestamptz, ${r.passengerKey}, ${r.passengerSealed}, ${r.source}, ${r.late},
        exists (
          select 1 from rides p
          where p.passenger_key = any(${r.neighbourKeys}::bytea[])
            and p.boarded_at between ${r.boardedAt}::timestamptz - ${window}::interval
                                 and ${r.boardedAt}::timestamptz + ${window}::interval
            and p.carrier_id <> c.id
        ),
        ${r.receivedAt}::timestamptz, ${r.registeredBy}
      from c cross join req
      returning id, carrier_id, boarded_at, received_at, source, late, flagged
    )
    select ins.*, c.kind, c.plate, c.route, c.city from ins cross join c
  `.execute(db);
  return result.rows[0];
}

export async function findRideRequest(db: Db, requestKey: Buffer) {
  return db.selectFrom('ride_requests').selectAll().where('request_key', '=', requestKey).executeTakeFirst();
}

export async function findRideWithCarrier(db: Db, id: string, carrierId: number, boardedAt: Date) {
  return db
    .selectFrom('rides')
    .innerJoin('carriers', 'carriers.id', 'rides.carrier_id')
    .select([
      'rides.id',
      'rides.carrier_id',
      'rides.boarded_at',
      'rides.received_at',
      'rides.source',
      'rides.late',
      'rides.flagged',
      'carriers.kind',
      'carriers.plate',
      'carriers.route',
      'carriers.city',
    ])
    .where('rides.carrier_id', '=', carrierId)
    .where('rides.boarded_at', '=', boardedAt)
    .where('rides.id', '=', id)
    .executeTakeFirst() as Promise<InsertedRide | undefined>;
}

/** Rides of one passenger, found through their per-day blind indexes. */
export async function findRidesByPassengerKeys(db: Db, keys: Buffer[], since: Date, limit: number) {
  if (keys.length === 0) return [];
  return db
    .selectFrom('rides')
    .innerJoin('carriers', 'carriers.id', 'rides.carrier_id')
    .select([
      'rides.id',
      'rides.carrier_id',
      'rides.boarded_at',
      'rides.received_at',
      'rides.source',
      'rides.late',
      'rides.flagged',
      'carriers.kind',
      'carriers.plate',
      'carriers.route',
      'carriers.city',
    ])
    .where('rides.passenger_key', 'in', keys)
    .where('rides.boarded_at', '>=', since)
    .orderBy('rides.boarded_at', 'desc')
    .limit(limit)
    .execute() as Promise<InsertedRide[]>;
}

export function partitionName(day: string): string {
  return `rides_${day.replaceAll('-', '')}`;
}

/** Creates the partition of one UTC day if missing (safe under concurrency). */
export async function ensureRidePartition(db: Db, day: string): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`bad day ${day}`);
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  const to = next.toISOString().slice(0, 10);
  try {
    await sql
      .raw(
        `create table if not exists ${partitionName(day)} partition of rides ` +
          `for values from ('${day} 00:00:00+00') to ('${to} 00:00:00+00')`,
      )
      .execute(db);
  } catch (err) {
    // Another process created it at the same moment.
    const code = (err as { code?: string }).code;
    if (code !== '42P07' && code !== '23505') throw err;
  }
}

export async function listRidePartitions(db: Db): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname = 'rides' order by c.relname`.execute(db);
  return r.rows.map((x) => x.name);
}
