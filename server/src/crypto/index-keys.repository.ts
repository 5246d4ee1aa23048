import { sql } from 'kysely';
import type { Db } from '../db/index.js';

/**
 * Blind-index keys are the system keys `blind-index` (generation 1) and `blind-index-<n>` (generation n, added by
 * rotations); `index_key_state` says which generations are in use.
 */
const LATER_INDEX_KEY_NAME = '^blind-index-[0-9]+$';

export const indexKeyName = (generation: number): string =>
  generation === 1 ? 'blind-index' : `blind-index-${generation}`;

/** The generation of a blind-index key's name; null for any other system key. */
export function indexKeyGenerationOf(name: string): number | null {
  if (name === 'blind-index') return 1;
  return new RegExp(LATER_INDEX_KEY_NAME).test(name) ? Number(name.slice('blind-index-'.length)) : null;
}

/** The generations in use; generation 1 alone when the row is missing (a database that never rotated). */
export async function findIndexKeyState(db: Db) {
  const row = await db
    .selectFrom('index_key_state')
    .select(['generation', 'other_generation', 'changed_at'])
    .executeTakeFirst();
  return row ?? { generation: 1, other_generation: null, changed_at: new Date(0) };
}

/** The state row, locked until the caller's transaction ends. */
export async function findIndexKeyStateForUpdate(db: Db) {
  return db
    .selectFrom('index_key_state')
    .select(['generation', 'other_generation', 'changed_at'])
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function updateIndexKeyState(
  db: Db,
  state: { generation: number; other_generation: number | null; changed_at: Date },
) {
  await db.updateTable('index_key_state').set(state).execute();
}

/** Every blind-index key (generation 1 included). */
export async function findIndexKeys(db: Db) {
  return db
    .selectFrom('system_keys')
    .select(['name', 'master_key_id', 'wrapped'])
    .where((eb) => eb.or([eb('name', '=', 'blind-index'), eb('name', '~', LATER_INDEX_KEY_NAME)]))
    .execute();
}

/** A new generation's key; fails if the name exists (a key must never be used for a second generation). */
export async function insertIndexKey(db: Db, generation: number, masterKeyId: string, wrapped: Buffer) {
  await db
    .insertInto('system_keys')
    .values({ name: indexKeyName(generation), master_key_id: masterKeyId, wrapped })
    .execute();
}

/** Destroys a later generation's key (generation 1 stays: ride idempotency keys are under it for good). */
export async function deleteIndexKey(db: Db, generation: number) {
  if (generation === 1) throw new Error('the first blind-index key is never destroyed');
  await db.deleteFrom('system_keys').where('name', '=', indexKeyName(generation)).execute();
}

/** One rotation at a time (session lock on the caller's connection; released when it closes, even on kill -9). */
export async function tryIndexRotationLock(db: Db): Promise<boolean> {
  const r = await sql<{
    ok: boolean;
  }>`select pg_try_advisory_lock(hashtext('ridetrace.index-keys')) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

export async function releaseIndexRotationLock(db: Db): Promise<void> {
  await sql`select pg_advisory_unlock(hashtext('ridetrace.index-keys'))`.execute(db);
}
