import type {
  ConfirmBody,
  ManualRideBody,
  ManualRideResult,
  PassengerProfile,
  Ride,
  ScanBody,
  ScanPreview,
} from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { StaffClient } from '../../actors.js';
import type { AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import { AppError } from '../../errors.js';
import { appendAudit, auditByStaff } from '../audit/audit.service.js';
import { assertStaffBound, carrierForCode, verifyScannedCode } from '../carriers/carriers.service.js';
import { assertProgrammeRunning } from '../programme/programme.service.js';
import {
  confirmIdentity,
  findOrCreateRider,
  isConfirmed,
  rideLinkOfToken,
  savePendingScan,
  scanPreviewIdentity,
  type PendingScan,
} from '../passengers/passengers.service.js';
import type { RideLink } from '../rides/ride-key.js';
import { boardingTime } from '../rides/ride-time.js';
import { recordRide, toRide } from '../rides/rides.service.js';

/**
 * A scan is registered (`created` false: the same clientRideId was registered before, or with `repeat` another
 * scan of the same carrier within the repeat window), or waits for confirmation.
 */
export type ScanResult =
  | { kind: 'registered'; created: boolean; repeat: boolean; ride: Ride }
  | { kind: 'confirmation_required'; preview: ScanPreview };

/**
 * A passenger scans a carrier code. Confirmed passengers: the code is verified in memory, the ride's blind index
 * computed from the token's ride link, then one INSERT. Passengers who have not confirmed (or whose consent is
 * outdated) get a preview, and the scan is kept pending until they confirm.
 */
export async function scan(
  ctx: AppContext,
  passenger: {
    id: string;
    consentVersion: string | undefined;
    /** The token's `lk` claim; without it, the ride link is read from the account. */
    link?: string | undefined;
  },
  body: ScanBody,
  opts: { groupCommit?: boolean } = {},
): Promise<ScanResult> {
  await assertProgrammeRunning(ctx);
  const code = await verifyScannedCode(ctx, body.code);
  const receivedAt = ctx.now();
  const time = boardingTime(ctx.config.rides, receivedAt, body.scannedAt);
  const confirmed =
    passenger.consentVersion === ctx.config.consentVersion || (await isConfirmed(ctx, passenger.id));
  if (!confirmed) {
    const carrier = await carrierForCode(ctx, code);
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
      kind: 'confirmation_required',
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
    };
  }
  const result = await recordRide(
    ctx,
    ctx.db,
    {
      passengerId: passenger.id,
      link: await rideLinkOfToken(ctx, passenger.id, passenger.link),
      carrierId: code.carrierId,
      generation: code.generation,
      clientRideId: body.clientRideId,
      time,
      receivedAt,
      registeredBy: null,
    },
    opts,
  );
  return {
    kind: 'registered',
    created: result.created,
    repeat: !result.created && result.repeat,
    ride: toRide(result.ride),
  };
}

/**
 * First-time confirmation: identity and consent are stored and the scan that was waiting for them is registered,
 * in one transaction. A pending scan older than the offline bound is dropped. `linkClaim` goes into the new token.
 */
export async function confirm(
  ctx: AppContext,
  passengerId: string,
  body: ConfirmBody,
): Promise<{ passenger: PassengerProfile; ride: Ride | null; linkClaim: string }> {
  await assertProgrammeRunning(ctx);
  return ctx.db.transaction().execute(async (tx) => {
    const { passenger, pending, link, linkClaim } = await confirmIdentity(ctx, tx, passengerId, body);
    const fresh =
      pending !== null &&
      ctx.now().getTime() - Date.parse(pending.receivedAt) <= ctx.config.rides.maxLateSeconds * 1000;
    return { passenger, ride: fresh ? await registerPending(ctx, tx, link, pending) : null, linkClaim };
  });
}

async function registerPending(
  ctx: AppContext,
  tx: Db,
  link: RideLink,
  pending: PendingScan,
): Promise<Ride | null> {
  try {
    const result = await recordRide(ctx, tx, {
      passengerId: link.passengerId,
      link,
      carrierId: pending.carrierId,
      generation: pending.generation,
      clientRideId: pending.clientRideId,
      time: { boardedAt: new Date(pending.boardedAt), source: pending.source, late: pending.late },
      receivedAt: new Date(pending.receivedAt),
      registeredBy: null,
    });
    return toRide(result.ride);
  } catch (err) {
    // The code was revoked or the carrier retired while the passenger read the consent text: the identity is
    // still confirmed, the stale scan is dropped (the client shows the error on rescan).
    if (!(err instanceof AppError)) throw err;
    return null;
  }
}

/**
 * Staff registration of a rider who cannot scan, on a carrier the staff account is bound to. The rider is matched
 * by phone or ID number and the reply names them (masked): a passenger look-up, audited under the staff client.
 */
export async function registerManualRide(
  ctx: AppContext,
  staff: StaffClient,
  carrierId: number,
  body: ManualRideBody,
): Promise<{ created: boolean; result: ManualRideResult }> {
  await assertProgrammeRunning(ctx);
  await assertStaffBound(ctx, staff.id, carrierId);
  const receivedAt = ctx.now();
  const t = boardingTime(ctx.config.rides, receivedAt, body.boardedAt);
  const rider = await findOrCreateRider(ctx, body);
  const recorded = await recordRide(ctx, ctx.db, {
    passengerId: rider.id,
    link: rider.link,
    carrierId,
    generation: null,
    clientRideId: body.clientRideId ?? randomUUID(),
    time: { boardedAt: t.boardedAt, source: 'manual', late: t.late },
    receivedAt,
    registeredBy: staff.id,
  });
  await appendAudit(ctx.db, {
    ...auditByStaff(staff),
    action: 'passenger.lookup',
    caseId: null,
    people: 1,
    facts: { carrierId, matched: rider.matched, created: recorded.created },
  });
  return {
    created: recorded.created,
    result: {
      ride: toRide(recorded.ride),
      rider: { matched: rider.matched, name: rider.identity.name ?? '', phone: rider.identity.phone ?? '' },
    },
  };
}
