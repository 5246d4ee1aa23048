import {
  extractCodeToken,
  type ManualRideBody,
  type ManualRideResult,
  type Ride,
  type ScanBody,
  type ScanConfirmationRequired,
  type ScanRegistered,
} from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import { seal, hmac } from '../../crypto/aead.js';
import { verifyCodeToken, type CodeClaims } from '../../crypto/code-token.js';
import type { AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import { isNoPartition } from '../../db/errors.js';
import { AppError } from '../../errors.js';
import * as carriersRepo from '../carriers/carriers.repository.js';
import * as passengersRepo from '../passengers/passengers.repository.js';
import {
  findOrCreateRider,
  isConfirmed,
  savePendingScan,
  scanPreviewIdentity,
} from '../passengers/passengers.service.js';
import { boardingTime, dayOf, daysBetween, type BoardingTime } from './ride-time.js';
import * as repo from './rides.repository.js';

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

/** Signature check only: no database read. */
export function verifyScannedCode(ctx: AppContext, scanned: string): CodeClaims {
  const token = extractCodeToken(scanned);
  if (!token) throw new AppError('code_malformed');
  const v = verifyCodeToken(ctx.keyring, token);
  if (!v.ok) throw new AppError(v.error);
  return { carrierId: v.carrierId, generation: v.generation };
}

/** Why a validly signed code was not accepted (slow path, after the insert found nothing). */
async function explainCode(db: Db, code: CodeClaims): Promise<AppError | null> {
  const carrier = await carriersRepo.findCarrier(db, code.carrierId);
  if (!carrier) return new AppError('code_carrier_unknown');
  if (carrier.retired_at) return new AppError('code_carrier_retired');
  if (carrier.code_generation !== code.generation) return new AppError('code_revoked');
  return null;
}

/** A valid, current carrier for a code (used where a read is needed anyway: previews). */
export async function carrierForCode(db: Db, code: CodeClaims) {
  const err = await explainCode(db, code);
  if (err) throw err;
  return (await carriersRepo.findCarrier(db, code.carrierId))!;
}

export interface RecordRide {
  passengerId: string;
  carrierId: number;
  /** The code generation scanned; null for staff registration (bound carrier, no code). */
  generation: number | null;
  clientRideId: string;
  time: BoardingTime | { boardedAt: Date; source: 'manual'; late: boolean };
  receivedAt: Date;
  registeredBy: string | null;
}

export type RecordResult =
  { created: true; ride: repo.InsertedRide } | { created: false; ride: repo.InsertedRide };

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
  const day = dayOf(boardedAt);
  const dayKey = await ctx.keyring.dayKey(ctx.db, day);
  const windowMs = ctx.config.rides.minCarrierSwitchSeconds * 1000;
  const neighbourDays = daysBetween(
    new Date(boardedAt.getTime() - windowMs),
    new Date(boardedAt.getTime() + windowMs),
  );
  const passengerKey = hmac(dayKey.index, r.passengerId);
  const neighbourKeys = await Promise.all(
    neighbourDays.map(async (d) =>
      d === day ? passengerKey : hmac((await ctx.keyring.dayKey(ctx.db, d)).index, r.passengerId),
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
    switchWindowSeconds: ctx.config.rides.minCarrierSwitchSeconds,
  };
  await ensurePartition(ctx, day);
  // Outside a transaction, concurrent scans share one INSERT (group commit); inside one, write directly.
  const write = (): Promise<repo.InsertedRide | undefined> =>
    db === ctx.db && opts.groupCommit !== false
      ? ctx.rideBatcher.insert(row)
      : repo.insertRides(db, [row]).then((rows) => rows[0]);
  let inserted: repo.InsertedRide | undefined;
  try {
    inserted = await write();
  } catch (err) {
    // A purge dropped the partition after we cached it: forget and retry once (outside transactions).
    if (!isNoPartition(err) || db !== ctx.db) throw err;
    ctx.partitionDays.delete(day);
    await ensurePartition(ctx, day);
    inserted = await write();
  }
  if (inserted) return { created: true, ride: inserted };

  if (r.generation !== null) {
    const err = await explainCode(db, { carrierId: r.carrierId, generation: r.generation });
    if (err) throw err;
  } else {
    const carrier = await carriersRepo.findCarrier(db, r.carrierId);
    if (!carrier) throw new AppError('carrier_not_found');
    if (carrier.retired_at) throw new AppError('carrier_retired');
  }
  // The token outlived the account (DELETE /v1/passengers/me): nothing may be registered for it any more.
  const passenger = await passengersRepo.findPassenger(db, r.passengerId);
  if (!passenger || passenger.deleted_at)
    throw new AppError('token_invalid', 'This account was deleted; sign in again to register rides.');
  const previous = await repo.findRideRequest(db, row.requestKey);
  if (!previous) throw new Error('ride insert returned nothing without a reason');
  if (previous.carrier_id !== r.carrierId) throw new AppError('client_ride_id_reused');
  const ride = await repo.findRideWithCarrier(db, previous.ride_id, previous.carrier_id, previous.boarded_at);
  if (!ride)
    throw new AppError(
      'client_ride_id_reused',
      'This clientRideId was used for a ride that no longer exists.',
    );
  return { created: false, ride };
}

export type ScanOutcome =
  { status: 201 | 200; body: ScanRegistered } | { status: 202; body: ScanConfirmationRequired };

/**
 * The scan route. Confirmed passengers: verify the code in memory, then one INSERT statement.
 * Passengers who have not confirmed (or whose consent is outdated) get a preview and their scan is kept
 * pending until they confirm.
 */
export async function scan(
  ctx: AppContext,
  passenger: { id: string; consentVersion: string | undefined },
  body: ScanBody,
  opts: { groupCommit?: boolean } = {},
): Promise<ScanOutcome> {
  const code = verifyScannedCode(ctx, body.code);
  const receivedAt = ctx.now();
  const time = boardingTime(ctx.config.rides, receivedAt, body.scannedAt);
  const confirmed =
    passenger.consentVersion === ctx.config.consentVersion || (await isConfirmed(ctx, passenger.id));
  if (!confirmed) {
    const carrier = await carrierForCode(ctx.db, code);
    await savePendingScan(ctx, passenger.id, {
      carrierId: code.carrierId,
      generation: code.generation,
      clientRideId: body.clientRideId,
      boardedAt: time.boardedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
      source: time.source,
      late: time.late,
    });
    return {
      status: 202,
      body: {
        result: 'confirmation_required',
        preview: {
          carrier: {
            id: carrier.id,
            kind: carrier.kind,
            plate: carrier.plate,
            route: carrier.route,
            city: carrier.city,
          },
          serverTime: receivedAt.toISOString(),
          boardedAt: time.boardedAt.toISOString(),
          passenger: await scanPreviewIdentity(ctx, passenger.id),
          consentVersion: ctx.config.consentVersion,
        },
      },
    };
  }
  const result = await recordRide(
    ctx,
    ctx.db,
    {
      passengerId: passenger.id,
      carrierId: code.carrierId,
      generation: code.generation,
      clientRideId: body.clientRideId,
      time,
      receivedAt,
      registeredBy: null,
    },
    opts,
  );
  return { status: result.created ? 201 : 200, body: { result: 'registered', ride: toRide(result.ride) } };
}

/** The passenger's own rides over the last `days` days, newest first. */
export async function ridesOfPassenger(ctx: AppContext, passengerId: string, days: number): Promise<Ride[]> {
  const now = ctx.now();
  const since = new Date(now.getTime() - days * 86_400_000);
  const keys: Buffer[] = [];
  for (const day of daysBetween(since, now)) {
    const k = await ctx.keyring.existingDayKey(ctx.db, day);
    if (k) keys.push(hmac(k.index, passengerId));
  }
  const rows = await repo.findRidesByPassengerKeys(ctx.db, keys, since, 1000);
  return rows.map(toRide);
}

/** Creates the day's partition once per process (outside any caller transaction). */
async function ensurePartition(ctx: AppContext, day: string): Promise<void> {
  if (ctx.partitionDays.has(day)) return;
  await repo.ensureRidePartition(ctx.db, day);
  ctx.partitionDays.add(day);
}

/** Partitions and day keys from the oldest accepted offline day to two days ahead. */
export async function prepareRideDays(ctx: AppContext): Promise<void> {
  const now = ctx.now();
  const from = new Date(now.getTime() - ctx.config.rides.maxLateSeconds * 1000);
  const to = new Date(now.getTime() + 2 * 86_400_000);
  for (const day of daysBetween(from, to)) {
    await ensurePartition(ctx, day);
    await ctx.keyring.dayKey(ctx.db, day);
  }
}

/** Staff registration of a rider who cannot scan, on a carrier the staff account is bound to. */
export async function registerManualRide(
  ctx: AppContext,
  staffClientId: string,
  carrierId: number,
  body: ManualRideBody,
): Promise<{ status: 201 | 200; body: ManualRideResult }> {
  if (!(await carriersRepo.isStaffBound(ctx.db, staffClientId, carrierId)))
    throw new AppError('carrier_not_bound');
  const receivedAt = ctx.now();
  const t = boardingTime(ctx.config.rides, receivedAt, body.boardedAt);
  const rider = await findOrCreateRider(ctx, body);
  const result = await recordRide(ctx, ctx.db, {
    passengerId: rider.id,
    carrierId,
    generation: null,
    clientRideId: body.clientRideId ?? randomUUID(),
    time: { boardedAt: t.boardedAt, source: 'manual', late: t.late },
    receivedAt,
    registeredBy: staffClientId,
  });
  return {
    status: result.created ? 201 : 200,
    body: {
      ride: toRide(result.ride),
      rider: { matched: rider.matched, name: rider.identity.name ?? '', phone: rider.identity.phone ?? '' },
    },
  };
}
