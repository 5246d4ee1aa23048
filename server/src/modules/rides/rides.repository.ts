import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import { ridePartitionName } from '../../db/partitions.js';
import { byteaArray, plainArray, queryNamed, textArray } from '../../db/params.js';

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
  /**
   * Blind indexes of the same passenger on the days around boardedAt (covering the wider of the two windows),
   * for the carrier-switch flag and the repeat check.
   */
  neighbourKeys: Buffer[];
  switchWindowSeconds: number;
  /** A ride of the same passenger on the same carrier this close is a repeat scan: not written again. */
  repeatWindowSeconds: number;
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

/** A scan that repeated an earlier ride of the same passenger and carrier: `id` is the ride not written. */
export interface RepeatedRide {
  id: string;
  repeatOf: { id: string; carrierId: number; boardedAt: Date };
}

export type WrittenRide = InsertedRide | RepeatedRide;

export function isRepeat(r: WrittenRide): r is RepeatedRide {
  return 'repeatOf' in r;
}

/**
 * One statement, one transaction, for one ride or a batch of concurrent ones (group commit): checks each
 * carrier and code generation and that the passenger's account was not deleted, claims each idempotency key,
 * inserts the rides, and flags a ride when the same passenger rode another carrier within the window. A ride
 * of the same passenger and carrier within the repeat window comes back as a RepeatedRide and is not written
 * (its request key then names the earlier ride). Rides missing from the result failed a check or found their
 * request key already used; the caller finds out which. Request keys must be unique in a batch, and so must a
 * passenger's rides on one carrier (the batcher defers the second to the next batch).
 */
export async function insertRides(db: Db, rides: NewRide[]): Promise<WrittenRide[]> {
  if (rides.length === 0) return [];
  const values = insertRidesParameters(rides);
  // The text is the same for every batch size; the function's own plan is generic (migration 0007).
  const rows = await queryNamed<InsertedRow>(db, 'ridetrace_insert_rides', INSERT_RIDES, values);
  const byId = new Map(rides.map((r) => [r.id, r]));
  return rows.map((row): WrittenRide => {
    const ride = byId.get(row.id)!;
    if (row.repeat_id)
      return {
        id: row.id,
        repeatOf: { id: row.repeat_id, carrierId: ride.carrierId, boardedAt: row.repeat_boarded_at! },
      };
    return {
      id: row.id,
      carrier_id: ride.carrierId,
      boarded_at: ride.boardedAt,
      received_at: ride.receivedAt,
      source: ride.source,
      late: ride.late,
      flagged: row.flagged,
      kind: row.kind,
      plate: row.plate,
      route: row.route,
      city: row.city,
    };
  });
}

/** What `insert_rides` returns per written ride: what the server does not know already. */
type InsertedRow = Pick<InsertedRide, 'id' | 'flagged' | 'kind' | 'plate' | 'route' | 'city'> & {
  repeat_id: string | null;
  repeat_boarded_at: Date | null;
};

const INSERT_RIDES =
  'select * from insert_rides($1::uuid[], $2::int[], $3::int[], $4::int8[], $5::bytea, $6::bytea, ' +
  '$7::int[], $8::text[], $9::bool[], $10::int8[], $11::text[], $12::bytea, $13::int[], $14::uuid[], ' +
  '$15::uuid[], $16::bytea[], $17::int, $18::timestamptz, $19::timestamptz, $20::int[])';

/** Length of every blind index (HMAC-SHA-256): they are sent packed, back to back. */
const KEY_LENGTH = 32;

/**
 * The parameters of `insert_rides` (migration 0012), encoded by hand because this runs for every scan: arrays
 * as Postgres array literals (the driver's generic encoder escaped every element and formatted every Date in
 * local time; times go as epoch milliseconds), the rides' blind indexes and sealed ids packed into one bytea
 * each, which the driver sends in binary.
 */
function insertRidesParameters(rides: NewRide[]): unknown[] {
  const owners: string[] = [];
  const neighbours: Buffer[] = [];
  const sealedEnds: number[] = [];
  let sealedEnd = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rides) {
    for (const key of r.neighbourKeys) {
      owners.push(r.id);
      neighbours.push(key);
    }
    sealedEnd += r.passengerSealed.length;
    sealedEnds.push(sealedEnd);
    // Bounds of the neighbour lookup over the whole batch: they prune the ride partitions at plan start.
    const window = Math.max(r.switchWindowSeconds, r.repeatWindowSeconds) * 1000;
    lo = Math.min(lo, r.boardedAt.getTime() - window);
    hi = Math.max(hi, r.boardedAt.getTime() + window);
  }
  return [
    textArray(rides.map((r) => r.id)),
    plainArray(rides.map((r) => r.carrierId)),
    plainArray(rides.map((r) => r.generation)),
    plainArray(rides.map((r) => r.boardedAt.getTime())),
    packKeys(rides.map((r) => r.passengerKey)),
    Buffer.concat(rides.map((r) => r.passengerSealed)),
    plainArray(sealedEnds),
    textArray(rides.map((r) => r.source)),
    plainArray(rides.map((r) => r.late)),
    plainArray(rides.map((r) => r.receivedAt.getTime())),
    textArray(rides.map((r) => r.registeredBy)),
    packKeys(rides.map((r) => r.requestKey)),
    plainArray(rides.map((r) => r.switchWindowSeconds)),
    textArray(rides.map((r) => r.passengerId)),
    textArray(owners),
    byteaArray(neighbours),
    KEY_LENGTH,
    new Date(lo).toISOString(),
    new Date(hi).toISOString(),
    plainArray(rides.map((r) => r.repeatWindowSeconds)),
  ];
}

function packKeys(keys: Buffer[]): Buffer {
  for (const k of keys) if (k.length !== KEY_LENGTH) throw new Error(`blind index of ${k.length} bytes`);
  return Buffer.concat(keys, keys.length * KEY_LENGTH);
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

function ridesWithCarrier(db: Db) {
  return db
    .selectFrom('rides')
    .innerJoin('carriers', 'carriers.id', 'rides.carrier_id')
    .select(RIDE_WITH_CARRIER);
}

export async function findRideWithCarrier(db: Db, id: string, carrierId: number, boardedAt: Date) {
  return ridesWithCarrier(db)
    .where('rides.carrier_id', '=', carrierId)
    .where('rides.boarded_at', '=', boardedAt)
    .where('rides.id', '=', id)
    .executeTakeFirst() as Promise<InsertedRide | undefined>;
}

/** Rides of one passenger, found through their per-day blind indexes. */
export async function findRidesByPassengerKeys(db: Db, keys: Buffer[], since: Date, limit: number) {
  if (keys.length === 0) return [];
  return ridesWithCarrier(db)
    .where('rides.passenger_key', 'in', keys)
    .where('rides.boarded_at', '>=', since)
    .orderBy('rides.boarded_at', 'desc')
    .limit(limit)
    .execute() as Promise<InsertedRide[]>;
}

/** Creates the partition of one ride day if missing (safe under concurrency); `bounds` from RideDays. */
export async function ensureRidePartition(
  db: Db,
  day: string,
  bounds: { from: Date; to: Date },
): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`bad day ${day}`);
  try {
    await sql
      .raw(
        `create table if not exists ${ridePartitionName(day)} partition of rides ` +
          `for values from ('${bounds.from.toISOString()}') to ('${bounds.to.toISOString()}')`,
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
