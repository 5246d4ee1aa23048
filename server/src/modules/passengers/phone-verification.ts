import { maskPhone, normalizePhone, type PassengerProfile, type PhoneCodeSent } from '@ridetrace/shared';
import { randomInt, randomUUID } from 'node:crypto';
import { DeliveryError } from '../../adapters/notify.js';
import { constantTimeEqual } from '../../crypto/aead.js';
import type { AppContext } from '../../context.js';
import type { PhoneSource } from '../../db/tables.js';
import { AppError } from '../../errors.js';
import { assertProgrammeRunning } from '../programme/programme.service.js';
import { passengerKey, sealPhone } from './identity.js';
import * as repo from './passengers.repository.js';
import { syncIndexKeys, toProfile } from './passengers.service.js';

const HOUR_MS = 3_600_000;

/**
 * Stores a phone the passenger proved to hold (super-app phone exchange or SMS code): sealed, indexed, and marked
 * with how it was verified, so it may link registrations and receive SMS.
 */
async function storeVerifiedPhone(
  ctx: AppContext,
  passengerId: string,
  phone: string,
  source: Exclude<PhoneSource, 'self' | 'staff'>,
): Promise<PassengerProfile> {
  await syncIndexKeys(ctx);
  return ctx.db.transaction().execute(async (tx) => {
    const row = await repo.findPassengerForUpdate(tx, passengerId);
    const dek = row && !row.deleted_at ? passengerKey(ctx.keyring, row) : null;
    if (!row || !dek) throw new AppError('passenger_not_found');
    const updated = await repo.updatePassenger(tx, passengerId, {
      ...sealPhone(ctx.keyring, dek, passengerId, phone),
      // The row's other indexes are not rewritten: it is only as new as the older of them.
      index_generation: Math.min(row.index_generation, ctx.keyring.indexGeneration),
      phone_source: source,
    });
    return toProfile(ctx, updated);
  });
}

/** The super-app's phone-number button: its one-time code is exchanged for the platform-verified number. */
export async function verifyPhoneWithSuperApp(
  ctx: AppContext,
  passengerId: string,
  code: string,
): Promise<PassengerProfile> {
  await assertProgrammeRunning(ctx);
  const { phone } = await ctx.superApp.phoneNumber(code);
  return storeVerifiedPhone(ctx, passengerId, phone, 'superapp');
}

/**
 * Sends a 6-digit code to `phone` (SMS), within the per-phone, per-passenger and per-requester hourly limits and
 * the resend interval. Only a keyed hash of the code is stored.
 */
export async function sendPhoneCode(
  ctx: AppContext,
  passengerId: string,
  rawPhone: string,
  requester: string,
): Promise<PhoneCodeSent> {
  await assertProgrammeRunning(ctx);
  const { otp } = ctx.config;
  const phone = normalizePhone(rawPhone);
  const now = ctx.now();
  await syncIndexKeys(ctx);
  const sent = await repo.countOtpsSince(ctx.db, new Date(now.getTime() - HOUR_MS), {
    phoneIndexes: ctx.keyring.blindIndexes('phone', phone),
    passengerId,
    requesterIndexes: ctx.keyring.blindIndexes('otp-requester', requester),
  });
  if (sent.last_to_phone) {
    const wait = otp.resendSeconds - (now.getTime() - sent.last_to_phone.getTime()) / 1000;
    if (wait > 0)
      throw new AppError('otp_rate_limited', `Wait ${Math.ceil(wait)} s before asking again.`).retryAfter(
        wait,
      );
  }
  if (
    sent.phone >= otp.perPhonePerHour ||
    sent.passenger >= otp.perPassengerPerHour ||
    sent.requester >= otp.perIpPerHour
  )
    throw new AppError('otp_rate_limited').retryAfter(HOUR_MS / 1000);
  const passenger = await repo.findPassenger(ctx.db, passengerId);
  if (!passenger || passenger.deleted_at || !passenger.dek_wrapped) throw new AppError('passenger_not_found');

  const id = randomUUID();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await repo.insertOtp(ctx.db, {
    id,
    passenger_id: passengerId,
    phone_index: ctx.keyring.blindIndex('phone', phone),
    requester_index: ctx.keyring.blindIndex('otp-requester', requester),
    code_hash: ctx.keyring.blindIndex('otp-code', `${id}:${code}`),
    index_generation: ctx.keyring.indexGeneration,
    expires_at: new Date(now.getTime() + otp.ttlSeconds * 1000),
    created_at: now,
  });
  try {
    await ctx.sms.sendCode(phone, code, Math.round(otp.ttlSeconds / 60));
  } catch (err) {
    // Not sent: the attempt does not count against the limits.
    await repo.deleteOtp(ctx.db, id);
    if (err instanceof DeliveryError && !err.retryable)
      throw new AppError('validation_failed', 'The SMS provider refused this phone number.');
    throw new AppError('sms_unavailable');
  }
  return { phone: maskPhone(phone), expiresIn: otp.ttlSeconds, resendIn: otp.resendSeconds };
}

/** Checks a code sent by `sendPhoneCode`; the right one marks the phone verified (otp). */
export async function verifyPhoneCode(
  ctx: AppContext,
  passengerId: string,
  rawPhone: string,
  code: string,
): Promise<PassengerProfile> {
  await assertProgrammeRunning(ctx);
  const phone = normalizePhone(rawPhone);
  const now = ctx.now();
  await syncIndexKeys(ctx);
  const phoneIndexes = ctx.keyring.blindIndexes('phone', phone);
  const outcome = await ctx.db.transaction().execute(async (tx) => {
    const row = await repo.findLatestOtpForUpdate(tx, passengerId, phoneIndexes);
    if (!row || row.expires_at <= now) return 'otp_expired' as const;
    if (row.attempts >= ctx.config.otp.maxAttempts) return 'otp_attempts_exceeded' as const;
    // The code's hash is under the key generation the row was written with.
    const expected = ctx.keyring.blindIndexAt(row.index_generation, 'otp-code', `${row.id}:${code}`);
    const ok = expected !== null && constantTimeEqual(expected, row.code_hash);
    await repo.updateOtp(tx, row.id, ok ? { used_at: now } : { attempts: row.attempts + 1 });
    return ok ? ('ok' as const) : ('otp_invalid' as const);
  });
  if (outcome !== 'ok') throw new AppError(outcome);
  return storeVerifiedPhone(ctx, passengerId, phone, 'otp');
}
