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
 * Claims due notifications (and ones whose sender died mid-flight: lease run out) without blocking other workers.
 * Each branch walks its partial index in order (`notifications_leased`, `notifications_queued`) and stops after
 * `limit` rows; expired leases go first.
 */
export async function claimDue(db: Db, limit: number, leaseSeconds: number) {
  return db.transaction().execute(async (tx) => {
    // Statistics lag behind the queue (a case queues 10k rows at once): estimating a handful of due rows, the
    // planner picks a bitmap scan and a sort of every due row, on every claim. Without a sort the only plan left is
    // the ordered index scan, which reads `limit` rows whatever the estimate. `true`: for this transaction only.
    await sql`select set_config('enable_sort', 'off', true)`.execute(tx);
    // The CTEs are read on demand, so `due` locks only as many rows as `leased` leaves room for.
    const r = await sql<NotificationsTable & { attempts: number }>`
      with leased as (
        select id from notifications
        where state = 'sending' and locked_until < now()
        order by locked_until
        limit ${limit}
        for update skip locked
      ), due as (
        select id from notifications
        where state = 'queued' and next_attempt_at <= now()
        order by next_attempt_at
        limit ${limit}
        for update skip locked
      ), claim as (
        select id from leased union all select id from due limit ${limit}
      )
      update notifications n set state = 'sending', attempts = n.attempts + 1,
        locked_until = now() + make_interval(secs => ${leaseSeconds}::int), updated_at = now()
      from claim
      where n.id = claim.id
      returning n.*`.execute(tx);
    return r.rows;
  });
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

/** The exposure marks of claimed notifications (one query for a batch), with their carriers. */
export async function findMarksOf(db: Db, keys: readonly { case_id: string; passenger_id: string }[]) {
  if (keys.length === 0) return [];
  return db
    .selectFrom('exposure_marks')
    .innerJoin('carriers', 'carriers.id', 'exposure_marks.carrier_id')
    .select([
      'exposure_marks.case_id',
      'exposure_marks.passenger_id',
      'exposure_marks.level',
      'exposure_marks.boarded_at',
      'exposure_marks.observe_until',
      'exposure_marks.created_at',
      'carriers.id as carrier_id',
      'carriers.kind',
      'carriers.plate',
      'carriers.route',
      'carriers.city',
    ])
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
    .select([
      'exposure_marks.case_id',
      'exposure_marks.level',
      'exposure_marks.boarded_at',
      'exposure_marks.observe_until',
      'exposure_marks.created_at',
      'exposure_marks.cleared_at',
      'carriers.id as carrier_id',
      'carriers.kind',
      'carriers.plate',
      'carriers.route',
      'carriers.city',
    ])
    .where('exposure_marks.passenger_id', '=', passengerId)
    .orderBy('exposure_marks.created_at', 'desc')
    .execute();
}
