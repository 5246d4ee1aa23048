import type { Db } from '../db/index.js';

export async function insertSystemKeyIfMissing(db: Db, name: string, masterKeyId: string, wrapped: Buffer) {
  await db
    .insertInto('system_keys')
    .values({ name, master_key_id: masterKeyId, wrapped })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function findSystemKeys(db: Db) {
  return db.selectFrom('system_keys').select(['name', 'master_key_id', 'wrapped']).execute();
}

export async function insertDayKeyIfMissing(db: Db, day: string, masterKeyId: string, wrapped: Buffer) {
  await db
    .insertInto('ride_day_keys')
    .values({ day, master_key_id: masterKeyId, wrapped })
    .onConflict((oc) => oc.column('day').doNothing())
    .execute();
}

export async function findDayKey(db: Db, day: string) {
  return db
    .selectFrom('ride_day_keys')
    .select(['day', 'master_key_id', 'wrapped'])
    .where('day', '=', day)
    .executeTakeFirst();
}
