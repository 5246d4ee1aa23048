import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/index.js';
import { ridePartitionName } from '../../db/partitions.js';

/** Ride days before `cutoffDay` that still have a day key or a partition. */
export async function findDaysBefore(db: Db, cutoffDay: string): Promise<string[]> {
  const r = await sql<{ day: string }>`
    select day::text as day from ride_day_keys where day < ${cutoffDay}::date
    union
    select to_char(to_date(substr(c.relname, 7), 'YYYYMMDD'), 'YYYY-MM-DD') as day
    from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname = 'rides' and c.relname ~ '^rides_[0-9]{8}$' and to_date(substr(c.relname, 7), 'YYYYMMDD') < ${cutoffDay}::date
    order by day`.execute(db);
  return r.rows.map((x) => x.day);
}

export async function partitionExists(db: Db, day: string): Promise<boolean> {
  const r = await sql<{
    n: number;
  }>`select count(*)::int as n from pg_class where relname = ${ridePartitionName(day)} and relkind = 'r'`.execute(
    db,
  );
  return (r.rows[0]?.n ?? 0) > 0;
}

export async function countPartitionRows(db: Db, day: string): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.table(ridePartitionName(day))}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

export async function dayKeyExists(db: Db, day: string): Promise<boolean> {
  const row = await db.selectFrom('ride_day_keys').select('day').where('day', '=', day).executeTakeFirst();
  return row !== undefined;
}

/** Crypto-shredding: without the day key, that day's sealed passenger ids and blind indexes are noise. */
export async function destroyDayKey(db: Db, day: string): Promise<void> {
  await db.deleteFrom('ride_day_keys').where('day', '=', day).execute();
}

export async function dropPartition(db: Db, day: string): Promise<void> {
  await sql`drop table if exists ${sql.table(ridePartitionName(day))}`.execute(db);
}

