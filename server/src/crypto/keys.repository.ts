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

/** Wrapped keys per master key id, per table. */
export async function countWrappedKeys(db: Db) {
  const [system, days, passengers] = await Promise.all([
    db
      .selectFrom('system_keys')
      .select(['master_key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('master_key_id')
      .execute(),
    db
      .selectFrom('ride_day_keys')
      .select(['master_key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('master_key_id')
      .execute(),
    db
      .selectFrom('passengers')
      .select(['dek_master_key_id as master_key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('dek_master_key_id', 'is not', null)
      .groupBy('dek_master_key_id')
      .execute(),
  ]);
  const byId = (rows: { master_key_id: string | null; n: number | string }[]) =>
    Object.fromEntries(rows.map((r) => [r.master_key_id ?? '', Number(r.n)]));
  return { system_keys: byId(system), ride_day_keys: byId(days), passengers: byId(passengers) };
}

export async function findSystemKeysNotUnder(db: Db, masterKeyId: string, limit: number) {
  return db
    .selectFrom('system_keys')
    .select(['name as ref', 'master_key_id', 'wrapped'])
    .where('master_key_id', '<>', masterKeyId)
    .limit(limit)
    .execute();
}

export async function findDayKeysNotUnder(db: Db, masterKeyId: string, limit: number) {
  return db
    .selectFrom('ride_day_keys')
    .select(['day as ref', 'master_key_id', 'wrapped'])
    .where('master_key_id', '<>', masterKeyId)
    .limit(limit)
    .execute();
}

export async function findPassengerKeysNotUnder(db: Db, masterKeyId: string, limit: number) {
  const rows = await db
    .selectFrom('passengers')
    .select(['id as ref', 'dek_master_key_id', 'dek_wrapped'])
    .where('dek_master_key_id', '<>', masterKeyId)
    .where('dek_wrapped', 'is not', null)
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ref: r.ref, master_key_id: r.dek_master_key_id!, wrapped: r.dek_wrapped! }));
}

/** Compare-and-set: only replaces a wrap that is still under the old master key (safe with concurrent writers). */
export async function replaceSystemKeyWrap(
  db: Db,
  ref: string,
  oldId: string,
  w: { masterKeyId: string; wrapped: Buffer },
) {
  await db
    .updateTable('system_keys')
    .set({ master_key_id: w.masterKeyId, wrapped: w.wrapped })
    .where('name', '=', ref)
    .where('master_key_id', '=', oldId)
    .execute();
}

export async function replaceDayKeyWrap(
  db: Db,
  ref: string,
  oldId: string,
  w: { masterKeyId: string; wrapped: Buffer },
) {
  await db
    .updateTable('ride_day_keys')
    .set({ master_key_id: w.masterKeyId, wrapped: w.wrapped })
    .where('day', '=', ref)
    .where('master_key_id', '=', oldId)
    .execute();
}

export async function replacePassengerKeyWrap(
  db: Db,
  ref: string,
  oldId: string,
  w: { masterKeyId: string; wrapped: Buffer },
) {
  await db
    .updateTable('passengers')
    .set({ dek_master_key_id: w.masterKeyId, dek_wrapped: w.wrapped })
    .where('id', '=', ref)
    .where('dek_master_key_id', '=', oldId)
    .execute();
}
