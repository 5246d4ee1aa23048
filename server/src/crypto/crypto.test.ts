import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type QueryResult,
} from 'kysely';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Database, Db } from '../db/index.js';
import { deriveKey, hmac, open, openText, seal } from './aead.js';
import { base32Decode, base32Encode, signCodeToken, verifyCodeToken } from './code-token.js';
import { Keyring } from './keyring.js';
import type { MasterKeys } from './master-keys.js';
import { hashSecret, newSecret, verifySecret } from './secrets.js';

/**
 * A Kysely instance without a database: the only table Keyring.load touches (system_keys) lives in a Map.
 * Any other query fails loudly, so the test notices if the keyring starts to need more.
 */
function memoryDb(): Db {
  const systemKeys = new Map<string, { name: string; master_key_id: string; wrapped: Buffer }>();
  const connection: DatabaseConnection = {
    async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
      const text = q.sql.replace(/\s+/g, ' ').trim();
      if (
        /^insert into "system_keys" \("name", "master_key_id", "wrapped"\) values \(\$1, \$2, \$3\)/.test(
          text,
        )
      ) {
        const [name, masterKeyId, wrapped] = q.parameters as [string, string, Buffer];
        if (systemKeys.has(name)) return { rows: [], numAffectedRows: 0n };
        systemKeys.set(name, { name, master_key_id: masterKeyId, wrapped });
        return { rows: [], numAffectedRows: 1n };
      }
      if (/^select "name", "master_key_id", "wrapped" from "system_keys"$/.test(text)) {
        return { rows: [...systemKeys.values()] as R[] };
      }
      throw new Error(`memoryDb does not understand: ${text}`);
    },
    // eslint-disable-next-line require-yield
    async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
      throw new Error('memoryDb does not stream');
    },
  };
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => Object.assign(new DummyDriver(), { acquireConnection: async () => connection }),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

function masterKeys(key: Buffer = randomBytes(32)): MasterKeys {
  return { keys: new Map([['k1', key]]), activeId: 'k1', source: 'env' };
}

const loadKeyring = (master: MasterKeys = masterKeys(), db: Db = memoryDb()) => Keyring.load(db, master);

describe('seal / open (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('round-trips strings and buffers', () => {
    const sealed = seal(key, '张三丰 13812345678', 'passengers/name/p1');
    expect(openText(key, sealed, 'passengers/name/p1')).toBe('张三丰 13812345678');
    const bytes = randomBytes(100);
    expect(open(key, seal(key, bytes, 'x'), 'x').equals(bytes)).toBe(true);
    expect(openText(key, seal(key, '', 'empty'), 'empty')).toBe('');
  });

  it('does not contain the plaintext and uses a fresh nonce each time', () => {
    const a = seal(key, 'secret value', 'aad');
    const b = seal(key, 'secret value', 'aad');
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from('secret value'))).toBe(false);
  });

  it('takes a distinct nonce for every value, across refills of the nonce pool', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => seal(key, `v${i}`, `aad${i}`));
    const nonces = new Set(values.map((v) => v.subarray(1, 13).toString('hex')));
    expect(nonces.size).toBe(values.length);
    // Values sealed before a refill still open: each kept its own copy of the nonce.
    values.forEach((v, i) => expect(openText(key, v, `aad${i}`)).toBe(`v${i}`));
  });

  it('refuses another associated data (a value moved to another row or column)', () => {
    const sealed = seal(key, 'hello', 'passengers/name/p1');
    expect(() => open(key, sealed, 'passengers/name/p2')).toThrow();
    expect(() => open(key, sealed, 'passengers/phone/p1')).toThrow();
  });

  it('refuses a flipped byte anywhere', () => {
    const sealed = seal(key, 'hello world', 'aad');
    for (let i = 1; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i] = tampered[i]! ^ 0x01;
      expect(() => open(key, tampered, 'aad'), `byte ${i}`).toThrow();
    }
  });

  it('refuses another key, an unknown format byte and a truncated value', () => {
    const sealed = seal(key, 'hello', 'aad');
    expect(() => open(randomBytes(32), sealed, 'aad')).toThrow();
    const wrongFormat = Buffer.from(sealed);
    wrongFormat[0] = 2;
    expect(() => open(key, wrongFormat, 'aad')).toThrow(/format/);
    expect(() => open(key, sealed.subarray(0, 20), 'aad')).toThrow(/format/);
  });
});

