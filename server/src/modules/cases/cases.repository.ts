import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db } from '../../db/index.js';
import { hexByteaArray, queryNamed } from '../../db/params.js';
import type { CasesTable } from '../../db/tables.js';

export async function insertCase(
  db: Db,
  row: Insertable<CasesTable>,
  subjectIds: readonly string[],
  claimIds: readonly string[],
) {
  const c = await db.insertInto('cases').values(row).returningAll().executeTakeFirstOrThrow();
  if (subjectIds.length > 0)
    await db
      .insertInto('case_subjects')
      .values(subjectIds.map((passenger_id) => ({ case_id: c.id, passenger_id })))
      .execute();
  if (claimIds.length > 0)
    await db
      .insertInto('case_claims')
      .values(claimIds.map((passenger_id) => ({ case_id: c.id, passenger_id })))
      .execute();
  return c;
}

/** Registrations that only typed the case subject's phone or ID number. */
export async function findCaseClaims(db: Db, caseId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('case_claims')
    .select('passenger_id')
    .where('case_id', '=', caseId)
    .execute();
  return rows.map((r) => r.passenger_id);
}

export async function findCase(db: Db, id: string) {
  return db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
}

const CASE_WITH_SUBJECTS =
  'select c.id, c.case_number, c.status, c.infectious_from, c.infectious_to, c.reason_sealed, c.opened_by, ' +
  'c.opened_at, c.closed_by, c.closed_at, ' +
  'array(select s.passenger_id::text from case_subjects s where s.case_id = c.id) as subject_ids ' +
  'from cases c where c.id = $1::uuid';

/** A case with the passenger ids it names, in one round trip (every trace starts here: a prepared statement). */
export async function findCaseWithSubjects(
  db: Db,
  id: string,
): Promise<(Selectable<CasesTable> & { subject_ids: string[] }) | undefined> {
  const rows = await queryNamed<Selectable<CasesTable> & { subject_ids: string[] }>(
    db,
    'ridetrace_case_with_subjects',
    CASE_WITH_SUBJECTS,
    [id],
  );
  return rows[0];
}

export async function findCaseSubjects(db: Db, caseId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('case_subjects')
    .select('passenger_id')
    .where('case_id', '=', caseId)
    .execute();
  return rows.map((r) => r.passenger_id);
}

export async function listCases(
  db: Db,
  f: {
    status?: 'open' | 'closed' | undefined;
    caseNumberPrefix?: string | undefined;
    offset: number;
    limit: number;
  },
) {
  let q = db
    .selectFrom('cases')
    .selectAll()
    .orderBy('opened_at', 'desc')
    .orderBy('id')
    .offset(f.offset)
    .limit(f.limit);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.caseNumberPrefix) {
    // `_` is a LIKE wildcard and may appear in case numbers; the expression matches index cases_case_number (0025).
    const escaped = f.caseNumberPrefix.replace(/[\\%_]/g, '\\$&');
    q = q.where(sql<boolean>`lower(case_number) like lower(${escaped}) || '%'`);
  }
  return q.execute();
}

export async function closeCase(db: Db, id: string, by: string, at: Date) {
  return db
    .updateTable('cases')
    .set({ status: 'closed', closed_by: by, closed_at: at })
    .where('id', '=', id)
    .where('status', '=', 'open')
    .returningAll()
    .executeTakeFirst();
}

export interface ContactRow {
  case_ride_id: string;
  carrier_id: number;
  case_boarded_at: Date;
  /** The case ride's blind index (degree 2 names the degree-1 person it came through); null unless asked for. */
  case_passenger_key: Buffer | null;
  kind: 'bus' | 'taxi' | 'metro' | 'ferry';
  plate: string;
  route: string | null;
  city: string;
  /** The case ride's flags and source: a sum of RIDE_BITS. */
  case_ride_bits: number;
  ride_id: string | null;
  boarded_at: Date | null;
  passenger_sealed: Buffer | null;
  /** The co-passenger ride's, as case_ride_bits; null with the other ride columns. */
  ride_bits: number | null;
}

/**
 * What a ride's bits of `trace_contacts` (migration 0017) mean: the carrier-switch flag (`flagged`, set when the
 * ride was registered), `late`, and the source (neither manual nor offline: a live scan).
 */
export const RIDE_BITS = { carrierSwitch: 1, late: 2, manual: 4, offline: 8 } as const;

/** What `trace_contacts` returns: times as epoch milliseconds. */
type ContactResultRow = Omit<ContactRow, 'case_boarded_at' | 'boarded_at'> & {
  case_boarded_ms: number;
  boarded_ms: number | null;
};

