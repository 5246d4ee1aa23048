import type { Db } from '../db/index.js';
import { deriveKey, hmac, newDataKey, open, seal } from './aead.js';
import { codeKeyIdOf, findCodeKeys } from './code-keys.repository.js';
import { findIndexKeys, findIndexKeyState, indexKeyGenerationOf } from './index-keys.repository.js';
import {
  findDayKey,
  findSystemKeys,
  insertDayKeyIfMissing,
  insertSystemKeyIfMissing,
} from './keys.repository.js';
import type { MasterKeys } from './master-keys.js';

/**
 * System data keys, created on first start and shared by every server process through the database. `code-1` is
 * the first code-signing key; rotations add `code-2`, `code-3`, … (see `CodeKeys`). `blind-index` is the first
 * blind-index key; rotations add `blind-index-2`, … (see `IndexKeys`).
 */
const SYSTEM_KEYS = ['blind-index', 'code-1', 'jwt', 'status-1', 'cases-1'] as const;
type SystemKeyName = (typeof SYSTEM_KEYS)[number];

/** A code-signing key as verification needs it: the derived signing key and when its posters stop scanning. */
interface CodeKey {
  key: Buffer;
  retiresAt: Date | null;
}

/**
 * This process's view of the code-signing keys: the highest id signs, older ones verify until they retire.
 * `readAtMs` is when retirement times were last read (null: not yet; Keyring.load reads only the key material).
 */
interface CodeKeys {
  byId: ReadonlyMap<number, CodeKey>;
  activeId: number;
  readAtMs: number | null;
}

/**
 * Another process may rotate the code key at any time: verification re-reads the code keys when its view is older
 * than this, or at once for a token of a key id newer than any it knows (a poster printed after the rotation).
 */
export const CODE_KEYS_MAX_AGE_MS = 60_000;

/** Blind indexes of a person's identity: phone, ID document, super-app subject, SMS codes and their requesters. */
export type IdentityIndexKind = 'phone' | 'id-number' | 'subject' | 'otp-code' | 'otp-requester';

/**
 * This process's view of the blind-index key generations (`index_key_state`): new identity indexes are written under
 * `write`; lookups match every generation of `lookups` (two while a rotation runs). `readAtMs`: when it was read
 * (null: not yet; until then generation 1 alone, as on a database that never rotated).
 */
interface IndexKeys {
  write: number;
  lookups: readonly number[];
  readAtMs: number | null;
}

export interface WrappedKey {
  masterKeyId: string;
  wrapped: Buffer;
}

/** Per-day ride keys: `index` for the passenger blind index, `seal` for the sealed passenger id. */
export interface DayKey {
  day: string;
  index: Buffer;
  seal: Buffer;
}

export class DayKeyDestroyedError extends Error {}

/**
 * Envelope encryption: master keys (outside the database) wrap data keys (inside it). Every wrapped key
 * records its master key id, so a new master key can be introduced and old wraps still open.
 */
export class Keyring {
  private readonly dayKeys = new Map<string, Promise<DayKey>>();
  /** Purpose keys derived from the system keys once (HKDF on every use is a visible share of a scan's CPU). */
  private readonly derived = new Map<string, Buffer>();
  private codeKeys: CodeKeys;
  private codeKeysReading: Promise<void> | null = null;
  /** Bumped when another process changed the keys: a read started before then must not become the view. */
  private codeKeysEpoch = 0;
  private indexKeys: IndexKeys = { write: 1, lookups: [1], readAtMs: null };
  private indexKeysReading: Promise<void> | null = null;
  private indexKeysEpoch = 0;

  private constructor(
    private readonly master: MasterKeys,
    private readonly system: ReadonlyMap<SystemKeyName, Buffer>,
    codeRoots: ReadonlyMap<number, Buffer> = new Map(),
    /** Blind-index keys of generation 2 and later (generation 1 is the system key `blind-index`). */
    private indexRoots: ReadonlyMap<number, Buffer> = new Map(),
  ) {
    const byId = new Map<number, CodeKey>();
    for (const [id, root] of codeRoots) byId.set(id, { key: deriveKey(root, 'code-token'), retiresAt: null });
    this.codeKeys = { byId, activeId: Math.max(0, ...byId.keys()), readAtMs: null };
  }

