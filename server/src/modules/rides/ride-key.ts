import { hmac } from '../../crypto/aead.js';
import type { DayKey } from '../../crypto/keyring.js';

/**
 * What a passenger's rides are indexed by: the blind index of a ride is HMAC(day key, the passenger's link secret),
 * never of the passenger id, which outlives the account as its tombstone. Deleting the account destroys the secret,
 * and with it every way to find the rides from the person.
 */
export interface RideLink {
  passengerId: string;
  /** 32 random bytes; null: a registration without one (made outside the API): the id stands in. */
  secret: Buffer | null;
  /** First ride day (YYYY-MM-DD, UTC) indexed by the secret, earlier days by the id; null: every day. */
  since: string | null;
}

/** The blind index of the passenger's rides on the day of `dayKey`. Every reader and writer of rides uses this. */
export function rideKey(dayKey: DayKey, link: RideLink): Buffer {
  const { secret, since } = link;
  return hmac(
    dayKey.index,
    secret !== null && (since === null || dayKey.day >= since) ? secret : link.passengerId,
  );
}

const SECRET_BYTES = 32;

/** The link as bytes for the passenger's token: the secret, then the `since` day (both absent: by the id). */
export function encodeRideLink(link: RideLink): Buffer {
  if (link.secret === null) return Buffer.alloc(0);
  return link.since === null ? link.secret : Buffer.concat([link.secret, Buffer.from(link.since, 'latin1')]);
}

/** The link of `passengerId` from encodeRideLink's bytes; null when they are not such bytes. */
export function decodeRideLink(passengerId: string, bytes: Buffer): RideLink | null {
  if (bytes.length === 0) return { passengerId, secret: null, since: null };
  if (bytes.length === SECRET_BYTES) return { passengerId, secret: bytes, since: null };
  const since = bytes.subarray(SECRET_BYTES).toString('latin1');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) return null;
  return { passengerId, secret: bytes.subarray(0, SECRET_BYTES), since };
}