/** One purge at a time across all server processes and CLIs. */
export async function tryPurgeLock(db: Db): Promise<boolean> {
  const r = await sql<{
    ok: boolean;
  }>`select pg_try_advisory_xact_lock(hashtext('ridetrace.purge')) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

// Every delete below takes at most `limit` rows in one statement (its own transaction): a purge interrupted at any
// point has committed whole batches, and the next run finds the rest by the same condition.

async function countOf(db: Db, q: RawBuilder<{ n: number }>): Promise<number> {
  return (await q.execute(db)).rows[0]?.n ?? 0;
}

/** Idempotency keys of rides boarded before `before` (their rides are purged with their day). */
export async function deleteRideRequestsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`
    delete from ride_requests where request_key in (
      select request_key from ride_requests where boarded_at < ${before} limit ${limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function countRideRequestsBefore(db: Db, before: Date): Promise<number> {
  return countOf(
    db,
    sql<{ n: number }>`select count(*)::int as n from ride_requests where boarded_at < ${before}`,
  );
}

/**
 * Scans waiting for a confirmation, saved before `savedBefore`: `updated_at` is when the scan was saved (or the
 * account changed later, which only keeps it longer). The purge leaves `updated_at` as it is: it is no activity.
 */
export async function clearPendingScans(db: Db, savedBefore: Date, limit: number): Promise<number> {
  const r = await sql`
    update passengers set pending_sealed = null
    where id in (
      select id from passengers where pending_sealed is not null and updated_at < ${savedBefore} limit ${limit})
      and pending_sealed is not null and updated_at < ${savedBefore}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function countPendingScans(db: Db, savedBefore: Date): Promise<number> {
  return countOf(
    db,
    sql<{
      n: number;
    }>`select count(*)::int as n from passengers where pending_sealed is not null and updated_at < ${savedBefore}`,
  );
}

/** SMS codes that expired and no longer count towards the hourly send limits (sent over an hour ago). */
const spentOtp = (now: Date) =>
  sql`expires_at <= ${now} and created_at <= ${new Date(now.getTime() - 3600_000)}`;

export async function deleteSpentOtps(db: Db, now: Date, limit: number): Promise<number> {
  const r = await sql`
    delete from phone_otps where id in (select id from phone_otps where ${spentOtp(now)} limit ${limit})`.execute(
    db,
  );
  return Number(r.numAffectedRows ?? 0);
}

export async function countSpentOtps(db: Db, now: Date): Promise<number> {
  return countOf(db, sql<{ n: number }>`select count(*)::int as n from phone_otps where ${spentOtp(now)}`);
}

/** Official sign-ins that expired or were signed out: a token naming one is refused whether the row exists or not. */
const endedSession = (now: Date) => sql`(expires_at <= ${now} or revoked_at is not null)`;

export async function deleteEndedSessions(db: Db, now: Date, limit: number): Promise<number> {
  const r = await sql`
    delete from official_sessions where id in (
      select id from official_sessions where ${endedSession(now)} limit ${limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function countEndedSessions(db: Db, now: Date): Promise<number> {
  return countOf(
    db,
    sql<{ n: number }>`select count(*)::int as n from official_sessions where ${endedSession(now)}`,
  );
}

/**
 * Closed cases that closed before `closedBefore`, oldest first, after `after` (keyset). A case that still turns
 * someone's code yellow (a mark neither cleared nor over) waits for the mark to end.
 */
export async function findExpiredCases(
  db: Db,
  closedBefore: Date,
  now: Date,
  after: { closedAt: Date; id: string } | null,
  limit: number,
): Promise<{ id: string; closed_at: Date }[]> {
  const r = await sql<{ id: string; closed_at: Date }>`
    select c.id, c.closed_at from cases c
    where c.status = 'closed' and c.closed_at < ${closedBefore}
      and ${after ? sql`(c.closed_at, c.id) > (${after.closedAt}, ${after.id}::uuid)` : sql`true`}
      and not exists (
        select 1 from exposure_marks m
        where m.case_id = c.id and m.cleared_at is null and m.observe_until > ${now})
    order by c.closed_at, c.id
    limit ${limit}`.execute(db);
  return r.rows;
}

/** What a case holds about people, by record kind and table; all of it goes with the case. */
export const CASE_RECORD_TABLES = {
  notifications: 'notifications',
  exposureMarks: 'exposure_marks',
  caseSubjects: 'case_subjects',
  caseClaims: 'case_claims',
  revealRequests: 'reveal_requests',
  accessLog: 'passenger_access',
} as const;
export type CaseRecordKind = keyof typeof CASE_RECORD_TABLES;

export async function countCaseRecords(db: Db, caseId: string): Promise<Record<CaseRecordKind, number>> {
  const r = await sql<Record<CaseRecordKind, number>>`
    select
      (select count(*) from notifications where case_id = ${caseId}::uuid)::int as "notifications",
      (select count(*) from exposure_marks where case_id = ${caseId}::uuid)::int as "exposureMarks",
      (select count(*) from case_subjects where case_id = ${caseId}::uuid)::int as "caseSubjects",
      (select count(*) from case_claims where case_id = ${caseId}::uuid)::int as "caseClaims",
      (select count(*) from reveal_requests where case_id = ${caseId}::uuid)::int as "revealRequests",
      (select count(*) from passenger_access where case_id = ${caseId}::uuid)::int as "accessLog"`.execute(
    db,
  );
  return r.rows[0]!;
}

/** Up to `limit` rows of one kind of the case's records (every table here is indexed by case_id). */
export async function deleteCaseRecords(
  db: Db,
  kind: CaseRecordKind,
  caseId: string,
  limit: number,
): Promise<number> {
  const table = sql.table(CASE_RECORD_TABLES[kind]);
  const r = await sql`
    delete from ${table} where ctid = any(array(
      select ctid from ${table} where case_id = ${caseId}::uuid limit ${limit}))`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** The case row itself, once its records are gone (a foreign key refuses it before). */
export async function deleteCase(db: Db, caseId: string): Promise<boolean> {
  const r = await db.deleteFrom('cases').where('id', '=', caseId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Access-log entries that name no case: they go by their own age. */
export async function deleteCaselessAccess(db: Db, before: Date, limit: number): Promise<number> {
  const r = await sql`
    delete from passenger_access where id in (
      select id from passenger_access where case_id is null and at < ${before} limit ${limit})`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export async function countCaselessAccess(db: Db, before: Date): Promise<number> {
  return countOf(
    db,
    sql<{
      n: number;
    }>`select count(*)::int as n from passenger_access where case_id is null and at < ${before}`,
  );
}

/** `timeZone`: the ride days' zone (a registration's day of creation is counted in it). */
export interface LookSchedule {
  maxLateSeconds: number;
  retentionDays: number;
  timeZone: string;
}

/** When the purge first looks at a new registration: before the first day it might not see leaves the window. */
function firstLook(s: LookSchedule) {
  return sql<string>`((created_at - make_interval(secs => ${s.maxLateSeconds}::float8)) at time zone ${s.timeZone})::date - 1 + ${s.retentionDays}::int`;
}

/** Gives new registrations their first look (a batch); the number scheduled. */
export async function scheduleNewPassengers(db: Db, s: LookSchedule, limit: number): Promise<number> {
  const r = await sql`
    update passengers set lifetime_check_on = ${firstLook(s)}
    where id in (
      select id from passengers where deleted_at is null and lifetime_check_on is null limit ${limit})
      and deleted_at is null and lifetime_check_on is null`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

export interface DuePassenger {
  id: string;
  kind: 'app' | 'manual';
  created_at: Date;
  updated_at: Date;
  last_ride_on: string | null;
  check_on: string;
}

/**
 * Live registrations whose look is due on or before `today`, in (check day, id) order after `after`. With
 * `unscheduled`, new registrations count as scheduled by it (a dry run schedules nothing).
 */
export async function findPassengersDue(
  db: Db,
  q: {
    today: string;
    after: { checkOn: string; id: string } | null;
    limit: number;
    unscheduled?: LookSchedule;
  },
): Promise<DuePassenger[]> {
  const checkOn = q.unscheduled
    ? sql<string>`coalesce(lifetime_check_on, ${firstLook(q.unscheduled)})`
    : sql<string>`lifetime_check_on`;
  const r = await sql<DuePassenger>`
    select id, kind, created_at, updated_at, last_ride_on::text as last_ride_on, ${checkOn}::text as check_on
    from passengers
    where deleted_at is null and ${checkOn} <= ${q.today}::date
      and ${q.after ? sql`(${checkOn}, id) > (${q.after.checkOn}::date, ${q.after.id}::uuid)` : sql`true`}
    order by ${checkOn}, id
    limit ${q.limit}`.execute(db);
  return r.rows;
}

/** Ride days that hold a key, newest first: the days whose rides can still be looked up. */
export async function findKeyedDays(db: Db): Promise<string[]> {
  const r = await sql<{ day: string }>`select day::text as day from ride_day_keys order by day desc`.execute(
    db,
  );
  return r.rows.map((x) => x.day);
}

/** Which of these blind indexes have a ride in one ride day's `bounds` (one partition, its passenger index). */
export async function findRideKeysOn(
  db: Db,
  bounds: { from: Date; to: Date },
  keys: Buffer[],
): Promise<Buffer[]> {
  if (keys.length === 0) return [];
  const { from: start, to: end } = bounds;
  const r = await sql<{ passenger_key: Buffer }>`
    select distinct passenger_key from rides
    where boarded_at >= ${start} and boarded_at < ${end} and passenger_key = any(${keys}::bytea[])`.execute(
    db,
  );
  return r.rows.map((x) => x.passenger_key);
}

/**
 * Registrations among `ids` that a case still needs: named by an open case, exposed in one, marked with a mark
 * still in force, or with a notice not yet delivered.
 */
export async function findPassengersInUse(db: Db, ids: string[], now: Date): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const r = await sql<{ passenger_id: string }>`
    select s.passenger_id from case_subjects s join cases c on c.id = s.case_id
      where s.passenger_id = any(${ids}::uuid[]) and c.status = 'open'
    union
    select l.passenger_id from case_claims l join cases c on c.id = l.case_id
      where l.passenger_id = any(${ids}::uuid[]) and c.status = 'open'
    union
    select m.passenger_id from exposure_marks m join cases c on c.id = m.case_id
      where m.passenger_id = any(${ids}::uuid[])
        and (c.status = 'open' or (m.cleared_at is null and m.observe_until > ${now}))
    union
    select n.passenger_id from notifications n join cases c on c.id = n.case_id
      where n.passenger_id = any(${ids}::uuid[]) and (c.status = 'open' or n.state in ('queued', 'sending'))`.execute(
    db,
  );
  return new Set(r.rows.map((x) => x.passenger_id));
}

/** The outcome of looks at live registrations: the newest ride day found and the day of the next look. */
export async function recordLooks(
  db: Db,
  looks: { id: string; lastRideOn: string | null; checkOn: string }[],
): Promise<void> {
  if (looks.length === 0) return;
  await sql`
    update passengers p set last_ride_on = v.last_ride_on, lifetime_check_on = v.check_on
    from unnest(${looks.map((l) => l.id)}::uuid[], ${looks.map((l) => l.lastRideOn)}::date[],
                ${looks.map((l) => l.checkOn)}::date[]) as v(id, last_ride_on, check_on)
    where p.id = v.id and p.deleted_at is null`.execute(db);
}

/** A registration whose identity the purge removed keeps nothing of its lookups either. */
export async function forgetLooks(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`
    update passengers set last_ride_on = null, lifetime_check_on = null
    where id = any(${ids}::uuid[]) and deleted_at is not null`.execute(db);
}

/**
 * Tombstones of deleted accounts that nothing points to any more: deleted before `deletedBefore` (every ride
 * registered before the deletion is purged: none is registered after it) and named by no case record (a dry run
 * passes the cases it would purge: their records do not count).
 */
const removableStub = (deletedBefore: Date, goingCases: string[] = []) => {
  const named = (table: 'case_subjects' | 'case_claims' | 'exposure_marks' | 'notifications') => sql`
    not exists (select 1 from ${sql.table(table)} x
                where x.passenger_id = p.id and x.case_id <> all(${goingCases}::uuid[]))`;
  return sql`p.deleted_at < ${deletedBefore} and ${named('case_subjects')} and ${named('case_claims')}
    and ${named('exposure_marks')} and ${named('notifications')}`;
};

/** Removes a batch of such tombstones (their leftover SMS-code rows first; access-log rows cascade). */
export async function deleteStubs(db: Db, deletedBefore: Date, limit: number): Promise<number> {
  const r = await sql<{ n: number }>`
    with doomed as (
      select p.id from passengers p where ${removableStub(deletedBefore)} limit ${limit} for update skip locked
    ), otps as (
      delete from phone_otps where passenger_id in (select id from doomed)
    ), gone as (
      delete from passengers where id in (select id from doomed) returning 1
    )
    select count(*)::int as n from gone`.execute(db);
  return r.rows[0]?.n ?? 0;
}

export async function countStubs(db: Db, deletedBefore: Date, goingCases: string[]): Promise<number> {
  return countOf(
    db,
    sql<{
      n: number;
    }>`select count(*)::int as n from passengers p where ${removableStub(deletedBefore, goingCases)}`,
  );
}
