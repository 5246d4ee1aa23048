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
  // Bounds of the carrier-switch lookup over the whole batch: they prune the ride partitions when the plan starts.
  const lo = new Date(Math.min(...rides.map((r) => r.boardedAt.getTime() - r.switchWindowSeconds * 1000)));
  const hi = new Date(Math.max(...rides.map((r) => r.boardedAt.getTime() + r.switchWindowSeconds * 1000)));
  const query = sql<InsertedRide>`
    select * from insert_rides(
      ${col((r) => r.id)}::uuid[], ${col((r) => r.carrierId)}::int[], ${col((r) => r.generation)}::int[],
      ${col((r) => r.boardedAt)}::timestamptz[], ${col((r) => r.passengerKey)}::bytea[],
      ${col((r) => r.passengerSealed)}::bytea[], ${col((r) => r.source)}::text[], ${col((r) => r.late)}::bool[],
      ${col((r) => r.receivedAt)}::timestamptz[], ${col((r) => r.registeredBy)}::text[],
      ${col((r) => r.requestKey)}::bytea[], ${col((r) => r.switchWindowSeconds)}::int[],
      ${col((r) => r.passengerId)}::uuid[], ${owners}::uuid[], ${neighbours}::bytea[],
      ${lo}::timestamptz, ${hi}::timestamptz
    )
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
