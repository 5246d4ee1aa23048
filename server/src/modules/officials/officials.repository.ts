import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { OfficialsTable } from '../../db/tables.js';

export async function insertOfficial(db: Db, row: Insertable<OfficialsTable>) {
  return db
    .insertInto('officials')
    .values(row)
    .onConflict((oc) => oc.column('username').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findOfficialByUsername(db: Db, username: string) {
  return db.selectFrom('officials').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findOfficial(db: Db, id: string) {
  return db.selectFrom('officials').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listOfficials(db: Db) {
  return db.selectFrom('officials').selectAll().orderBy('username').execute();
}

export async function updateOfficial(db: Db, id: string, set: Updateable<OfficialsTable>) {
  return db.updateTable('officials').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

/**
 * Counts a failed sign-in; the one that reaches `max` locks the account until `lockUntil` and starts the count
 * again. One statement, so concurrent failures count each.
 */
export async function countFailedSignIn(db: Db, id: string, max: number, lockUntil: Date) {
  return db
    .updateTable('officials')
    .set((eb) => ({
      failed_attempts: eb
        .case()
        .when('failed_attempts', '>=', max - 1)
        .then(0)
        .else(eb('failed_attempts', '+', 1))
        .end(),
      locked_until: eb
        .case()
        .when('failed_attempts', '>=', max - 1)
        .then(lockUntil)
        .else(eb.ref('locked_until'))
        .end(),
    }))
    .where('id', '=', id)
    .returning(['failed_attempts', 'locked_until'])
    .executeTakeFirst();
}

/** Records a good sign-in: the count starts again and the one-time code's time step can never be used again. */
export async function recordSignIn(db: Db, id: string, totpStep: number) {
  const r = await db
    .updateTable('officials')
    .set({ failed_attempts: 0, locked_until: null, totp_last_step: totpStep })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', totpStep)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function insertSession(
  db: Db,
  row: { id: string; official_id: string; refresh_hash: Buffer; expires_at: Date },
) {
  await db.insertInto('official_sessions').values(row).execute();
}

/** The live session with its official (for every request of an official person). */
export async function findActiveSession(db: Db, sessionId: string, now: Date) {
  return db
    .selectFrom('official_sessions as s')
    .innerJoin('officials as o', 'o.id', 's.official_id')
    .select(['s.id as session_id', 'o.id', 'o.name', 'o.agency', 'o.jurisdiction', 'o.roles'])
    .where('s.id', '=', sessionId)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', now)
    .where('o.disabled_at', 'is', null)
    .executeTakeFirst();
}

/** The live session a refresh token belongs to (without using the token up). */
export async function findLiveSessionByRefresh(db: Db, refreshHash: Buffer, now: Date) {
  return db
    .selectFrom('official_sessions')
    .select('id')
    .where('refresh_hash', '=', refreshHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Swaps a session's refresh token (single use): only the holder of the current one succeeds. */
export async function rotateRefresh(db: Db, oldHash: Buffer, newHash: Buffer, now: Date) {
  return db
    .updateTable('official_sessions')
    .set({ refresh_hash: newHash, refreshed_at: now })
    .where('refresh_hash', '=', oldHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'official_id', 'expires_at'])
    .executeTakeFirst();
}

export async function revokeSession(db: Db, sessionId: string, now: Date) {
  await db
    .updateTable('official_sessions')
    .set({ revoked_at: now })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function revokeSessionsOf(db: Db, officialId: string, now: Date) {
  await db
    .updateTable('official_sessions')
    .set({ revoked_at: now })
    .where('official_id', '=', officialId)
    .where('revoked_at', 'is', null)
    .execute();
}