describe('hmac, deriveKey and blind indexes', () => {
  it('hmac is deterministic and depends on the key', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    expect(hmac(k1, 'phone', '13812345678').equals(hmac(k1, 'phone', '13812345678'))).toBe(true);
    expect(hmac(k1, 'phone', '13812345678').equals(hmac(k2, 'phone', '13812345678'))).toBe(false);
    expect(hmac(k1, 'phone', '13812345678')).toHaveLength(32);
  });

  it('hmac separates its parts', () => {
    const k = randomBytes(32);
    expect(hmac(k, 'ab', 'c').equals(hmac(k, 'a', 'bc'))).toBe(false);
    expect(hmac(k, 'phone', 'x').equals(hmac(k, 'id-number', 'x'))).toBe(false);
  });

  it('deriveKey gives independent 32-byte keys per purpose', () => {
    const k = randomBytes(32);
    expect(deriveKey(k, 'jwt')).toHaveLength(32);
    expect(deriveKey(k, 'jwt').equals(deriveKey(k, 'jwt'))).toBe(true);
    expect(deriveKey(k, 'jwt').equals(deriveKey(k, 'code-token'))).toBe(false);
    expect(deriveKey(k, 'jwt').equals(k)).toBe(false);
  });

  it('the keyring blind index is deterministic, kind-separated and keyring-dependent', async () => {
    const ring = await loadKeyring();
    const other = await loadKeyring();
    const a = ring.blindIndex('phone', '13812345678');
    expect(a.equals(ring.blindIndex('phone', '13812345678'))).toBe(true);
    expect(a.equals(ring.blindIndex('phone', '13812345679'))).toBe(false);
    expect(a.equals(ring.blindIndex('id-number', '13812345678'))).toBe(false);
    expect(a.equals(other.blindIndex('phone', '13812345678'))).toBe(false);
    expect(a.includes(Buffer.from('13812345678'))).toBe(false);
  });

  it('a keyring reloaded from the same stored keys and master key gives the same indexes and JWT secret', async () => {
    const db = memoryDb();
    const master = masterKeys();
    const first = await Keyring.load(db, master);
    const second = await Keyring.load(db, master);
    expect(first.blindIndex('subject', 'superapp:o_alice')).toEqual(
      second.blindIndex('subject', 'superapp:o_alice'),
    );
    expect(first.jwtSecret).toEqual(second.jwtSecret);
    // The stored keys cannot be opened with another master key.
    await expect(Keyring.load(db, masterKeys())).rejects.toThrow();
  });
});

describe('base32', () => {
  it('round-trips random buffers of every length up to 40 bytes', () => {
    for (let len = 0; len <= 40; len++) {
      for (let n = 0; n < 20; n++) {
        const buf = randomBytes(len);
        const text = base32Encode(buf);
        expect(text).toMatch(/^[A-Z2-7]*$/);
        expect(text).toHaveLength(Math.ceil((len * 8) / 5));
        expect(base32Decode(text)?.equals(buf), `${buf.toString('hex')} → ${text}`).toBe(true);
      }
    }
  });

  it('matches RFC 4648 test vectors (without padding)', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Encode(Buffer.from('f'))).toBe('MY');
    expect(base32Decode('MZXW6YTBOI')?.toString()).toBe('foobar');
  });

  it('rejects characters outside the alphabet', () => {
    expect(base32Decode('MZXW6YTB0I')).toBeNull();
    expect(base32Decode('mzxw6ytboi')).toBeNull();
    expect(base32Decode('MZXW=')).toBeNull();
  });
});

