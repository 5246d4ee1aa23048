/**
 * Every personal record has a lifetime, and the one purge enforces them all. A world with every kind of record is
 * made now; the app's clock then moves on in stages, the purge runs at each, and a table-by-table scan checks that
 * nothing outlived its lifetime (a table without a rule fails the scan). The report's counts are checked at each
 * stage. Last, a CLI purge killed mid-way (`kill -9`) leaves whole batches, and a rerun finishes.
 */
import { localDay, localMidnight } from '../support/days.js';
import { cutoffDay, emptyPurgeCounts, purgeRecords, type PurgeReport } from '@ridetrace/server';
import { TABLE_COLUMNS } from '@ridetrace/server/testing';
import { sql } from 'kysely';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNotifyWorld, useTestApp } from '../support/fixtures.js';
import {
  createStaffedCarrier,
  enrolOfficial,
  grantReveal,
  notifyCase,
  openCase,
  passengerIdOf,
  registerManualRide,
  scanRide,
  signInOfficial,
  waitFor,
} from '../support/flows.js';
import { REPO_ROOT, runCli } from '../support/run-cli.js';
import {
  cliEnv,
  confirmedPassenger,
  createCarrier,
  passengerToken,
  type TestApp,
} from '../support/test-app.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const RETENTION_DAYS = 28;
const INACTIVE_DAYS = 90;
const CASE_DAYS = 60;
const PENDING_MINUTES = 60;

type Counts = PurgeReport['counts'];
type Table = keyof typeof TABLE_COLUMNS;

/** Counts of a report: `some`, every other kind 0. */
function counts(some: Partial<Counts>): Counts {
  return { ...emptyPurgeCounts(), ...some };
}

const dayOf = localDay;
const startOf = localMidnight;
const newest = (days: string[]) => days.reduce((a, b) => (a > b ? a : b), '');

/** A person the test registered: what the purge must know without being told (their rides, their identity). */
interface Person {
  id: string;
  kind: 'app' | 'manual';
  rideDays: string[];
  name: string;
  phone: string;
}

/**
 * What a passenger row holds: `identity` columns must be empty once the identity's lifetime ends (a stub keeps
 * none), `bookkeeping` ones name nobody (the pseudonymous id, times, the purge's schedule). A new column fails the
 * scan until it is classified here.
 */
const PASSENGER_COLUMNS: Record<(typeof TABLE_COLUMNS.passengers)[number], 'identity' | 'bookkeeping'> = {
  id: 'bookkeeping',
  kind: 'bookkeeping',
  subject_index: 'identity',
  dek_master_key_id: 'identity',
  dek_wrapped: 'identity',
  name_sealed: 'identity',
  phone_sealed: 'identity',
  id_number_sealed: 'identity',
  phone_index: 'identity',
  id_number_index: 'identity',
  id_type: 'identity',
  consent_version: 'identity',
  consented_at: 'identity',
  pending_sealed: 'identity',
  openid_sealed: 'identity',
  deleted_at: 'bookkeeping',
  created_at: 'bookkeeping',
  updated_at: 'bookkeeping',
  phone_source: 'identity',
  id_source: 'identity',
  message_grants: 'identity',
  link_phone_index: 'identity',
  link_id_index: 'identity',
  link_secret: 'identity',
  link_since: 'identity',
  last_ride_on: 'bookkeeping',
  lifetime_check_on: 'bookkeeping',
  index_generation: 'bookkeeping',
};

/** What a table-by-table scan knows: the time, every lifetime's cut-off, and what cases still need. */
interface Scan {
  t: TestApp;
  now: Date;
  /** First ride day kept. */
  rideCut: string;
  /** An app registration active on this day or later keeps its identity. */
  inactiveCut: string;
  /** Cases that are past their lifetime (closed long enough, no mark in force). */
  expiredCases: Set<string>;
  /** Every case id that exists. */
  cases: Set<string>;
  /** Registrations a case still needs (open case, mark in force, notice not delivered). */
  inUse: Set<string>;
  people: Map<string, Person>;
}

interface Rule {
  /** Why the table keeps its rows (no rule on their age), when that is the rule. */
  kept?: string;
  /** Rows past their lifetime, described. */
  check?: (s: Scan) => Promise<string[]>;
}

