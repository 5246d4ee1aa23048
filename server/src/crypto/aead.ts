import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';

const FORMAT_V1 = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Random nonces come from a CSPRNG pool refilled 4,096 at a time: one `randomBytes(12)` call per value costs as
 * much as the encryption itself. Every nonce is used once (the pool is refilled, never reread).
 */
const POOL_NONCES = 4096;
const noncePool = Buffer.allocUnsafe(NONCE_BYTES * POOL_NONCES);
let nextNonce = POOL_NONCES;

function takeNonce(): Buffer {
  if (nextNonce === POOL_NONCES) {
    randomFillSync(noncePool);
    nextNonce = 0;
  }
  return noncePool.subarray(nextNonce * NONCE_BYTES, ++nextNonce * NONCE_BYTES);
}

/**
 * AES-256-GCM with a random nonce. The associated data binds a ciphertext to its place
 * (table/column/row), so a sealed value copied to another row or column no longer opens.
 * Layout: format(1) | nonce(12) | ciphertext | tag(16).
 */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): Buffer {
  const nonce = takeNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
  cipher.final(); // GCM is a stream mode: final() adds no bytes
  const out = Buffer.allocUnsafe(1 + NONCE_BYTES + body.length + TAG_BYTES);
  out[0] = FORMAT_V1;
  nonce.copy(out, 1); // copied before the pool can be refilled
  body.copy(out, 1 + NONCE_BYTES);
  cipher.getAuthTag().copy(out, 1 + NONCE_BYTES + body.length);
  return out;
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) {
    throw new Error('sealed value has an unknown format');
  }
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(body);
  decipher.final(); // checks the tag (throws when it does not match); GCM adds no bytes here
  return plaintext;
}

export function openText(key: Buffer, sealed: Buffer, aad: string): string {
  return open(key, sealed, aad).toString('utf8');
}

/** Officials' free text (case and reveal reasons): empty once the programme wind-down destroyed it. */
export function openOfficialText(key: Buffer, sealed: Buffer, aad: string): string {
  return sealed.length === 0 ? '' : openText(key, sealed, aad);
}

export function hmac(key: Buffer, ...parts: (string | Buffer)[]): Buffer {
  const h = createHmac('sha256', key);
  parts.forEach((p, i) => {
    if (i > 0) h.update(Buffer.of(0)); // separator: parts cannot run into each other
    h.update(p);
  });
  return h.digest();
}

/** Derives an independent 32-byte subkey for one purpose. */
export function deriveKey(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `ridetrace:${purpose}`, 32));
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}
