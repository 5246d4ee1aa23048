import { sql } from 'kysely';
import { poolOf, type Db } from '../../db/index.js';

export interface NewRide {
  id: string;
  /** Checked (a deleted account's token cannot register rides), never stored: rides hold only the blind index. */
  passengerId: string;
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
 * One statement, one transaction, for one ride or a batch of concurrent ones (group commit): checks each
 * carrier and code generation and that the passenger's account was not deleted, claims each idempotency key,
 * inserts the rides, and flags a ride when the same passenger rode another carrier within the window. Rides
 * missing from the result failed a check or found their request key already used; the caller finds out which.
 * Request keys must be unique in a batch.
 */
export async function insertRides(db: Db, rides: NewRide[]): Promise<InsertedRide[]> {
  if (rides.length === 0) return [];
  const col = <T>(f: (r: NewRide) => T) => rides.map(f);
  const owners = rides.flatMap((r) => r.neighbourKeys.map(() => r.id));
  const neighbours = rides.flatMap((r) => r.neighbourKeys);
  // Constant bounds of the carrier-switch lookup: with them Postgres prunes the ride partitions at plan time
  // (otherwise it plans the lookup over every day's partition: 1.3–1.6 ms per statement with 34 of them).
  const lo = new Date(Math.min(...rides.map((r) => r.boardedAt.getTime() - r.switchWindowSeconds * 1000)));
  const hi = new Date(Math.max(...rides.map((r) => r.boardedAt.getTime() + r.switchWindowSeconds * 1000)));
  const query = sql<InsertedRide>`
    with input as (
      select * from unnest(
        ${col((r) => r.id)}::uuid[], ${col((r) => r.carrierId)}::int[], ${col((r) => r.generation)}::int[],
        ${col((r) => r.boardedAt)}::timestamptz[], ${col((r) => r.passengerKey)}::bytea[],
        ${col((r) => r.passengerSealed)}::bytea[], ${col((r) => r.source)}::text[], ${col((r) => r.late)}::bool[],
        ${col((r) => r.receivedAt)}::timestamptz[], ${col((r) => r.registeredBy)}::text[],
        ${col((r) => r.requestKey)}::bytea[], ${col((r) => r.switchWindowSeconds)}::int[],
        ${col((r) => r.passengerId)}::uuid[]
      ) as t(id, carrier_id, generation, boarded_at, passenger_key, passenger_sealed, source, late, received_at,
             registered_by, request_key, switch_window, passenger_id)
    ), valid as (
      select i.*, c.kind, c.plate, c.route, c.city
      from input i join carriers c on c.id = i.carrier_id
      where c.retired_at is null and (i.generation is null or c.code_generation = i.generation)
        and exists (select 1 from passengers p where p.id = i.passenger_id and p.deleted_at is null)
    ), req as (
      insert into ride_requests (request_key, ride_id, carrier_id, boarded_at)
      select request_key, id, carrier_id, boarded_at from valid
      on conflict (request_key) do nothing
      returning ride_id
    ), ins as (
      insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, late, flagged, received_at, registered_by)
      select v.id, v.carrier_id, v.boarded_at, v.passenger_key, v.passenger_sealed, v.source, v.late,
        exists (
          select 1 from unnest(${owners}::uuid[], ${neighbours}::bytea[]) as n(owner, key)
          join rides p on p.passenger_key = n.key
          where n.owner = v.id
            and p.boarded_at between v.boarded_at - make_interval(secs => v.switch_window)
                                 and v.boarded_at + make_interval(secs => v.switch_window)
            and p.boarded_at between ${lo}::timestamptz and ${hi}::timestamptz
            and p.carrier_id <> v.carrier_id
        ),
        v.received_at, v.registered_by
      from valid v join req on req.ride_id = v.id
      returning id, carrier_id, boarded_at, received_at, source, late, flagged
    )
    select ins.*, v.kind, v.plate, v.route, v.city from ins join valid v on v.id = ins.id
  `;
  // Outside a transaction: a named prepared statement (the text is the same for every batch size: one array
  // parameter per column), so each connection parses it once and Postgres may reuse the plan.
  const pool = poolOf(db);
  if (pool) {
    const { sql: text, parameters } = query.compile(db);
    const r = await pool.query<InsertedRide>({
      name: 'ridetrace_insert_rides',
      text,
      values: [...parameters],
    });
    return r.rows;
  }
  return (await query.execute(db)).rows;
}

export async function findRideRequest(db: Db, requestKey: Buffer) {
  return db.selectFrom('ride_requests').selectAll().where('request_key', '=', requestKey).executeTakeFirst();
}

/** The columns of InsertedRide: a ride with its carrier. */
const RIDE_WITH_CARRIER = [
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
] as const;

export async function findRideWithCarrier(db: Db, id: string, carrierId: number, boardedAt: Date) {
  return db
    .selectFrom('rides')
    .innerJoin('carriers', 'carriers.id', 'rides.carrier_id')
    .select(RIDE_WITH_CARRIER)
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
    .select(RIDE_WITH_CARRIER)
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
