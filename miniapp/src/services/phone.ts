import type { PassengerProfile, PhoneCodeSent } from '@ridetrace/shared';
import { isValidPhone, normalizePhone } from '@ridetrace/shared/identity';
import { api } from './api';
import { readStore, writeStore } from './storage';

/**
 * 13812345678 → 138****5678, as the server masks phones (`maskPhone` in shared/; copied: only the identity rules
 * have a TypeBox-free entry).
 */
export function maskPhone(phone: string): string {
  const digits = normalizePhone(phone).replace(/[^\d+]/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  if (digits.length < 8) return `${digits.slice(0, 1)}${'*'.repeat(digits.length - 3)}${digits.slice(-2)}`;
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

/** A phone the server holds as verified: masked, and in full only when this device verified it by SMS code. */
export interface VerifiedPhone {
  masked: string;
  source: 'superapp' | 'otp' | 'staff';
  /** Normalised; unknown after the super-app button (the server redeems its code, the app never sees the number). */
  full?: string;
}

/** The verified phone of a profile; null when it has none or only a typed (`self`) one. */
export function verifiedPhoneOf(
  profile: Pick<PassengerProfile, 'phone' | 'phoneVerified' | 'phoneSource'> | null | undefined,
  full?: string,
): VerifiedPhone | null {
  if (!profile?.phoneVerified || !profile.phone || !profile.phoneSource || profile.phoneSource === 'self')
    return null;
  return { masked: profile.phone, source: profile.phoneSource, ...(full ? { full } : {}) };
}

/**
 * How a typed phone stands against the verified one: `verified` (the same number, known in full), `likely` (its
 * masked form matches the super-app number: the server decides on confirmation), `differs` (it will be sent as an
 * unverified claim), `empty` (nothing valid typed yet), `unverified` (no verified phone at all).
 */
export type PhoneMatch = 'verified' | 'likely' | 'differs' | 'empty' | 'unverified';

export function phoneMatch(typed: string, verified: VerifiedPhone | null): PhoneMatch {
  if (!verified) return 'unverified';
  if (!isValidPhone(typed)) return 'empty';
  if (verified.full) return normalizePhone(typed) === verified.full ? 'verified' : 'differs';
  return maskPhone(typed) === verified.masked ? 'likely' : 'differs';
}

// ---- the profile, kept on the device (masked values only) ----------------------------------------------------

export function cachedProfile(): PassengerProfile | null {
  return readStore('rt.profile');
}

export function rememberProfile(profile: PassengerProfile): void {
  writeStore('rt.profile', profile);
}

/** GET /v1/passengers/me (hooks/useProfile keeps it, unless a verification answered a newer one meanwhile). */
export function fetchProfile(): Promise<PassengerProfile> {
  return api().me();
}

// ---- verification ------------------------------------------------------------------------------------------

/** The getPhoneNumber button's one-time code, redeemed by the server for the super-app's verified number. */
export async function verifyWithSuperApp(code: string): Promise<PassengerProfile> {
  const profile = await api().verifyPhoneWithSuperApp(code);
  rememberProfile(profile);
  return profile;
}

/** Asks the server to send a 6-digit code by SMS. */
export function sendPhoneCode(phone: string): Promise<PhoneCodeSent> {
  return api().requestPhoneCode(normalizePhone(phone));
}

/**
 * Checks an SMS code: the phone becomes the verified one on the server. The remembered identity takes the number
 * too, so a later confirmation (renewed consent) sends the verified phone and keeps it verified.
 */
export async function checkPhoneCode(phone: string, code: string): Promise<PassengerProfile> {
  const full = normalizePhone(phone);
  const profile = await api().verifyPhoneCode(full, code.trim());
  rememberProfile(profile);
  const identity = readStore('rt.identity');
  if (identity) writeStore('rt.identity', { ...identity, phone: full });
  return profile;
}
