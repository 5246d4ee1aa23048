import { createCipheriv, randomFillSync } from 'node:crypto';

/**
 * Byte-compatible bulk variant of the server's `seal` (server/src/crypto/aead.ts): AES-256-GCM, layout
 * format(1) | nonce(12) | ciphertext | tag(16), the same associated data. The only difference is where the random
 * nonces come from: a CSPRNG pool refilled 4096 nonces at a time (randomFillSync) instead of one `randomBytes(12)`
 * call per value, which alone costs ≈ 5 µs on this machine, as much as the encryption. The loader checks its
 * output with the server's `open` (see load-worker.ts), and the trace benchmark decrypts every contact through
 * the server.
 */
const FORMAT_V1 = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const POOL_NONCES = 4096;

export class BatchSealer {
  private readonly pool = Buffer.allocUnsafe(NONCE_BYTES * POOL_NONCES);
  private next = POOL_NONCES;

  seal(key: Buffer, plaintext: string, aad: string): Buffer {
    if (this.next === POOL_NONCES) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    const nonce = this.pool.subarray(this.next * NONCE_BYTES, ++this.next * NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = cipher.update(plaintext, 'utf8');
    cipher.final(); // GCM is a stream mode: final() adds no bytes
    const out = Buffer.allocUnsafe(1 + NONCE_BYTES + body.length + TAG_BYTES);
    out[0] = FORMAT_V1;
    nonce.copy(out, 1);
    body.copy(out, 1 + NONCE_BYTES);
    cipher.getAuthTag().copy(out, 1 + NONCE_BYTES + body.length);
    return out;
  }
}
