import type { Db } from '../db/index.js';
import type { Keyring } from './keyring.js';
import * as repo from './keys.repository.js';

export interface KeyStatus {
  activeMasterKeyId: string;
  configuredMasterKeyIds: string[];
  /** Wrapped data keys per table and master key id. */
  wrapped: Awaited<ReturnType<typeof repo.countWrappedKeys>>;
  /** Wrapped keys not yet under the active master key. */
  pending: number;
}

export async function keyStatus(db: Db, keyring: Keyring): Promise<KeyStatus> {
  const wrapped = await repo.countWrappedKeys(db);
  const active = keyring.activeMasterKeyId;
  const pending = Object.values(wrapped)
    .flatMap((byId) => Object.entries(byId))
    .filter(([id]) => id !== active)
    .reduce((sum, [, n]) => sum + n, 0);
  return { activeMasterKeyId: active, configuredMasterKeyIds: keyring.masterKeyIds, wrapped, pending };
}

const TABLES = [
  {
    name: 'system_keys',
    label: (ref: string) => `system_keys/${ref}`,
    find: repo.findSystemKeysNotUnder,
    replace: repo.replaceSystemKeyWrap,
  },
  {
    name: 'ride_day_keys',
    label: (ref: string) => `ride_day_keys/${ref}`,
    find: repo.findDayKeysNotUnder,
    replace: repo.replaceDayKeyWrap,
  },
  {
    name: 'passengers',
    label: (ref: string) => `passengers/dek/${ref}`,
    find: repo.findPassengerKeysNotUnder,
    replace: repo.replacePassengerKeyWrap,
  },
] as const;

/**
 * Online rotation: rewraps every data key that is not under the active master key, in batches. Data keys (and so
 * every ciphertext) stay the same; only their wrapping changes, so nothing has to be re-encrypted and old
 * ciphertext stays readable throughout. Servers must have the new master key configured before this runs.
 */
export async function rewrapAll(
  db: Db,
  keyring: Keyring,
  opts: { batch?: number; onProgress?: (done: number) => void } = {},
): Promise<Record<string, number>> {
  const batch = opts.batch ?? 500;
  const active = keyring.activeMasterKeyId;
  const done: Record<string, number> = {};
  let total = 0;
  for (const t of TABLES) {
    done[t.name] = 0;
    for (;;) {
      const rows = await t.find(db, active, batch);
      if (rows.length === 0) break;
      await db.transaction().execute(async (tx) => {
        for (const row of rows) {
          const w = keyring.rewrap(
            { masterKeyId: row.master_key_id, wrapped: row.wrapped },
            t.label(row.ref),
          );
          await t.replace(tx, row.ref, row.master_key_id, w);
        }
      });
      done[t.name]! += rows.length;
      total += rows.length;
      opts.onProgress?.(total);
    }
  }
  return done;
}