const caseRecords =
  (table: 'case_subjects' | 'case_claims' | 'exposure_marks' | 'notifications' | 'reveal_requests') =>
  async (s: Scan) =>
    (await s.t.db.selectFrom(table).select('case_id').execute())
      .filter((r) => s.expiredCases.has(r.case_id) || !s.cases.has(r.case_id))
      .map((r) => `${table} of case ${r.case_id}`);

/** Every table, with its lifetime. A table missing here fails the scan: add its rule with its lifetime. */
const RULES: { [T in Table]: Rule } = {
  operators: { kept: 'companies, not people' },
  clients: { kept: 'machine and staff accounts (a name and a hashed secret), removed by an admin' },
  carriers: { kept: 'vehicles, not people' },
  staff_carriers: { kept: 'which staff account serves which carrier' },
  officials: { kept: 'official accounts (the audit names them), disabled by an admin' },
  system_keys: { kept: 'keys; no personal data' },
  ride_calendar: { kept: 'the time zone that counts ride days, since when; no personal data' },
  programme: { kept: 'the programme itself (deployment, who ended it); no passenger data' },
  index_key_state: { kept: 'which blind-index key generation is in use; no personal data' },
  audit_log: {
    kept: 'the legal record of official access, append-only; holds no passenger data (checked below)',
    check: async (s) => {
      const rows = await s.t.db.selectFrom('audit_log').select(['seq', 'detail']).execute();
      const said = [...s.people.values()].flatMap((p) => [p.id, p.name, p.phone]).filter(Boolean);
      return rows
        .filter((r) => said.some((x) => r.detail?.includes(x)))
        .map((r) => `audit_log ${r.seq} names a passenger`);
    },
  },
  ride_day_keys: {
    check: async (s) =>
      (await s.t.db.selectFrom('ride_day_keys').select('day').where('day', '<', s.rideCut).execute()).map(
        (r) => `day key ${r.day}`,
      ),
  },
  rides: {
    check: async (s) =>
      (
        await s.t.db.selectFrom('rides').select('id').where('boarded_at', '<', startOf(s.rideCut)).execute()
      ).map((r) => `ride ${r.id}`),
  },
  ride_requests: {
    check: async (s) =>
      (
        await s.t.db
          .selectFrom('ride_requests')
          .select('ride_id')
          .where('boarded_at', '<', startOf(s.rideCut))
          .execute()
      ).map((r) => `ride request of ${r.ride_id}`),
  },
  passengers: {
    check: async (s) => {
      const bad: string[] = [];
      const rows = await s.t.db.selectFrom('passengers').selectAll().execute();
      const pendingCut = new Date(s.now.getTime() - PENDING_MINUTES * MIN);
      for (const row of rows) {
        const identity = Object.entries(row).filter(([col, v]) => {
          const kind = PASSENGER_COLUMNS[col as keyof typeof PASSENGER_COLUMNS] as string | undefined;
          if (kind === undefined) bad.push(`passengers.${col} is not classified`);
          return kind === 'identity' && v !== null && v !== 0;
        });
        if (row.pending_sealed !== null && row.updated_at < pendingCut) bad.push(`pending scan of ${row.id}`);
        if (row.deleted_at !== null) {
          if (identity.length > 0) bad.push(`stub ${row.id} keeps ${identity.map(([c]) => c).join(', ')}`);
          const named = await s.t.db
            .selectFrom('case_subjects')
            .select('case_id')
            .where('passenger_id', '=', row.id)
            .union(s.t.db.selectFrom('case_claims').select('case_id').where('passenger_id', '=', row.id))
            .union(s.t.db.selectFrom('exposure_marks').select('case_id').where('passenger_id', '=', row.id))
            .union(s.t.db.selectFrom('notifications').select('case_id').where('passenger_id', '=', row.id))
            .execute();
          if (row.deleted_at < startOf(s.rideCut) && named.length === 0) bad.push(`stub ${row.id}`);
          continue;
        }
        const person = s.people.get(row.id);
        const rides = (person?.rideDays ?? []).filter((d) => d >= s.rideCut);
        const active = newest([...(person?.rideDays ?? []), dayOf(row.created_at), dayOf(row.updated_at)]);
        const keeps =
          s.inUse.has(row.id) || (row.kind === 'manual' ? rides.length > 0 : active >= s.inactiveCut);
        if (!keeps) bad.push(`${row.kind} registration ${row.id} keeps its identity`);
      }
      return bad;
    },
  },
  cases: {
    check: async (s) => [...s.expiredCases].map((id) => `case ${id}`),
  },
  case_subjects: { check: caseRecords('case_subjects') },
  case_claims: { check: caseRecords('case_claims') },
  exposure_marks: { check: caseRecords('exposure_marks') },
  notifications: { check: caseRecords('notifications') },
  reveal_requests: { check: caseRecords('reveal_requests') },
  passenger_access: {
    check: async (s) => {
      const caseCut = new Date(s.now.getTime() - CASE_DAYS * DAY);
      return (await s.t.db.selectFrom('passenger_access').select(['id', 'case_id', 'at']).execute())
        .filter((r) => (r.case_id === null ? r.at < caseCut : s.expiredCases.has(r.case_id)))
        .map((r) => `access-log entry ${r.id}`);
    },
  },
  phone_otps: {
    check: async (s) =>
      (
        await s.t.db
          .selectFrom('phone_otps')
          .select('id')
          .where('expires_at', '<=', s.now)
          .where('created_at', '<=', new Date(s.now.getTime() - HOUR))
          .execute()
      ).map((r) => `SMS code ${r.id}`),
  },
  official_sessions: {
    check: async (s) =>
      (
        await s.t.db
          .selectFrom('official_sessions')
          .select('id')
          .where((eb) => eb.or([eb('expires_at', '<=', s.now), eb('revoked_at', 'is not', null)]))
          .execute()
      ).map((r) => `official session ${r.id}`),
  },
};

