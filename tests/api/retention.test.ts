import { cutoffDay, open, purgeRecords, recordRide } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { localDay, localMidnight } from '../support/days.js';
import { useWorld } from '../support/fixtures.js';
import { grantReveal, openCase } from '../support/flows.js';
import { runCli } from '../support/run-cli.js';
import { cliEnv, confirmedPassenger, createCarrier, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;

/** The local day `daysAgo` days before now, at hh:mm local time (ride days are local days). */
function at(daysAgo: number, hour: number, minute = 0): Date {
  const start = localMidnight(localDay(Date.now() - daysAgo * DAY));
  return new Date(start.getTime() + (hour * 60 + minute) * 60_000);
}
const dayOf = localDay;
const partition = (day: string) => `rides_${day.replaceAll('-', '')}`;

async function partitionExists(t: TestApp, day: string): Promise<boolean> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from pg_class where relname = ${partition(day)}`.execute(t.db);
  return r.rows[0]!.n > 0;
}

async function ridesOn(t: TestApp, day: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from rides
    where boarded_at >= ${localMidnight(day)} and boarded_at < ${new Date(localMidnight(day).getTime() + DAY)}`.execute(
    t.db,
  );
  return r.rows[0]!.n;
}

async function requestsOn(t: TestApp, day: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from ride_requests
    where boarded_at >= ${localMidnight(day)} and boarded_at < ${new Date(localMidnight(day).getTime() + DAY)}`.execute(
    t.db,
  );
  return r.rows[0]!.n;
}

async function dayKeyRow(t: TestApp, day: string) {
  return t.db.selectFrom('ride_day_keys').selectAll().where('day', '=', day).executeTakeFirst();
}

async function purgeAudits(t: TestApp) {
  return t.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', 'data.purge')
    .orderBy('seq', 'asc')
    .execute();
}

// Not a load test: no load shedding while parallel test files and CLI child processes share the CPU.
const { t, w } = useWorld({ SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
let carrierId: number;
let alice: { auth: string; id: string };
let bob: { auth: string; id: string };

async function passenger(user: string, name: string, phone: string) {
  const auth = await confirmedPassenger(t, user, { name, phone });
  const me = await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
  return { auth, id: me.body.id as string };
}

async function ride(passengerId: string, boardedAt: Date) {
  const r = await recordRide(t.app.ctx, t.db, {
    passengerId,
    carrierId,
    generation: null,
    clientRideId: randomUUID(),
    time: { boardedAt, source: 'scan', late: false },
    receivedAt: boardedAt,
    registeredBy: null,
  });
  expect(r.created).toBe(true);
  return r.ride;
}

beforeAll(async () => {
  const { carrier } = await createCarrier(t, w.tokens.operator);
  carrierId = carrier.id;
  alice = await passenger('ret-alice', '王小明', '13900000011');
  bob = await passenger('ret-bob', '李四', '13900000012');
});

describe('purge (retention 28 days)', () => {
  const d40 = dayOf(at(40, 10));
  const d35 = dayOf(at(35, 10));
  const d3 = dayOf(at(3, 10));
  let before: string;
  /** A ride of day 40 as a backup would hold it: id and sealed passenger id. */
  let saved: { id: string; sealed: Buffer };
  let recentRideIds: string[];

  beforeAll(async () => {
    // Day 40: 2 rides; day 35: 3 rides; day 3: 2 rides (alice and bob together).
    const r40 = await ride(alice.id, at(40, 10));
    await ride(bob.id, at(40, 10, 5));
    await ride(alice.id, at(35, 8));
    await ride(bob.id, at(35, 8, 3));
    await ride(alice.id, at(35, 18));
    recentRideIds = [(await ride(alice.id, at(3, 10))).id, (await ride(bob.id, at(3, 10, 4))).id];
    before = cutoffDay(t.app.ctx, 28);
    const row = await sql<{ passenger_sealed: Buffer }>`
      select passenger_sealed from rides where id = ${r40.id}::uuid`.execute(t.db);
    saved = { id: r40.id, sealed: row.rows[0]!.passenger_sealed };
  });

  it('the cutoff keeps 28 days: days 40 and 35 go, day 3 stays', () => {
    expect(before > d35).toBe(true);
    expect(before <= d3).toBe(true);
  });

  it('before the purge, the saved sealed passenger id opens with the day key', async () => {
    const key = await t.app.ctx.keyring.existingDayKey(t.db, d40);
    expect(key).not.toBeNull();
    expect(open(key!.seal, saved.sealed, `rides/passenger/${saved.id}`).toString('utf8')).toBe(alice.id);
  });

  it('a dry run reports the two old days with their row counts and changes nothing', async () => {
    const auditsBefore = (await purgeAudits(t)).length;
    const report = await purgeRecords(t.app.ctx, { before, dryRun: true, actor: 'test' });
    expect(report).toMatchObject({ dryRun: true, before, ran: true, rows: 5, keyIds: [d40, d35] });
    expect(report.days).toEqual([
      { day: d40, rows: 2, keyDestroyed: true, partitionDropped: true },
      { day: d35, rows: 3, keyDestroyed: true, partitionDropped: true },
    ]);
    expect(report.rideRequests).toBe(0);
    // Nothing changed.
    for (const [day, n] of [
      [d40, 2],
      [d35, 3],
      [d3, 2],
    ] as const) {
      expect(await ridesOn(t, day)).toBe(n);
      expect(await requestsOn(t, day)).toBe(n);
      expect(await partitionExists(t, day)).toBe(true);
      expect(await dayKeyRow(t, day)).toBeDefined();
    }
    expect(await t.app.ctx.keyring.existingDayKey(t.db, d40)).not.toBeNull();
    expect((await purgeAudits(t)).length).toBe(auditsBefore);
  });

  it('the real purge destroys keys, drops partitions, forgets idempotency keys and is audited', async () => {
    const report = await purgeRecords(t.app.ctx, { before, dryRun: false, actor: 'test:retention' });
    expect(report).toMatchObject({ dryRun: false, before, ran: true, rows: 5, keyIds: [d40, d35] });
    expect(report.days.map((d) => d.day)).toEqual([d40, d35]);
    expect(report.rideRequests).toBe(5);

    for (const day of [d40, d35]) {
      expect(await partitionExists(t, day)).toBe(false);
      expect(await ridesOn(t, day)).toBe(0);
      expect(await dayKeyRow(t, day)).toBeUndefined();
      expect(await requestsOn(t, day)).toBe(0);
    }
    // Day 3 intact.
    expect(await partitionExists(t, d3)).toBe(true);
    expect(await ridesOn(t, d3)).toBe(2);
    expect(await dayKeyRow(t, d3)).toBeDefined();
    expect(await requestsOn(t, d3)).toBe(2);

    const audits = await purgeAudits(t);
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actor).toBe('test:retention');
    expect(audits[0]!.case_id).toBeNull();
    expect(JSON.parse(audits[0]!.detail!)).toMatchObject({
      before,
      days: 2,
      rows: 5,
      keyIds: [d40, d35],
    });
  });

  it('crypto-shredding: the saved sealed passenger id can no longer be opened', async () => {
    t.app.ctx.keyring.forgetDayKey(d40);
    expect(await t.app.ctx.keyring.existingDayKey(t.db, d40)).toBeNull();
    expect(await t.app.ctx.keyring.existingDayKey(t.db, d35)).toBeNull();
    const r = await sql<{
      n: number;
    }>`select count(*)::int as n from rides where id = ${saved.id}::uuid`.execute(t.db);
    expect(r.rows[0]!.n).toBe(0);
  });

  it('the kept day: rides still listed to the passenger and still traceable', async () => {
    const mine = await t
      .http()
      .get('/v1/passengers/me/rides?days=7')
      .set('authorization', alice.auth)
      .expect(200);
    expect(mine.body.items.map((r: { id: string }) => r.id)).toEqual([recentRideIds[0]]);
    const longer = await t
      .http()
      .get('/v1/passengers/me/rides?days=28')
      .set('authorization', alice.auth)
      .expect(200);
    expect(longer.body.items).toHaveLength(1);

    const now = Date.now();
    const c = await openCase(t, w.tokens.official, {
      subject: { phone: '13900000011' },
      infectiousFrom: new Date(now - 5 * DAY).toISOString(),
      infectiousTo: new Date(now).toISOString(),
      caseNumber: 'RET-1',
      reason: 'retention test',
    }).expect(201);
    await grantReveal(t, w.tokens.official, c.body.id);
    const ex = await t
      .http()
      .get(`/v1/cases/${c.body.id}/exposures?reveal=true`)
      .set('authorization', w.tokens.official)
      .expect(200);
    expect(ex.body.total).toBe(1);
    expect(ex.body.caseRides).toBe(1);
    expect(ex.body.items[0]).toMatchObject({ personId: bob.id, name: '李四', level: 'close' });
  });

  it('a second purge is a no-op (and not audited)', async () => {
    const audits = (await purgeAudits(t)).length;
    const report = await purgeRecords(t.app.ctx, { before, dryRun: false, actor: 'test:retention' });
    expect(report).toMatchObject({ ran: true, days: [], rows: 0, keyIds: [], rideRequests: 0 });
    expect((await purgeAudits(t)).length).toBe(audits);
    expect(await ridesOn(t, d3)).toBe(2);
  });
});

describe('purge CLI', () => {
  const d50 = dayOf(at(50, 9));
  const d45 = dayOf(at(45, 9));

  beforeAll(async () => {
    await ride(alice.id, at(50, 9));
    await ride(bob.id, at(50, 9, 2));
    await ride(bob.id, at(45, 9));
  });

  it('`purge --retention-days 28 --dry-run` prints the report and changes nothing; then the real purge', async () => {
    const before = cutoffDay(t.app.ctx, 28, new Date());
    const dry = await runCli(['purge', '--retention-days', '28', '--dry-run'], cliEnv(t));
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`DRY RUN: would purge 2 day(s) before ${before}: 3 ride(s)`);
    expect(dry.stdout).toContain(`${d50}: 2 rides, key destroyed, partition dropped`);
    expect(dry.stdout).toContain(`${d45}: 1 rides, key destroyed, partition dropped`);
    expect(dry.stdout).toContain(`day keys to destroy: ${d50}, ${d45}`);
    expect(await partitionExists(t, d50)).toBe(true);
    expect(await ridesOn(t, d50)).toBe(2);
    expect(await dayKeyRow(t, d45)).toBeDefined();

    const auditsBefore = (await purgeAudits(t)).length;
    const real = await runCli(['purge', '--retention-days', '28'], cliEnv(t));
    expect(real.code).toBe(0);
    expect(real.stdout).toContain(`purged 2 day(s) before ${before}: 3 ride(s)`);
    expect(real.stdout).toContain(`day keys destroyed: ${d50}, ${d45}`);
    expect(real.stdout).toContain('idempotency keys removed: 3');
    for (const day of [d50, d45]) {
      expect(await partitionExists(t, day)).toBe(false);
      expect(await dayKeyRow(t, day)).toBeUndefined();
      expect(await requestsOn(t, day)).toBe(0);
    }
    const audits = await purgeAudits(t);
    expect(audits).toHaveLength(auditsBefore + 1);
    expect(audits.at(-1)!.actor).toBe('cli:purge');
    expect(JSON.parse(audits.at(-1)!.detail!)).toMatchObject({ days: 2, rows: 3, keyIds: [d50, d45] });
  }, 120_000);

  it('`purge` needs exactly one of --retention-days and --before; refuses days still open to offline scans', async () => {
    const today = localDay(Date.now());
    const [both, neither, todayRun] = await Promise.all([
      runCli(['purge', '--retention-days', '28', '--before', '2020-01-01'], cliEnv(t)),
      runCli(['purge'], cliEnv(t)),
      runCli(['purge', '--before', today], cliEnv(t)),
    ]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/exactly one of --retention-days N or --before DATE/);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toMatch(/exactly one of --retention-days N or --before DATE/);
    expect(todayRun.code).not.toBe(0);
    expect(todayRun.stderr).toMatch(/refusing to purge days that may still receive offline scans/);
    // Nothing of the kept days was touched.
    expect(await partitionExists(t, today)).toBe(true);
    expect(await ridesOn(t, dayOf(at(3, 10)))).toBe(2);
  }, 120_000);
});
