import { notifyCacheEvent } from '../cache-events.js';
import type { Db } from '../db/index.js';
import { newDataKey } from './aead.js';
import * as repo from './code-keys.repository.js';
import type { Keyring } from './keyring.js';

/** The key id is one byte of the code token. */
const MAX_CODE_KEY_ID = 255;
const DAY_MS = 86_400_000;

/** A code-signing key as operators see it (`pnpm cli keys list`); never the key itself. */
export interface CodeKeyInfo {
  id: number;
  createdAt: Date;
  /** Signs new codes (issue, re-issue, new carriers, posters): the newest key. */
  active: boolean;
  /** Posters signed with the key stop scanning from then on (410 code_key_retired); null: not retiring. */
  retiresAt: Date | null;
}

/** Every code-signing key, oldest first. */
export async function listCodeKeys(db: Db): Promise<CodeKeyInfo[]> {
  const rows = (await repo.findCodeKeys(db))
    .map((r) => ({ id: repo.codeKeyIdOf(r.name)!, createdAt: r.created_at, retiresAt: r.retires_at }))
    .sort((a, b) => a.id - b.id);
  const activeId = rows.at(-1)?.id;
  return rows.map((r) => ({ ...r, active: r.id === activeId }));
}

export interface CodeKeyRotation {
  /** The new key, now signing every new code. */
  active: CodeKeyInfo;
  /** Older keys that still verify their posters until `retiresAt` (the grace period). */
  inGrace: CodeKeyInfo[];
}

/**
 * Adds a code-signing key and makes it active. Posters of older keys keep scanning for `graceDays` (0: they stop
 * at once), time to print new posters (`pnpm cli posters --reissue`) and put them up. A rotation never extends an
 * earlier one's grace period: it can only bring it forward (rotating with a short grace after a suspected leak
 * ends every older key by then). Servers learn of it without a restart (Keyring.syncCodeKeys).
 */
export async function rotateCodeKey(
  db: Db,
  keyring: Keyring,
  opts: { graceDays: number; now: Date },
): Promise<CodeKeyRotation> {
  const retiresAt = new Date(opts.now.getTime() + opts.graceDays * DAY_MS);
  const id = await db.transaction().execute(async (tx) => {
    await repo.lockCodeKeys(tx);
    const ids = (await repo.findCodeKeys(tx)).map((r) => repo.codeKeyIdOf(r.name)!);
    const next = Math.max(0, ...ids) + 1;
    if (next > MAX_CODE_KEY_ID) {
      throw new Error(`code key ids end at ${MAX_CODE_KEY_ID} (one byte of the code token)`);
    }
    const w = keyring.wrap(newDataKey(), `system_keys/${repo.codeKeyName(next)}`);
    await repo.insertCodeKey(tx, next, w.masterKeyId, w.wrapped);
    await repo.retireCodeKeysExcept(tx, next, retiresAt);
    // Every server re-reads its code keys when this commits, instead of within CODE_KEYS_MAX_AGE_MS.
    await notifyCacheEvent(tx, { kind: 'code-keys' });
    return next;
  });
  await keyring.readCodeKeys(db, opts.now);
  const keys = await listCodeKeys(db);
  return {
    active: keys.find((k) => k.id === id)!,
    inGrace: keys.filter((k) => k.retiresAt !== null && k.retiresAt > opts.now),
  };
}