  private derivedKey(name: SystemKeyName, purpose: string): Buffer | undefined {
    const id = `${name}/${purpose}`;
    let k = this.derived.get(id);
    if (!k) {
      const root = this.system.get(name);
      if (!root) return undefined;
      k = deriveKey(root, purpose);
      this.derived.set(id, k);
    }
    return k;
  }

  private requiredKey(name: SystemKeyName, purpose: string): Buffer {
    const k = this.derivedKey(name, purpose);
    if (!k) throw new Error(`system key ${name} missing`);
    return k;
  }

  static async load(db: Db, master: MasterKeys): Promise<Keyring> {
    const ring = new Keyring(master, new Map());
    for (const name of SYSTEM_KEYS) {
      const w = ring.wrap(newDataKey(), `system_keys/${name}`);
      await insertSystemKeyIfMissing(db, name, w.masterKeyId, w.wrapped);
    }
    const system = new Map<SystemKeyName, Buffer>();
    const codeRoots = new Map<number, Buffer>();
    const indexRoots = new Map<number, Buffer>();
    for (const row of await findSystemKeys(db)) {
      const root = ring.unwrap(
        { masterKeyId: row.master_key_id, wrapped: row.wrapped },
        `system_keys/${row.name}`,
      );
      const codeId = codeKeyIdOf(row.name);
      const generation = indexKeyGenerationOf(row.name);
      if (codeId !== null) codeRoots.set(codeId, root);
      else if (generation !== null && generation > 1) indexRoots.set(generation, root);
      else system.set(row.name as SystemKeyName, root);
    }
    return new Keyring(master, system, codeRoots, indexRoots);
  }

  get activeMasterKeyId(): string {
    return this.master.activeId;
  }

  get masterKeyIds(): string[] {
    return [...this.master.keys.keys()];
  }

  /** The same data key, wrapped under the active master key (key rotation). */
  rewrap(w: WrappedKey, label: string): WrappedKey {
    return this.wrap(this.unwrap(w, label), label);
  }

  wrap(dataKey: Buffer, label: string): WrappedKey {
    const key = this.master.keys.get(this.master.activeId)!;
    return { masterKeyId: this.master.activeId, wrapped: seal(key, dataKey, `wrap:${label}`) };
  }

  unwrap(w: WrappedKey, label: string): Buffer {
    const key = this.master.keys.get(w.masterKeyId);
    if (!key) throw new Error(`master key ${w.masterKeyId} is not configured`);
    return open(key, w.wrapped, `wrap:${label}`);
  }

  private systemKey(name: SystemKeyName): Buffer {
    const k = this.system.get(name);
    if (!k) throw new Error(`system key ${name} missing`);
    return k;
  }

  /** Secret for HS256 passenger and client tokens. */
  get jwtSecret(): Buffer {
    return this.requiredKey('jwt', 'jwt');
  }

  /** Code-signing keys by the key id carried in the token (1 byte), retired ones included. */
  codeKey(id: number): Buffer | undefined {
    return this.codeKeys.byId.get(id)?.key;
  }

  /** When codes of key `id` stop scanning, as this process last read it; null: not retiring (or unknown key). */
  codeKeyRetiresAt(id: number): Date | null {
    return this.codeKeys.byId.get(id)?.retiresAt ?? null;
  }

  /** The key that signs new codes: the newest. */
  get activeCodeKeyId(): number {
    return this.codeKeys.activeId;
  }

  /**
   * Makes this process's view of the code keys good enough to judge a token of `keyId` at `now`: no database read
   * unless the view is older than CODE_KEYS_MAX_AGE_MS (or never read) or `keyId` is newer than every known key.
   */
  async syncCodeKeys(db: Db, now: Date, keyId: number | null = null): Promise<void> {
    const { readAtMs, activeId } = this.codeKeys;
    const stale = readAtMs === null || Math.abs(now.getTime() - readAtMs) >= CODE_KEYS_MAX_AGE_MS;
    if (stale || (keyId !== null && keyId > activeId)) await this.readCodeKeys(db, now);
  }

