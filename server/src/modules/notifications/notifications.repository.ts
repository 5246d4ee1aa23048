import { sql, type Insertable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { ExposureMarksTable, NotificationsTable } from '../../db/tables.js';

export async function insertMarks(db: Db, rows: Insertable<ExposureMarksTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('exposure_marks')
    .values(rows)
    .onConflict((oc) => oc.columns(['case_id', 'passenger_id']).doNothing())
    .execute();
}

/** Inserts notifications not queued before; returns how many were new. */
export async function insertNotifications(db: Db, rows: Insertable<NotificationsTable>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insertInto('notifications')
    .values(rows)
    .onConflict((oc) => oc.columns(['case_id', 'passenger_id']).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

export async function listCaseNotifications(db: Db, caseId: string) {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * Claims due notifications (and ones whose sender died mid-flight: lease run out) without blocking other workers,
 * expired leases first, in one statement (`claim_notifications`, migration 0006): each branch walks its partial
 * index in order (`notifications_leased`, `notifications_queued`) and stops after `limit` rows.
 */
export async function claimDue(db: Db, limit: number, leaseSeconds: number) {
  const r = await sql<NotificationsTable & { attempts: number }>`
    select * from claim_notifications(${limit}::int, ${leaseSeconds}::int)`.execute(db);
  return r.rows;
}

export async function markSent(db: Db, id: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ state: 'sent', sent_at: sql`now()`, locked_until: null, last_error: null, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

export async function markRetry(db: Db, id: string, error: string, delayMs: number): Promise<void> {
  await db
    .updateTable('notifications')
    .set({
      state: 'queued',
      last_error: error,
      locked_until: null,
      next_attempt_at: sql`now() + make_interval(secs => ${delayMs / 1000}::float8)`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export async function markFallback(db: Db, id: string, channel: 'sms', error: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({
      state: 'queued',
      channel,
      attempts: 0,
      last_error: error,
      locked_until: null,
      next_attempt_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export async function markFailed(db: Db, id: string, error: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ state: 'failed', last_error: error, locked_until: null, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

/** An exposure mark's columns with its carrier's, as messages and the passenger's inbox show them. */
const MARK_WITH_CARRIER = [
  'exposure_marks.case_id',
  'exposure_marks.level',
  'exposure_marks.boarded_at',
  'exposure_marks.observe_until',
  'exposure_marks.created_at',
  'carriers.id as carrier_id',
  'carriers.kind',
  'carriers.plate',
  'carriers.route',
  'carriers.city',
] as const;

/** The exposure marks of claimed notifications (one query for a batch), with their carriers. */
export async function findMarksOf(db: Db, keys: readonly { case_id: string; passenger_id: string }[]) {
  if (keys.length === 0) return [];
  return db
    .selectFrom('exposure_marks')
    .innerJoin('carriers', 'carriers.id', 'exposure_marks.carrier_id')
    .select([...MARK_WITH_CARRIER, 'exposure_marks.passenger_id'])
    .where((eb) =>
      eb(
        eb.refTuple('exposure_marks.case_id', 'exposure_marks.passenger_id'),
        'in',
        keys.map((k) => eb.tuple(k.case_id, k.passenger_id)),
      ),
    )
    .execute();
}

export async function findMarksOfPassenger(db: Db, passengerId: string) {
  return db
    .selectFrom('exposure_marks')
    .innerJoin('carriers', 'carriers.id', 'exposure_marks.carrier_id')
    .select([...MARK_WITH_CARRIER, 'exposure_marks.cleared_at'])
    .where('exposure_marks.passenger_id', '=', passengerId)
    .orderBy('exposure_marks.created_at', 'desc')
    .execute();
}
