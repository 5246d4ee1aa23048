import { sql } from 'kysely';
import type { Db } from '../db/index.js';

/** Code-signing keys are the system keys named `code-<id>`; the id is the key id byte of a code token. */
const CODE_KEY_NAME = '^code-[0-9]+$';

export const codeKeyName = (id: number): string => `code-${id}`;

export function codeKeyIdOf(name: string): number | null {
  return new RegExp(CODE_KEY_NAME).test(name) ? Number(name.slice('code-'.length)) : null;
}

export async function findCodeKeys(db: Db) {
  return db
    .selectFrom('system_keys')
    .select(['name', 'master_key_id', 'wrapped', 'created_at', 'retires_at'])
    .where('name', '~', CODE_KEY_NAME)
    .execute();
}

/** Serialises rotations (two at once would pick the same next id); released at the end of the transaction. */
export async function lockCodeKeys(tx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('ridetrace.code_keys'))`.execute(tx);
}

export async function insertCodeKey(db: Db, id: number, masterKeyId: string, wrapped: Buffer) {
  await db
    .insertInto('system_keys')
    .values({ name: codeKeyName(id), master_key_id: masterKeyId, wrapped })
    .execute();
}

/** Every code key but `keepId` retires at `at` at the latest: an earlier retirement stays, a later one is brought forward. */
export async function retireCodeKeysExcept(db: Db, keepId: number, at: Date) {
  await db
    .updateTable('system_keys')
    .set({ retires_at: sql<Date>`least(coalesce(retires_at, ${at}), ${at})` })
    .where('name', '~', CODE_KEY_NAME)
    .where('name', '<>', codeKeyName(keepId))
    .execute();
}