  /**
   * Reads the code keys from the database now (signing must not use a key another process has just replaced).
   * Concurrent callers share one read; key material already known is not unwrapped again.
   */
  readCodeKeys(db: Db, now: Date): Promise<void> {
    const epoch = this.codeKeysEpoch;
    const reading = (this.codeKeysReading ??= (async () => {
      const known = this.codeKeys.byId;
      const byId = new Map<number, CodeKey>();
      for (const row of await findCodeKeys(db)) {
        const id = codeKeyIdOf(row.name)!;
        const key =
          known.get(id)?.key ??
          deriveKey(
            this.unwrap({ masterKeyId: row.master_key_id, wrapped: row.wrapped }, `system_keys/${row.name}`),
            'code-token',
          );
        byId.set(id, { key, retiresAt: row.retires_at });
      }
      if (byId.size === 0) throw new Error('no code-signing key in system_keys');
      // Read before a change another process announced since: the caller waits for a read made after it.
      if (epoch !== this.codeKeysEpoch) return this.readCodeKeys(db, now);
      this.codeKeys = { byId, activeId: Math.max(...byId.keys()), readAtMs: now.getTime() };
    })().finally(() => {
      if (this.codeKeysReading === reading) this.codeKeysReading = null;
    }));
    return reading;
  }

  /**
   * Another process changed the code keys (a rotation): this view is stale, and a read already under way may have
   * started before the change, so the next read starts afresh.
   */
  invalidateCodeKeys(): void {
    this.codeKeysEpoch++;
    this.codeKeysReading = null;
    this.codeKeys = { ...this.codeKeys, readAtMs: null };
  }

  statusKey(): Buffer {
    return this.requiredKey('status-1', 'status-token');
  }

  /** Seals case fields that may hold health data (the reason). */
  caseKey(): Buffer {
    return this.requiredKey('cases-1', 'case-fields');
  }

  /** Seals officials' TOTP secrets (derived from the case-fields root for its own purpose). */
  officialSecretKey(): Buffer {
    return this.requiredKey('cases-1', 'official-totp');
  }

  /**
   * Blind index: equal inputs give equal indexes, without the value being stored or recoverable. Identity kinds are
   * written under this process's current generation (see `syncIndexKeys`).
   */
  blindIndex(kind: IdentityIndexKind | 'ride-request', value: string): Buffer {
    // Ride idempotency keys hash a random passenger id and the client's random ride id, neither stored: they index
    // no identity and could not be recomputed, so they stay under the first key for good.
    if (kind === 'ride-request') return hmac(this.systemKey('blind-index'), kind, value);
    return hmac(this.indexRoot(this.indexKeys.write)!, kind, value);
  }

  /** The indexes a lookup matches: one per generation in use (two while a rotation runs), the current one first. */
  blindIndexes(kind: IdentityIndexKind, value: string): Buffer[] {
    return this.indexKeys.lookups.map((g) => hmac(this.indexRoot(g)!, kind, value));
  }

  /** The index under one generation's key; null when this process does not hold that key (destroyed, or unknown). */
  blindIndexAt(generation: number, kind: IdentityIndexKind, value: string): Buffer | null {
    const root = this.indexRoot(generation);
    return root ? hmac(root, kind, value) : null;
  }

  /** The generation new identity indexes are written under. */
  get indexGeneration(): number {
    return this.indexKeys.write;
  }

  /** The generations lookups match, the current one first. */
  get indexGenerations(): readonly number[] {
    return this.indexKeys.lookups;
  }

  private indexRoot(generation: number): Buffer | undefined {
    return generation === 1 ? this.system.get('blind-index') : this.indexRoots.get(generation);
  }

  /**
   * Makes this process's view of the blind-index generations current enough: no database read unless it is older
   * than `maxAgeMs` (or was never read). A rotation waits longer than that between its steps, so no process still
   * works with a view from before a step once the next one starts.
   */
  async syncIndexKeys(db: Db, now: Date, maxAgeMs: number): Promise<void> {
    const { readAtMs } = this.indexKeys;
    if (readAtMs === null || Math.abs(now.getTime() - readAtMs) >= maxAgeMs)
      await this.readIndexKeys(db, now);
  }

