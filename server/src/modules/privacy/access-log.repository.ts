import type { AccessPurpose } from '@ridetrace/shared';
import { sql } from 'kysely';
import type { Db } from '../../db/index.js';

export interface NewAccess {
  passengerIds: string[];
  agency: string;
  purpose: AccessPurpose;
  caseId: string | null;
  at: Date;
}

/**
 * One statement for any number of passengers: live ones only (unknown and deleted ids are skipped, so a trace never
 * fails on them), and nothing when the day already has the same passenger, case and purpose. FOR KEY SHARE waits for
 * an account deletion under way and then skips that passenger: no entry outlives the account.
 */
export async function insertAccess(db: Db, a: NewAccess): Promise<number> {
  const r = await sql`
    insert into passenger_access (passenger_id, at, agency, purpose, case_id)
    select p.id, ${a.at}::timestamptz, ${a.agency}, ${a.purpose}, ${a.caseId}::uuid
    from passengers p
    where p.id in (select distinct unnest(${a.passengerIds}::uuid[])) and p.deleted_at is null
    order by p.id
    for key share of p
    on conflict do nothing`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** The passenger's entries, newest first, after the entry `beforeId` (the previous page's last). */
export async function findAccessOfPassenger(
  db: Db,
  f: { passengerId: string; beforeId?: number; limit: number },
) {
  let q = db
    .selectFrom('passenger_access')
    .select(['id', 'at', 'agency', 'purpose'])
    .where('passenger_id', '=', f.passengerId)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit);
  if (f.beforeId !== undefined) {
    // Keyset on (at, id) from the cursor's own row; another passenger's id finds no row, so no entries.
    const cursorRow = sql`(select c.at, c.id from passenger_access c
      where c.id = ${f.beforeId} and c.passenger_id = ${f.passengerId})`;
    q = q.where(sql<boolean>`(passenger_access.at, passenger_access.id) < ${cursorRow}`);
  }
  return q.execute();
}

export async function deleteAccessOfPassenger(db: Db, passengerId: string): Promise<void> {
  await db.deleteFrom('passenger_access').where('passenger_id', '=', passengerId).execute();
}