describe('carrier code tokens', () => {
  it('sign → verify round-trips the claims as a 32-character base32 token', async () => {
    const ring = await loadKeyring();
    for (const claims of [
      { carrierId: 1, generation: 1 },
      { carrierId: 123456, generation: 7 },
      { carrierId: 0x7fffffff, generation: 0xffff },
    ]) {
      const token = signCodeToken(ring, claims);
      expect(token).toMatch(/^[A-Z2-7]{32}$/);
      expect(verifyCodeToken(ring, token)).toEqual({ ok: true, ...claims });
    }
  });

  it('refuses carrier ids beyond a Postgres integer (never issued) as code_forged', async () => {
    const ring = await loadKeyring();
    const token = signCodeToken(ring, { carrierId: 0x80000000, generation: 1 });
    expect(verifyCodeToken(ring, token)).toEqual({ ok: false, error: 'code_forged' });
  });

  it('is deterministic for the same keyring and claims, and differs per generation', async () => {
    const ring = await loadKeyring();
    const a = signCodeToken(ring, { carrierId: 5, generation: 1 });
    expect(signCodeToken(ring, { carrierId: 5, generation: 1 })).toBe(a);
    expect(signCodeToken(ring, { carrierId: 5, generation: 2 })).not.toBe(a);
  });

  it('rejects other lengths as code_malformed', async () => {
    const ring = await loadKeyring();
    const token = signCodeToken(ring, { carrierId: 42, generation: 1 });
    for (const bad of ['', token.slice(0, 31), `${token}A`, token.slice(0, 16), `${token}${token}`]) {
      expect(verifyCodeToken(ring, bad)).toEqual({ ok: false, error: 'code_malformed' });
    }
  });

  it('rejects characters outside upper-case base32 as code_malformed', async () => {
    const ring = await loadKeyring();
    const token = signCodeToken(ring, { carrierId: 42, generation: 1 });
    for (const ch of ['0', '1', '8', '9', '=', '-', 'a']) {
      const bad = `${token.slice(0, 10)}${ch}${token.slice(11)}`;
      expect(verifyCodeToken(ring, bad), bad).toEqual({ ok: false, error: 'code_malformed' });
    }
  });

  it('rejects an unknown token version as code_malformed', async () => {
    const ring = await loadKeyring();
    const raw = base32Decode(signCodeToken(ring, { carrierId: 42, generation: 1 }))!;
    raw[0] = 2;
    expect(verifyCodeToken(ring, base32Encode(raw))).toEqual({ ok: false, error: 'code_malformed' });
  });

  it('rejects a flipped mac as code_forged', async () => {
    const ring = await loadKeyring();
    const raw = base32Decode(signCodeToken(ring, { carrierId: 42, generation: 1 }))!;
    for (const i of [8, 13, 19]) {
      const tampered = Buffer.from(raw);
      tampered[i] = tampered[i]! ^ 0x80;
      expect(verifyCodeToken(ring, base32Encode(tampered))).toEqual({ ok: false, error: 'code_forged' });
    }
  });

  it('rejects changed claims under the old mac as code_forged', async () => {
    const ring = await loadKeyring();
    const raw = base32Decode(signCodeToken(ring, { carrierId: 42, generation: 1 }))!;
    raw.writeUInt32BE(43, 2);
    expect(verifyCodeToken(ring, base32Encode(raw))).toEqual({ ok: false, error: 'code_forged' });
    raw.writeUInt32BE(42, 2);
    raw.writeUInt16BE(2, 6);
    expect(verifyCodeToken(ring, base32Encode(raw))).toEqual({ ok: false, error: 'code_forged' });
  });

  it('rejects an unknown code key id as code_forged', async () => {
    const ring = await loadKeyring();
    const raw = base32Decode(signCodeToken(ring, { carrierId: 42, generation: 1 }))!;
    raw[1] = 9;
    expect(verifyCodeToken(ring, base32Encode(raw))).toEqual({ ok: false, error: 'code_forged' });
  });

  it('rejects a token signed under another master key as code_forged', async () => {
    const ring = await loadKeyring();
    const other = await loadKeyring(masterKeys(randomBytes(32)));
    const foreign = signCodeToken(other, { carrierId: 42, generation: 1 });
    expect(verifyCodeToken(other, foreign)).toMatchObject({ ok: true });
    expect(verifyCodeToken(ring, foreign)).toEqual({ ok: false, error: 'code_forged' });
  });
});

describe('client secrets (scrypt)', () => {
  it('hashes as scrypt$N$r$p$salt$hash without the secret, salted', async () => {
    const secret = newSecret();
    const a = await hashSecret(secret);
    const b = await hashSecret(secret);
    expect(a).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/);
    expect(a).not.toContain(secret);
    expect(a).not.toBe(b);
  });

  it('verifies the right secret and refuses a wrong one', async () => {
    const secret = newSecret();
    const stored = await hashSecret(secret);
    await expect(verifySecret(secret, stored)).resolves.toBe(true);
    await expect(verifySecret(`${secret}x`, stored)).resolves.toBe(false);
    await expect(verifySecret('', stored)).resolves.toBe(false);
    await expect(verifySecret(newSecret(), stored)).resolves.toBe(false);
  });

  it('refuses a stored value of another format', async () => {
    await expect(verifySecret('secret', 'plain:secret')).resolves.toBe(false);
    await expect(verifySecret('secret', '')).resolves.toBe(false);
    await expect(verifySecret('secret', 'bcrypt$10$x$y$z$w')).resolves.toBe(false);
  });

  it('newSecret gives distinct url-safe secrets', () => {
    const a = newSecret();
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(newSecret()).not.toBe(a);
  });
});