  /**
   * Reads the generations in use and their keys now. Concurrent callers share one read; key material already known
   * is not unwrapped again, and keys destroyed since are forgotten.
   */
  readIndexKeys(db: Db, now: Date): Promise<void> {
    const epoch = this.indexKeysEpoch;
    const reading = (this.indexKeysReading ??= (async () => {
      const state = await findIndexKeyState(db);
      const roots = new Map<number, Buffer>();
      for (const row of await findIndexKeys(db)) {
        const g = indexKeyGenerationOf(row.name)!;
        if (g === 1) continue;
        roots.set(
          g,
          this.indexRoots.get(g) ??
            this.unwrap({ masterKeyId: row.master_key_id, wrapped: row.wrapped }, `system_keys/${row.name}`),
        );
      }
      if (epoch !== this.indexKeysEpoch) return this.readIndexKeys(db, now);
      this.indexRoots = roots;
      const write = state.generation;
      if (!this.indexRoot(write)) throw new Error(`blind-index key of generation ${write} missing`);
      // The other generation's key may have been destroyed between the two reads: the rotation just ended.
      const other = state.other_generation;
      const lookups = other !== null && this.indexRoot(other) ? [write, other] : [write];
      this.indexKeys = { write, lookups, readAtMs: now.getTime() };
    })().finally(() => {
      if (this.indexKeysReading === reading) this.indexKeysReading = null;
    }));
    return reading;
  }

  /** Another process changed the blind-index generations (a rotation step): as invalidateCodeKeys. */
  invalidateIndexKeys(): void {
    this.indexKeysEpoch++;
    this.indexKeysReading = null;
    this.indexKeys = { ...this.indexKeys, readAtMs: null };
  }

  /** The data key of one ride day, created on first use; cached per process. */
  dayKey(db: Db, day: string): Promise<DayKey> {
    let p = this.dayKeys.get(day);
    if (!p) {
      p = this.loadDayKey(db, day);
      this.dayKeys.set(day, p);
      p.catch(() => this.dayKeys.delete(day));
    }
    return p;
  }

  /**
   * Reads an existing day key without creating it; null when it was destroyed or never existed. A key found is
   * cached like `dayKey`'s (traces read a month of days per request), and forgotten the same way on purge.
   */
  async existingDayKey(db: Db, day: string): Promise<DayKey | null> {
    const cached = this.dayKeys.get(day);
    if (cached) return cached;
    const row = await findDayKey(db, day);
    if (!row) return null;
    const key = this.toDayKey(day, row);
    if (!this.dayKeys.has(day)) this.dayKeys.set(day, Promise.resolve(key));
    return key;
  }

  /** Whether this process holds the key of `day` (read or being read). */
  holdsDayKey(day: string): boolean {
    return this.dayKeys.has(day);
  }

  /** Forgets cached day keys (after a purge destroyed them). */
  forgetDayKey(day: string): void {
    this.dayKeys.delete(day);
  }

  /** Forgets every cached key of a day before `day` (another process may have purged them). */
  forgetDaysBefore(day: string): void {
    for (const d of this.dayKeys.keys()) if (d < day) this.dayKeys.delete(d);
  }

  private async loadDayKey(db: Db, day: string): Promise<DayKey> {
    let row = await findDayKey(db, day);
    if (!row) {
      const w = this.wrap(newDataKey(), `ride_day_keys/${day}`);
      await insertDayKeyIfMissing(db, day, w.masterKeyId, w.wrapped);
      row = await findDayKey(db, day);
    }
    if (!row) throw new DayKeyDestroyedError(`day key ${day} is gone`);
    return this.toDayKey(day, row);
  }

  private toDayKey(day: string, row: { master_key_id: string; wrapped: Buffer }): DayKey {
    const dek = this.unwrap({ masterKeyId: row.master_key_id, wrapped: row.wrapped }, `ride_day_keys/${day}`);
    return {
      day,
      index: deriveKey(dek, 'ride-passenger-index'),
      seal: deriveKey(dek, 'ride-passenger-seal'),
    };
  }
}
