import { CODE_TOKEN_LENGTH, CODE_TOKEN_VERSION } from '@ridetrace/shared';
import { constantTimeEqual, hmac } from './aead.js';
import type { Keyring } from './keyring.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PAYLOAD_BYTES = 8;
const MAC_BYTES = 12; // 96 bits

export function base32Encode(buf: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(s: string): Buffer | null {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

export interface CodeClaims {
  carrierId: number;
  generation: number;
}

export type VerifyResult =
  ({ ok: true } & CodeClaims) | { ok: false; error: 'code_malformed' | 'code_forged' | 'code_key_retired' };

function mac(key: Buffer, payload: Buffer): Buffer {
  return hmac(key, 'carrier-code', payload).subarray(0, MAC_BYTES);
}

/** Signs a carrier code: 20 bytes → 32 base32 characters. */
export function signCodeToken(keyring: Keyring, claims: CodeClaims): string {
  const keyId = keyring.activeCodeKeyId;
  const key = keyring.codeKey(keyId)!;
  const payload = Buffer.alloc(PAYLOAD_BYTES);
  payload.writeUInt8(CODE_TOKEN_VERSION, 0);
  payload.writeUInt8(keyId, 1);
  payload.writeUInt32BE(claims.carrierId, 2);
  payload.writeUInt16BE(claims.generation, 6);
  return base32Encode(Buffer.concat([payload, mac(key, payload)]));
}

function decode(token: string): Buffer | null {
  if (token.length !== CODE_TOKEN_LENGTH) return null;
  const raw = base32Decode(token);
  return raw && raw.length === PAYLOAD_BYTES + MAC_BYTES && raw[0] === CODE_TOKEN_VERSION ? raw : null;
}

/** The signing key id a token names (unverified), or null when it is not a token. */
export function codeTokenKeyId(token: string): number | null {
  return decode(token)?.[1] ?? null;
}

/**
 * Verifies a token in memory (no database read): signed by a known code key that has not retired at `now` (a
 * retired key's codes are genuine but expired: `code_key_retired`).
 */
export function verifyCodeToken(keyring: Keyring, token: string, now: Date = new Date()): VerifyResult {
  const raw = decode(token);
  if (!raw) return { ok: false, error: 'code_malformed' };
  const payload = raw.subarray(0, PAYLOAD_BYTES);
  const keyId = raw[1]!;
  const key = keyring.codeKey(keyId);
  if (!key || !constantTimeEqual(mac(key, payload), raw.subarray(PAYLOAD_BYTES))) {
    return { ok: false, error: 'code_forged' };
  }
  const carrierId = payload.readUInt32BE(2);
  const generation = payload.readUInt16BE(6);
  // Carrier ids are Postgres integers: a larger id was never issued.
  if (carrierId === 0 || carrierId > 0x7fffffff || generation === 0)
    return { ok: false, error: 'code_forged' };
  const retiresAt = keyring.codeKeyRetiresAt(keyId);
  if (retiresAt && retiresAt.getTime() <= now.getTime()) return { ok: false, error: 'code_key_retired' };
  return { ok: true, carrierId, generation };
}