/** The tables of the migrated database (partitions of `rides` are `rides`; the migrations' own bookkeeping aside). */
async function databaseTables(t: TestApp): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
      and c.relname not in ('schema_migrations', 'schema_migrations_lock')
    order by 1`.execute(t.db);
  return r.rows.map((x) => x.name);
}

/** Every row in every table past its lifetime, described; [] when none. */
async function pastLifetime(t: TestApp, people: Map<string, Person>): Promise<string[]> {
  const now = t.app.ctx.now();
  const caseCut = new Date(now.getTime() - CASE_DAYS * DAY);
  const allCases = await t.db.selectFrom('cases').select(['id', 'status', 'closed_at']).execute();
  const liveMarks = new Set(
    (
      await t.db
        .selectFrom('exposure_marks')
        .select('case_id')
        .where('cleared_at', 'is', null)
        .where('observe_until', '>', now)
        .execute()
    ).map((r) => r.case_id),
  );
  const open = new Set(allCases.filter((c) => c.status === 'open').map((c) => c.id));
  const inUse = new Set<string>();
  for (const table of ['case_subjects', 'case_claims'] as const)
    for (const r of await t.db.selectFrom(table).select(['case_id', 'passenger_id']).execute())
      if (open.has(r.case_id)) inUse.add(r.passenger_id);
  for (const r of await t.db
    .selectFrom('exposure_marks')
    .select(['case_id', 'passenger_id', 'cleared_at', 'observe_until'])
    .execute())
    if (open.has(r.case_id) || (r.cleared_at === null && r.observe_until > now)) inUse.add(r.passenger_id);
  for (const r of await t.db
    .selectFrom('notifications')
    .select(['case_id', 'passenger_id', 'state'])
    .execute())
    if (open.has(r.case_id) || r.state === 'queued' || r.state === 'sending') inUse.add(r.passenger_id);
  const scan: Scan = {
    t,
    now,
    rideCut: cutoffDay(t.app.ctx, RETENTION_DAYS, now),
    inactiveCut: cutoffDay(t.app.ctx, INACTIVE_DAYS, now),
    expiredCases: new Set(
      allCases
        .filter((c) => c.status === 'closed' && c.closed_at! < caseCut && !liveMarks.has(c.id))
        .map((c) => c.id),
    ),
    cases: new Set(allCases.map((c) => c.id)),
    inUse,
    people,
  };
  const bad: string[] = [];
  for (const table of await databaseTables(t)) {
    const rule = (RULES as Record<string, Rule | undefined>)[table];
    if (!rule) bad.push(`table ${table} has no lifetime rule (tests/api/lifetimes.test.ts RULES)`);
    else if (rule.check) bad.push(...(await rule.check(scan)));
  }
  return bad;
}

describe('lifetimes: every personal record goes when its lifetime ends', () => {
  const { t, w } = useNotifyWorld({
    CASE_RETENTION_DAYS: String(CASE_DAYS),
    PASSENGER_INACTIVE_DAYS: String(INACTIVE_DAYS),
    PENDING_SCAN_MINUTES: String(PENDING_MINUTES),
    RATE_LIMIT_PER_IP_PER_MINUTE: '10000',
  });
  const people = new Map<string, Person>();
  const who: Record<string, Person> = {};
  let closedCase: string;
  let openCaseId: string;
  let riderAuth: string;
  let code2: string;

  async function appPerson(
    key: string,
    name: string,
    phone: string,
    opts: { verified?: boolean } = {},
  ): Promise<{ auth: string; person: Person }> {
    const auth = await confirmedPassenger(t, `life-${key}`, { name, phone }, opts);
    const person: Person = { id: await passengerIdOf(t, auth), kind: 'app', rideDays: [], name, phone };
    people.set(person.id, person);
    who[key] = person;
    return { auth, person };
  }

  async function ride(person: Person, auth: string, url: string, minutesAgo?: number) {
    const scannedAt =
      minutesAgo === undefined
        ? undefined
        : new Date(t.app.ctx.now().getTime() - minutesAgo * MIN).toISOString();
    const r = await scanRide(t, auth, url, scannedAt);
    person.rideDays.push(localDay(Date.parse(r.boardedAt)));
  }

  /** The purge at the app's clock, ride days kept as configured; no record past its lifetime afterwards. */
  async function purge(): Promise<PurgeReport> {
    const now = t.app.ctx.now();
    const report = await purgeRecords(t.app.ctx, {
      before: cutoffDay(t.app.ctx, RETENTION_DAYS, now),
      dryRun: false,
      actor: 'test:lifetimes',
    });
    expect(report.ran).toBe(true);
    expect(await pastLifetime(t, people)).toEqual([]);
    return report;
  }

  async function ridesBefore(day: string): Promise<number> {
    const r = await sql<{ n: number }>`
      select count(*)::int as n from rides where boarded_at < ${startOf(day)}`.execute(t.db);
    return r.rows[0]!.n;
  }

  const identityOf = (id: string) =>
    t.db
      .selectFrom('passengers')
      .select(['name_sealed', 'phone_sealed', 'deleted_at', 'link_secret'])
      .where('id', '=', id)
      .executeTakeFirst();

  beforeAll(async () => {
    const { carrier, code } = await createStaffedCarrier(t, w);
    code2 = (
      await createCarrier(t, w.tokens.operator, {
        kind: 'bus',
        plate: '粤B77777',
        route: '2路',
        city: '深圳',
      })
    ).code.url;

    // The closed case: a subject and a contact ride together, a rider registered by staff with them; someone
    // typed (did not verify) the subject's phone, so the case claims them too.
    const subject = await appPerson('subject', '赵一', '13900001001');
    const contact = await appPerson('contact', '钱二', '13900001002');
    await appPerson('claimant', '孙三', '13900001001', { verified: false });
    await ride(subject.person, subject.auth, code.url);
    await ride(contact.person, contact.auth, code.url);
    const manual = await registerManualRide(t, w, carrier.id, {
      name: '李四',
      phone: '13900001004',
      boardedAt: t.app.ctx.now().toISOString(),
    });
    const manualId = (
      await t.db.selectFrom('passengers').select('id').where('kind', '=', 'manual').executeTakeFirstOrThrow()
    ).id;
    who.manual = {
      id: manualId,
      kind: 'manual',
      rideDays: [localDay(Date.parse(manual.ride.boardedAt))],
      name: '李四',
      phone: '13900001004',
    };
    people.set(manualId, who.manual);

    // Riders who never meet the case: one keeps riding, one stops, one deletes their account.
    const rider = await appPerson('rider', '周五', '13900001005');
    riderAuth = rider.auth;
    await ride(rider.person, rider.auth, code.url, 180);
    const quitter = await appPerson('quitter', '吴六', '13900001006');
    await ride(quitter.person, quitter.auth, code2, 300);
    const deleter = await appPerson('deleter', '郑七', '13900001007');
    await ride(deleter.person, deleter.auth, code2, 360);
    await t.http().delete('/v1/passengers/me').set('authorization', deleter.auth).expect(204);

    // Someone who only scanned (a pending scan, never confirmed) and asked for an SMS code.
    const lurkerAuth = await passengerToken(t, 'life-lurker');
    const lurker: Person = {
      id: await passengerIdOf(t, lurkerAuth),
      kind: 'app',
      rideDays: [],
      name: '',
      phone: '13900001008',
    };
    people.set(lurker.id, lurker);
    who.lurker = lurker;
    await t
      .http()
      .post('/v1/rides')
      .set('authorization', lurkerAuth)
      .send({ code: code.url, clientRideId: 'c0ffee00-0000-4000-8000-000000000001' });
    await t
      .http()
      .post('/v1/passengers/me/phone/otp')
      .set('authorization', lurkerAuth)
      .send({ phone: '13900001008' })
      .expect(200);

    const c = await openCase(t, w.tokens.official, {
      subject: { phone: '13900001001' },
      caseNumber: 'LIFE-1',
      reason: 'a confirmed case',
    }).expect(201);
    closedCase = c.body.id as string;
    await grantReveal(t, w.tokens.official, closedCase);
    const ex = await t
      .http()
      .get(`/v1/cases/${closedCase}/exposures?reveal=true`)
      .set('authorization', w.tokens.official)
      .expect(200);
    expect((ex.body.items as { personId: string }[]).map((i) => i.personId).sort()).toEqual(
      [contact.person.id, manualId].sort(),
    );
    await notifyCase(t, w.tokens.official, closedCase).expect(200);
    const sent = await waitFor(
      () => t.db.selectFrom('notifications').select('state').where('case_id', '=', closedCase).execute(),
      (rows) => rows.length === 2 && rows.every((r) => r.state === 'sent'),
    );
    expect(sent.map((r) => r.state)).toEqual(['sent', 'sent']);
    await t
      .http()
      .post(`/v1/cases/${closedCase}/close`)
      .set('authorization', w.tokens.official)
      .send({ reason: 'recovered' })
      .expect(200);

    // A case still open: its subject keeps their identity however long they do not ride.
    const held = await appPerson('held', '王八', '13900001009');
    await ride(held.person, held.auth, code2, 60);
    const o = await openCase(t, w.tokens.official, {
      subject: { phone: '13900001009' },
      caseNumber: 'LIFE-2',
      reason: 'still investigating',
    }).expect(201);
    openCaseId = o.body.id as string;

    // An official person signed in: a session of OFFICIAL_SESSION_HOURS (12).
    await signInOfficial(t, await enrolOfficial(t, w.tokens.admin, ['tracer']));
  }, 120_000);

  afterAll(() => {
    t.clock.offsetMs = 0;
  });

  it('now: nothing is past its lifetime, and a purge removes nothing', async () => {
    expect(await pastLifetime(t, people)).toEqual([]);
    const report = await purge();
    expect(report.counts).toEqual(counts({}));
  });

  it('after 2 hours: the pending scan and the spent SMS code go', async () => {
    const pending = await t.db
      .selectFrom('passengers')
      .select('pending_sealed')
      .where('id', '=', who.lurker!.id)
      .executeTakeFirstOrThrow();
    expect(pending.pending_sealed).not.toBeNull();
    t.clock.offsetMs = 2 * HOUR;
    const report = await purge();
    expect(report.counts).toEqual(counts({ pendingScans: 1, phoneOtps: 1 }));
    expect(await t.db.selectFrom('phone_otps').select('id').execute()).toEqual([]);
  });

  it('after 13 hours: the official session goes', async () => {
    t.clock.offsetMs = 13 * HOUR;
    const report = await purge();
    expect(report.counts).toEqual(counts({ officialSessions: 1 }));
  });

  it('after 31 days: old rides, the staff-registered rider’s identity and the deleted account’s stub go', async () => {
    t.clock.offsetMs = 30 * DAY;
    await ride(who.rider!, riderAuth, code2);
    t.clock.offsetMs = 31 * DAY;
    const before = cutoffDay(t.app.ctx, RETENTION_DAYS);
    const rides = await ridesBefore(before);
    // Every ride of the first day: the subject's, the contact's, the staff-registered one, the rider's, the
    // quitter's, the deleted account's and the open case subject's.
    expect(rides).toBe([...people.values()].flatMap((p) => p.rideDays.filter((d) => d < before)).length);
    expect(rides).toBe(7);
    const report = await purge();
    expect(report.counts).toEqual(counts({ rides, rideRequests: rides, manualRiders: 1, passengerStubs: 1 }));
    // The rider's identity went through account deletion; the stub stays while the closed case names them.
    expect(await identityOf(who.manual!.id)).toMatchObject({ name_sealed: null, link_secret: null });
    expect((await identityOf(who.manual!.id))!.deleted_at).not.toBeNull();
    expect(await identityOf(who.deleter!.id)).toBeUndefined();
    // Everyone else is still known.
    for (const key of ['subject', 'contact', 'claimant', 'rider', 'quitter', 'held'])
      expect((await identityOf(who[key]!.id))!.name_sealed).not.toBeNull();
  });

  it(`after ${CASE_DAYS + 1} days: the closed case and everything it held about people go; the open one stays`, async () => {
    const held = async (
      table:
        | 'case_subjects'
        | 'case_claims'
        | 'exposure_marks'
        | 'notifications'
        | 'reveal_requests'
        | 'passenger_access',
    ) => (await t.db.selectFrom(table).select('case_id').where('case_id', '=', closedCase).execute()).length;
    const expected = {
      caseSubjects: await held('case_subjects'),
      caseClaims: await held('case_claims'),
      exposureMarks: await held('exposure_marks'),
      notifications: await held('notifications'),
      revealRequests: await held('reveal_requests'),
      accessLog: await held('passenger_access'),
    };
    expect(expected).toMatchObject({
      caseSubjects: 1,
      caseClaims: 1,
      exposureMarks: 2,
      notifications: 2,
      revealRequests: 1,
    });
    expect(expected.accessLog).toBeGreaterThanOrEqual(3);
    t.clock.offsetMs = (CASE_DAYS + 1) * DAY;

    // A dry run counts the same and changes nothing.
    const before = cutoffDay(t.app.ctx, RETENTION_DAYS);
    const dry = await purgeRecords(t.app.ctx, { before, dryRun: true, actor: 'test:lifetimes' });
    const rides = await ridesBefore(before);
    const want = counts({ rides, rideRequests: rides, cases: 1, ...expected, passengerStubs: 1 });
    expect(dry.counts).toEqual(want);
    expect(dry.caseIds).toEqual([closedCase]);
    expect(await held('exposure_marks')).toBe(2);

    const report = await purge();
    expect(report.counts).toEqual(want);
    expect(report.caseIds).toEqual([closedCase]);
    expect(await t.db.selectFrom('cases').select('id').execute()).toEqual([{ id: openCaseId }]);
    // The staff-registered rider's stub went with the case that named it.
    expect(await identityOf(who.manual!.id)).toBeUndefined();
    // The audit log keeps the case's trail, and the purge's own entry with the counts.
    const trail = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('case_id', '=', closedCase)
      .execute();
    expect(trail.map((e) => e.action)).toContain('case.open');
    const entry = await t.db
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'data.purge')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(entry.detail!)).toMatchObject({ counts: want, caseIds: [closedCase] });
  });

  it(`after ${INACTIVE_DAYS + 1} days: identities of registrations without a ride go, but not a case subject’s`, async () => {
    t.clock.offsetMs = (INACTIVE_DAYS + 1) * DAY;
    const report = await purge();
    expect(report.counts).toEqual(counts({ inactivePassengers: 5 }));
    for (const key of ['subject', 'contact', 'claimant', 'quitter', 'lurker']) {
      const row = await identityOf(who[key]!.id);
      expect(row).toMatchObject({ name_sealed: null, phone_sealed: null, link_secret: null });
      expect(row!.deleted_at).not.toBeNull();
    }
    expect((await identityOf(who.held!.id))!.name_sealed).not.toBeNull();
    expect((await identityOf(who.rider!.id))!.name_sealed).not.toBeNull();
  });

  it('after 121 days: their stubs go; the rider who rode on day 100 and the open case’s subject stay', async () => {
    t.clock.offsetMs = 100 * DAY;
    await ride(who.rider!, riderAuth, code2);
    t.clock.offsetMs = 121 * DAY;
    const before = cutoffDay(t.app.ctx, RETENTION_DAYS);
    const rides = await ridesBefore(before);
    const report = await purge();
    expect(report.counts).toEqual(counts({ rides, rideRequests: rides, passengerStubs: 5 }));
    const left = await t.db.selectFrom('passengers').select('id').orderBy('id').execute();
    expect(left.map((r) => r.id)).toEqual([who.rider!.id, who.held!.id].sort());
  });

  it('one purge at a time: while another holds the lock, a purge does nothing', async () => {
    await t.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext('ridetrace.purge'))`.execute(tx);
      const r = await purgeRecords(t.app.ctx, {
        before: cutoffDay(t.app.ctx, RETENTION_DAYS),
        dryRun: false,
        actor: 'test:lifetimes',
      });
      expect(r).toMatchObject({ ran: false, counts: counts({}) });
    });
  });

  it('every table has a rule; the tables without an age rule say why they keep their rows', () => {
    expect(Object.keys(RULES).sort()).toEqual(Object.keys(TABLE_COLUMNS).sort());
    for (const [table, rule] of Object.entries(RULES)) expect(rule.kept ?? rule.check, table).toBeDefined();
  });
});

