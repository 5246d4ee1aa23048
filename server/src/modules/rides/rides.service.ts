import type { Ride } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import { seal } from '../../crypto/aead.js';
import { perContext, type AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import { isNoPartition } from '../../db/errors.js';
import { AppError } from '../../errors.js';
import { rideRefusal } from '../carriers/carriers.service.js';
import { metricsOf } from '../metrics/metrics.service.js';
import { isActivePassenger, rideLinkOf } from '../passengers/passengers.service.js';
import { RideBatcher } from './ride-batcher.js';
import { rideKey, type RideLink } from './ride-key.js';
import { reloadRideDays } from './ride-days.service.js';
import type { BoardingTime } from './ride-time.js';
import * as repo from './rides.repository.js';

/** Group commit of this process's scans. */
export const rideBatcherOf = perContext((ctx) => {
  const metrics = metricsOf(ctx);
  return new RideBatcher(ctx.db, {
    maxBatch: ctx.config.rides.batchMax,
    maxInFlight: ctx.config.rides.batchInFlight,
    maxQueueMs: ctx.config.rides.batchQueueMs,
    onCommit: (size, seconds, ok) => metrics.rideBatch(size, seconds, ok),
    onExpire: (count) => metrics.ridesExpired(count),
  });
});

/** Ride days whose partition this process has made sure of. */
const partitionDaysOf = perContext(() => new Set<string>());

export function toRide(r: repo.InsertedRide): Ride {
  return {
    id: r.id,
    carrier: { id: r.carrier_id, kind: r.kind, plate: r.plate, route: r.route, city: r.city },
    boardedAt: r.boarded_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
    source: r.source,
    late: r.late,
  };
}

export interface RecordRide {
  passengerId: string;
  /** What the passenger's rides are indexed by; read from the account when not given (scripts). */
  link?: RideLink;
  carrierId: number;
  /** The code generation scanned; null for staff registration (bound carrier, no code). */
  generation: number | null;
  clientRideId: string;
  time: BoardingTime | { boardedAt: Date; source: 'manual'; late: boolean };
  receivedAt: Date;
  registeredBy: string | null;
}

/**
 * created: a new ride. Otherwise the ride registered before: by the same clientRideId (a retry), or, with
 * `repeat`, by another scan of the same carrier within the repeat window.
 */
export type RecordResult =
  { created: true; ride: repo.InsertedRide } | { created: false; repeat: boolean; ride: repo.InsertedRide };

/**
 * Records one ride, idempotently per (passenger, clientRideId). The passenger appears in the row only as
 * the day's blind index and sealed with the day's key.
 */
export async function recordRide(
  ctx: AppContext,
  db: Db,
  r: RecordRide,
  opts: { groupCommit?: boolean } = {},
): Promise<RecordResult> {
  const { boardedAt } = r.time;
  const link = r.link ?? (await rideLinkOf(db, r.passengerId));
  if (!link) throw accountDeleted();
  if (link.passengerId !== r.passengerId) throw new Error('the ride link is of another passenger');
  const day = ctx.rideDays.of(boardedAt);
  const dayKey = await ctx.keyring.dayKey(ctx.db, day);
  const { minCarrierSwitchSeconds, repeatMinutes } = ctx.config.rides;
  const windowMs = Math.max(minCarrierSwitchSeconds, repeatMinutes * 60) * 1000;
  const neighbourDays = ctx.rideDays.between(
    new Date(boardedAt.getTime() - windowMs),
    new Date(boardedAt.getTime() + windowMs),
  );
  const passengerKey = rideKey(dayKey, link);
  const neighbourKeys = await Promise.all(
    neighbourDays.map(async (d) =>
      d === day ? passengerKey : rideKey(await ctx.keyring.dayKey(ctx.db, d), link),
    ),
  );
  const id = randomUUID();
  const row: repo.NewRide = {
    id,
    passengerId: r.passengerId,
    carrierId: r.carrierId,
    generation: r.generation,
    boardedAt,
    passengerKey,
    passengerSealed: seal(dayKey.seal, r.passengerId, `rides/passenger/${id}`),
    source: r.time.source,
    late: r.time.late,
    receivedAt: r.receivedAt,
    registeredBy: r.registeredBy,
    requestKey: ctx.keyring.blindIndex('ride-request', `${r.passengerId}:${r.clientRideId}`),
    neighbourKeys,
    switchWindowSeconds: minCarrierSwitchSeconds,
    repeatWindowSeconds: repeatMinutes * 60,
  };
  await ensurePartition(ctx, day);
  // Outside a transaction, concurrent scans share one INSERT (group commit); inside one, write directly.
  const write = (): Promise<repo.WrittenRide | undefined> =>
    db === ctx.db && opts.groupCommit !== false
      ? rideBatcherOf(ctx).insert(row)
      : repo.insertRides(db, [row]).then((rows) => rows[0]);
  let inserted: repo.WrittenRide | undefined;
  try {
    inserted = await write();
  } catch (err) {
    // A purge dropped the partition after we cached it: forget and retry once (outside transactions).
    if (!isNoPartition(err) || db !== ctx.db) throw err;
    partitionDaysOf(ctx).delete(day);
    await ensurePartition(ctx, day);
    inserted = await write();
  }
  if (inserted && repo.isRepeat(inserted)) {
    const { id: rideId, carrierId, boardedAt: at } = inserted.repeatOf;
    const ride = await repo.findRideWithCarrier(db, rideId, carrierId, at);
    if (!ride) throw new Error('a repeat scan named a ride that does not exist');
    return { created: false, repeat: true, ride };
  }
  if (inserted) return { created: true, ride: inserted };

  const refusal = await rideRefusal(db, r.carrierId, r.generation);
  if (refusal) throw refusal;
  // The token outlived the account (DELETE /v1/passengers/me): nothing may be registered for it any more.
  if (!(await isActivePassenger(db, r.passengerId))) throw accountDeleted();
  const previous = await repo.findRideRequest(db, row.requestKey);
  if (!previous) throw new Error('ride insert returned nothing without a reason');
  if (previous.carrier_id !== r.carrierId) throw new AppError('client_ride_id_reused');
  const ride = await repo.findRideWithCarrier(db, previous.ride_id, previous.carrier_id, previous.boarded_at);
  if (!ride)
    throw new AppError(
      'client_ride_id_reused',
      'This clientRideId was used for a ride that no longer exists.',
    );
  return { created: false, repeat: false, ride };
}

function accountDeleted(): AppError {
  return new AppError('token_invalid', 'This account was deleted; sign in again to register rides.');
}

/**
 * The passenger's own rides over the last `days` days, newest first (none once the account is deleted). `on:
 * 'traces'` reads the rides where ctx.traces says (the itinerary: a hot standby when fresh enough).
 */
export async function ridesOfPassenger(
  ctx: AppContext,
  passengerId: string,
  days: number,
  on: 'primary' | 'traces' = 'primary',
): Promise<Ride[]> {
  const link = await rideLinkOf(ctx.db, passengerId);
  if (!link) return [];
  const now = ctx.now();
  const since = new Date(now.getTime() - days * 86_400_000);
  const keys: Buffer[] = [];
  for (const day of ctx.rideDays.between(since, now)) {
    const k = await ctx.keyring.existingDayKey(ctx.db, day);
    if (k) keys.push(rideKey(k, link));
  }
  const rows =
    on === 'traces'
      ? await ctx.traces.read((db) => repo.findRidesByPassengerKeys(db, keys, since, 1000))
      : await repo.findRidesByPassengerKeys(ctx.db, keys, since, 1000);
  return rows.map(toRide);
}

/** Creates the day's partition once per process (outside any caller transaction). */
async function ensurePartition(ctx: AppContext, day: string): Promise<void> {
  const days = partitionDaysOf(ctx);
  if (days.has(day)) return;
  await repo.ensureRidePartition(ctx.db, day, ctx.rideDays.bounds(day));
  days.add(day);
}

/** After a purge dropped a day's partition: the next ride of that day creates it again. */
export function forgetRideDay(ctx: AppContext, day: string): void {
  partitionDaysOf(ctx).delete(day);
}

/** Partitions and day keys from the oldest accepted offline day to two days ahead. */
export async function prepareRideDays(ctx: AppContext): Promise<void> {
  await reloadRideDays(ctx.db, ctx.rideDays);
  const now = ctx.now();
  const from = new Date(now.getTime() - ctx.config.rides.maxLateSeconds * 1000);
  const to = new Date(now.getTime() + 2 * 86_400_000);
  for (const day of ctx.rideDays.between(from, to)) {
    await ensurePartition(ctx, day);
    await ctx.keyring.dayKey(ctx.db, day);
  }
}
