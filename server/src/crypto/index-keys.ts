import { notifyCacheEvent } from '../cache-events.js';
import type { Db } from '../db/index.js';
import { newDataKey } from './aead.js';
import * as repo from './index-keys.repository.js';
import type { Keyring } from './keyring.js';

/** The generation is a smallint column. */
const MAX_INDEX_GENERATION = 32_767;

/**
 * Where a blind-index key rotation stands:
 * - `settled`: one generation; lookups match it alone;
 * - `announced`: the next generation's key exists and lookups match it too, but indexes are still written under the
 *   current one (a server that has not yet read the change would otherwise miss what the others write);
 * - `switched`: indexes are written under the new generation, lookups still match the previous one, whose rows
 *   are recomputed.
 */
export type IndexKeyPhase = 'settled' | 'announced' | 'switched';

export interface IndexKeyState {
  phase: IndexKeyPhase;
  /** New identity indexes are written under it. */
  generation: number;
  /** The rotation's other generation (next when announced, previous when switched); null when settled. */
  otherGeneration: number | null;
  /** When the phase began: the next step waits until every server has read it. */
  changedAt: Date;
}

function stateOf(row: {
  generation: number;
  other_generation: number | null;
  changed_at: Date;
}): IndexKeyState {
  const other = row.other_generation;
  return {
    phase: other === null ? 'settled' : other > row.generation ? 'announced' : 'switched',
    generation: row.generation,
    otherGeneration: other,
    changedAt: row.changed_at,
  };
}

export async function indexKeyState(db: Db): Promise<IndexKeyState> {
  return stateOf(await repo.findIndexKeyState(db));
}

/**
 * Step 1 of a rotation: adds the key of the next generation, which lookups match from now on; indexes are still
 * written under the current one. Nothing changes unless the keys are settled.
 */
export async function announceIndexKey(db: Db, keyring: Keyring, now: Date): Promise<IndexKeyState> {
  return db.transaction().execute(async (tx) => {
    const state = stateOf(await repo.findIndexKeyStateForUpdate(tx));
    if (state.phase !== 'settled') return state;
    const next = state.generation + 1;
    if (next > MAX_INDEX_GENERATION)
      throw new Error(`blind-index key generations end at ${MAX_INDEX_GENERATION}`);
    const w = keyring.wrap(newDataKey(), `system_keys/${repo.indexKeyName(next)}`);
    await repo.insertIndexKey(tx, next, w.masterKeyId, w.wrapped);
    const row = { generation: state.generation, other_generation: next, changed_at: now };
    await repo.updateIndexKeyState(tx, row);
    // Servers re-read the generations when this commits; the rotation still waits out the max age between steps,
    // for a server that missed the notification.
    await notifyCacheEvent(tx, { kind: 'index-keys' });
    return stateOf(row);
  });
}

/** Step 2: indexes are written under the new generation; lookups keep matching the previous one. */
export async function switchIndexKey(db: Db, now: Date): Promise<IndexKeyState> {
  return db.transaction().execute(async (tx) => {
    const state = stateOf(await repo.findIndexKeyStateForUpdate(tx));
    if (state.phase !== 'announced') return state;
    const row = { generation: state.otherGeneration!, other_generation: state.generation, changed_at: now };
    await repo.updateIndexKeyState(tx, row);
    await notifyCacheEvent(tx, { kind: 'index-keys' });
    return stateOf(row);
  });
}

/**
 * Step 3, in the caller's transaction, once no index of the previous generation is left: lookups match the new
 * generation alone and the previous key is destroyed, except the first (ride idempotency keys stay under it).
 * Returns the generation ended, or null when the keys were not in the switched phase.
 */
export async function settleIndexKey(
  tx: Db,
  now: Date,
): Promise<{ ended: number; keyDestroyed: boolean } | null> {
  const state = stateOf(await repo.findIndexKeyStateForUpdate(tx));
  if (state.phase !== 'switched') return null;
  const ended = state.otherGeneration!;
  await repo.updateIndexKeyState(tx, {
    generation: state.generation,
    other_generation: null,
    changed_at: now,
  });
  if (ended !== 1) await repo.deleteIndexKey(tx, ended);
  // The destroyed key leaves every server's memory when this commits.
  await notifyCacheEvent(tx, { kind: 'index-keys' });
  return { ended, keyDestroyed: ended !== 1 };
}

export { indexKeyName, releaseIndexRotationLock, tryIndexRotationLock } from './index-keys.repository.js';
