import { sql, type Insertable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { CasesTable } from '../../db/tables.js';

export async function insertCase(db: Db, row: Insertable<CasesTable>, subjectIds: string[]) {
  const c = await db.insertInto('cases').values(row).returningAll().executeTakeFirstOrThrow();
  await db
    .insertInto('case_subjects')
    .values(subjectIds.map((passenger_id) => ({ case_id: c.id, passenger_id })))
    .execute();
  return c;
}

export async function findCase(db: Db, id: string) {
  return db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A case with the passenger ids it names, in one round trip. */
export async function findCaseWithSubjects(db: Db, id: string) {
  return db
    .selectFrom('cases')
    .selectAll()
    .select(
      sql<string[]>`array(select s.passenger_id::text from case_subjects s where s.case_id = cases.id)`.as(
        'subject_ids',
      ),
    )
    .where('id', '=', id)
    .executeTakeFirst();
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
  f: { status?: 'open' | 'closed' | undefined; offset: number; limit: number },
) {
  let q = db
    .selectFrom('cases')
    .selectAll()
    .orderBy('opened_at', 'desc')
    .orderBy('id')
    .offset(f.offset)
    .limit(f.limit);
  if (f.status) q = q.where('status', '=', f.status);
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
  ride_id: string | null;
  boarded_at: Date | null;
  passenger_sealed: Buffer | null;
}

/**
 * The rides of the given blind indexes in [from, to], each with the co-passenger rides on the same carrier whose
 * boarding lies within that kind's window of it (inclusive). Index-driven: (passenger_key, boarded_at) finds the
 * case's rides; the primary key (carrier_id, boarded_at, id) finds the co-passengers. A case ride without
 * co-passengers appears once with null ride columns.
 */
export async function findContacts(
  db: Db,
  keys: Buffer[],
  from: Date,
  to: Date,
  windowSeconds: Record<'taxi' | 'metro' | 'bus' | 'ferry', number>,
  opts: { caseKeys: boolean },
): Promise<ContactRow[]> {
  if (keys.length === 0) return [];
  const maxWindowMs = Math.max(...Object.values(windowSeconds)) * 1000;
  // `materialized`: the case's rides first (a handful, by blind index), then an index range scan per ride on
  // (carrier_id, boarded_at); inlined, Postgres read every ride of the carrier and filtered the window afterwards.
  // Times come back as epoch milliseconds (float8): parsing timestamptz text was the client's largest cost per row
  // in degree-2 traces of thousands of rows.
  const r = await sql<
    Omit<ContactRow, 'case_boarded_at' | 'boarded_at'> & {
      case_boarded_ms: number;
      boarded_ms: number | null;
    }
  >`
    with cr as materialized (
      select r.id, r.carrier_id, r.boarded_at, r.passenger_key, c.kind, c.plate, c.route, c.city,
        make_interval(secs => case c.kind
          when 'taxi' then ${windowSeconds.taxi}::int when 'metro' then ${windowSeconds.metro}::int
          when 'bus' then ${windowSeconds.bus}::int else ${windowSeconds.ferry}::int end) as w
      from rides r join carriers c on c.id = r.carrier_id
      where r.passenger_key = any(${keys}::bytea[]) and r.boarded_at >= ${from} and r.boarded_at <= ${to}
    )
    select cr.id as case_ride_id, cr.carrier_id,
      ${opts.caseKeys ? sql`cr.passenger_key` : sql`null::bytea`} as case_passenger_key,
      (extract(epoch from cr.boarded_at) * 1000)::float8 as case_boarded_ms,
      cr.kind, cr.plate, cr.route, cr.city, o.id as ride_id, o.passenger_sealed,
      (extract(epoch from o.boarded_at) * 1000)::float8 as boarded_ms
    from cr left join lateral (
      select o.id, o.boarded_at, o.passenger_sealed from rides o
      where o.carrier_id = cr.carrier_id
        and o.boarded_at >= cr.boarded_at - cr.w and o.boarded_at <= cr.boarded_at + cr.w
        -- Constant bounds too, so partitions outside the window are pruned when the plan is made.
        and o.boarded_at >= ${new Date(from.getTime() - maxWindowMs)}::timestamptz
        and o.boarded_at <= ${new Date(to.getTime() + maxWindowMs)}::timestamptz
        and o.passenger_key <> all(${keys}::bytea[])
      -- A fence: without it Postgres may flatten the lateral subquery into a hash join over every ride of the
      -- window (it over-estimates the case rides: 2,170 estimated, 36 real → 5.1M rows read, 1.27 s instead of 19 ms).
      offset 0
    ) o on true
    order by cr.boarded_at, o.boarded_at`.execute(db);
  // Built field by field: object rest and spread over ≈ 11 fields was the largest cost of a big trace in Node.
  return r.rows.map((x) => ({
    case_ride_id: x.case_ride_id,
    carrier_id: x.carrier_id,
    case_boarded_at: new Date(x.case_boarded_ms),
    case_passenger_key: x.case_passenger_key,
    kind: x.kind,
    plate: x.plate,
    route: x.route,
    city: x.city,
    ride_id: x.ride_id,
    boarded_at: x.boarded_ms === null ? null : new Date(x.boarded_ms),
    passenger_sealed: x.passenger_sealed,
  }));
}
