import type { Db } from '../../db/index.js';

/** Open cases naming the passenger as subject. */
export async function findOpenCasesOfSubject(db: Db, passengerId: string) {
  return db
    .selectFrom('case_subjects')
    .innerJoin('cases', 'cases.id', 'case_subjects.case_id')
    .select(['cases.id', 'cases.opened_at'])
    .where('case_subjects.passenger_id', '=', passengerId)
    .where('cases.status', '=', 'open')
    .orderBy('cases.opened_at')
    .execute();
}

/** Exposure marks still in force at `now` that turn the code yellow (a secondary contact's notice may not). */
export async function findActiveMarks(db: Db, passengerId: string, now: Date) {
  return db
    .selectFrom('exposure_marks')
    .select(['case_id', 'created_at', 'observe_until'])
    .where('passenger_id', '=', passengerId)
    .where('yellow', '=', true)
    .where('cleared_at', 'is', null)
    .where('observe_until', '>', now)
    .orderBy('observe_until', 'desc')
    .execute();
}

export async function clearMarks(
  db: Db,
  passengerIds: string[],
  caseId: string | undefined,
  by: string,
  at: Date,
) {
  if (passengerIds.length === 0) return 0;
  let q = db
    .updateTable('exposure_marks')
    .set({ cleared_at: at, cleared_by: by })
    .where('passenger_id', 'in', passengerIds)
    .where('cleared_at', 'is', null);
  if (caseId) q = q.where('case_id', '=', caseId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}