const TRACE_CONTACTS =
  'select * from trace_contacts($1::bytea[], $2::timestamptz, $3::timestamptz, $4::int, $5::int, $6::int, ' +
  '$7::int, $8::timestamptz, $9::timestamptz, $10::bool)';

/**
 * The rides of the given blind indexes (hex) in [from, to], each with the co-passenger rides on the same carrier whose
 * boarding lies within that kind's window of it (inclusive), both with their flags: `trace_contacts` (migrations
 * 0009, 0017), whose generic plan is made once per connection. Index-driven: (passenger_key, boarded_at) finds the
 * case's rides; the primary key (carrier_id, boarded_at, id) finds the co-passengers. A case ride without
 * co-passengers appears once with null ride columns.
 */
export async function findContacts(
  db: Db,
  hexKeys: string[],
  from: Date,
  to: Date,
  windowSeconds: Record<'taxi' | 'metro' | 'bus' | 'ferry', number>,
  opts: { caseKeys: boolean },
): Promise<ContactRow[]> {
  if (hexKeys.length === 0) return [];
  // The window widened by the longest contact window: partitions no co-passenger can be in are pruned.
  const maxWindowMs = Math.max(...Object.values(windowSeconds)) * 1000;
  const rows = await queryNamed<ContactResultRow>(db, 'ridetrace_trace_contacts', TRACE_CONTACTS, [
    hexByteaArray(hexKeys),
    from.toISOString(),
    to.toISOString(),
    windowSeconds.taxi,
    windowSeconds.metro,
    windowSeconds.bus,
    windowSeconds.ferry,
    new Date(from.getTime() - maxWindowMs).toISOString(),
    new Date(to.getTime() + maxWindowMs).toISOString(),
    opts.caseKeys,
  ]);
  // Built field by field: object rest and spread is slow on this hot path of big traces.
  return rows.map((x) => ({
    case_ride_id: x.case_ride_id,
    carrier_id: x.carrier_id,
    case_boarded_at: new Date(x.case_boarded_ms),
    case_passenger_key: x.case_passenger_key,
    kind: x.kind,
    plate: x.plate,
    route: x.route,
    city: x.city,
    case_ride_bits: x.case_ride_bits,
    ride_id: x.ride_id,
    boarded_at: x.boarded_ms === null ? null : new Date(x.boarded_ms),
    passenger_sealed: x.passenger_sealed,
    ride_bits: x.ride_bits,
  }));
}

/** A ride of `trace_day_rides`: a traced one (with its blind index and carrier) or one near it (sealed). */
export interface DayRideRow {
  traced: boolean;
  ride_id: string;
  carrier_id: number;
  boarded_ms: number;
  /** As ContactRow's case_ride_bits. */
  ride_bits: number;
  /** Traced rides only. */
  passenger_key: Buffer | null;
  /** The other rides only. */
  passenger_sealed: Buffer | null;
  /** Traced rides only: their carrier's. */
  kind: 'bus' | 'taxi' | 'metro' | 'ferry' | null;
  plate: string | null;
  route: string | null;
  city: string | null;
}

const TRACE_DAY_RIDES =
  'select * from trace_day_rides($1::bytea[], $2::timestamptz, $3::timestamptz, $4::timestamptz, $5::int, ' +
  '$6::int, $7::int, $8::int, $9::timestamptz, $10::timestamptz)';

/**
 * The rides of the blind indexes (hex) of one ride day (`day`: its bounds) in [from, to] (within that day), and once
 * each the rides of other indexes on the same carriers within the longest window of one of them, times as epoch
 * milliseconds: `trace_day_rides` (migration 0024). Pairing them by the overlap rule is the caller's.
 */
export async function findDayRides(
  db: Db,
  hexKeys: string[],
  day: { from: Date; to: Date },
  from: Date,
  to: Date,
  windowSeconds: Record<'taxi' | 'metro' | 'bus' | 'ferry', number>,
): Promise<DayRideRow[]> {
  if (hexKeys.length === 0) return [];
  const maxWindowMs = Math.max(...Object.values(windowSeconds)) * 1000;
  return queryNamed<DayRideRow>(db, 'ridetrace_trace_day_rides', TRACE_DAY_RIDES, [
    hexByteaArray(hexKeys),
    from.toISOString(),
    to.toISOString(),
    day.to.toISOString(),
    windowSeconds.taxi,
    windowSeconds.metro,
    windowSeconds.bus,
    windowSeconds.ferry,
    new Date(from.getTime() - maxWindowMs).toISOString(),
    new Date(to.getTime() + maxWindowMs).toISOString(),
  ]);
}