describe('an interrupted purge (kill -9 of the CLI) leaves whole batches; a rerun finishes', () => {
  const t = useTestApp();
  const N = 400_000;

  const left = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from ride_requests`.execute(t.db)).rows[0]!.n;

  it('killed mid-way, then run again', async () => {
    // Idempotency keys of rides boarded 60 days ago: the purge removes them a batch per statement.
    for (let from = 1; from <= N; from += 50_000)
      await sql`
        insert into ride_requests (request_key, ride_id, carrier_id, boarded_at)
        select sha256(convert_to(i::text, 'UTF8')), gen_random_uuid(), 1, now() - interval '60 days'
        from generate_series(${from}::int, ${from + 49_999}::int) as g(i)`.execute(t.db);
    const child = spawn('pnpm', ['-s', 'cli', 'purge', '--retention-days', String(RETENTION_DAYS)], {
      cwd: REPO_ROOT,
      env: cliEnv(t),
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      const seen = await waitFor(left, (n) => n < N, 90_000);
      expect(seen).toBeLessThan(N);
    } finally {
      // The whole process group: pnpm and the CLI's node process under it.
      process.kill(-child.pid!, 'SIGKILL');
    }
    await exited;
    // Postgres finishes a statement whose client died (and commits it): wait for the killed run's last delete.
    await waitFor(
      async () =>
        (
          await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and state = 'active'
              and query ilike '%delete from ride_requests%'`.execute(t.db)
        ).rows[0]!.n,
      (n) => n === 0,
      30_000,
    );
    const remaining = await left();
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(N);
    expect(remaining % 1000).toBe(0);
    // The killed run never reached its audit entry.
    expect(
      await t.db.selectFrom('audit_log').select('seq').where('action', '=', 'data.purge').execute(),
    ).toEqual([]);

    // Its lock went with its connection (as soon as Postgres notices): the rerun takes it and finishes.
    const rerun = await waitFor(
      () => runCli(['purge', '--retention-days', String(RETENTION_DAYS)], cliEnv(t), 120_000),
      (r) => r.code !== 0 || !r.stdout.includes('another purge is running'),
      30_000,
    );
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`idempotency keys removed: ${remaining}`);
    expect(rerun.stdout).toMatch(new RegExp(`ride idempotency keys:\\s+${remaining}\\b`));
    expect(await left()).toBe(0);
  }, 240_000);
});
