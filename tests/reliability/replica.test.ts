import {
  createDb,
  type Db,
  metricsOf,
  migrateDatabase,
  type RunningPostgres,
  startEmbeddedPostgres,
  startEmbeddedStandby,
  withDatabase,
} from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startFakeSuperApp } from '../support/fake-super-app.js';
import { useCleanup } from '../support/fixtures.js';
import { openCase, passengerIdOf, scanRide } from '../support/flows.js';
import { createDatabase, TEST_PG_SETTINGS } from '../support/postgres.js';
import {
  buildTestApp,
  confirmedPassenger,
  createCarrier,
  seedWorld,
  type TestApp,
  type World,
} from '../support/test-app.js';
import { fmt, sleep } from './support/harness.js';

/**
 * Traces on a real physical streaming replica: a second embedded Postgres started from a base backup of the first
 * (startEmbeddedStandby: the low-level backup API and a file copy). While passengers scan, exposures, the case's
 * rides and the itinerary read the standby and show every ride acknowledged before they were asked for; with
 * replay paused they move to the primary within TRACE_MAX_LAG_MS (still complete), come back when replay resumes,
 * and keep answering from the primary once the standby is stopped.
 */

const MAX_LAG_MS = 1000;
const CONTACTS = 4;
const READS_PER_ROUND = 5;
const DATABASE = 'ridetrace_replica';
const UNLIMITED = '1000000000';

const cleanup = useCleanup();

interface Acked {
  passenger: number;
  id: string;
  boardedAt: string;
  /** When the scan's 201 arrived (performance.now()). */
  at: number;
}

interface Cluster {
  pg: RunningPostgres;
  destroy(): Promise<void>;
}

/** A fresh directory that user postgres can enter (mkdtemp makes it 0700). */
async function clusterDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/**
 * The primary: the test clusters' settings, but commits acknowledged once written (`synchronous_commit` on, as in
 * production), so the standby can have every acknowledged ride without waiting for the WAL writer.
 */
async function startPrimary(): Promise<Cluster> {
  const dir = await clusterDir('ridetrace-primary-');
  const pg = await startEmbeddedPostgres({
    dir,
    persistent: false,
    settings: { ...TEST_PG_SETTINGS, synchronous_commit: 'on' },
  }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    pg,
    destroy: async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startStandby(primary: RunningPostgres): Promise<Cluster> {
  const dir = await clusterDir('ridetrace-standby-');
  const pg = await startEmbeddedStandby({
    dir,
    primary,
    persistent: false,
    settings: TEST_PG_SETTINGS,
  }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    pg,
    destroy: async () => {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Scans by every contact passenger, one after another each, until stopped; every acknowledged ride recorded. A 503
 * (the busy machine) acknowledges nothing and is counted; any other failure ends the load, and stop() reports it.
 */
function scanLoad(t: TestApp, auths: string[], code: string) {
  const acked: Acked[] = [];
  let refused = 0;
  let running = true;
  const loops = Promise.all(
    auths.map(async (auth, passenger) => {
      while (running) {
        const res = await t
          .http()
          .post('/v1/rides')
          .set('authorization', auth)
          .send({ code, clientRideId: randomUUID() });
        if (res.status === 503) refused++;
        else {
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          const ride = res.body.ride as { id: string; boardedAt: string };
          acked.push({ passenger, id: ride.id, boardedAt: ride.boardedAt, at: performance.now() });
        }
        await sleep(20);
      }
    }),
  ).finally(() => (running = false));
  loops.catch(() => undefined);
  return {
    acked,
    refused: () => refused,
    stop: async () => {
      running = false;
      await loops;
    },
  };
}

it('traces read a hot standby while it keeps up and the primary otherwise, never missing an acknowledged ride', async () => {
  const started = performance.now();
  const primary = await startPrimary();
  cleanup.add(() => primary.destroy());
  const url = await createDatabase(primary.pg.url, DATABASE);
  await migrateDatabase(url);
  const standby = await startStandby(primary.pg);
  let standbyUp = true;
  cleanup.add(() => (standbyUp ? standby.destroy() : Promise.resolve()));
  const standbyDb = createDb({ connectionString: withDatabase(standby.pg.url, DATABASE), max: 1 });
  cleanup.add(() => standbyDb.destroy());
  const superApp = await startFakeSuperApp();
  cleanup.add(() => superApp.close());
  const db: Db = createDb({ connectionString: url, max: 10 });
  cleanup.add(() => db.destroy());
  const t = await buildTestApp({ url, db, drop: async () => undefined }, superApp, {
    TRACE_DATABASE_URL: withDatabase(standby.pg.url, DATABASE),
    TRACE_MAX_LAG_MS: String(MAX_LAG_MS),
    NOTIFY_WORKER: 'off',
    // Every scan of the load is a ride of its own, and none is refused.
    RIDES_REPEAT_MINUTES: '0',
    RATE_LIMIT_PER_IP_PER_MINUTE: UNLIMITED,
    RATE_LIMIT_PER_PASSENGER_PER_MINUTE: UNLIMITED,
  });
  cleanup.add(() => t.close());
  const setUpMs = performance.now() - started;
  const traces = t.app.ctx.traces;

  const w: World = await seedWorld(t);
  const { code } = await createCarrier(t, w.tokens.operator);
  const subject = await confirmedPassenger(t, 'replica-subject', { name: '李四', phone: '13900000000' });
  const subjectRide = await scanRide(t, subject, code.url);
  const contacts: string[] = [];
  const contactIds: string[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    const auth = await confirmedPassenger(t, `replica-contact-${i}`, {
      name: '王五',
      phone: `1390000010${i}`,
    });
    contacts.push(auth);
    contactIds.push(await passengerIdOf(t, auth));
  }
  const opened = await openCase(t, w.tokens.official, {
    subject: { phone: '13900000000' },
    caseNumber: 'REPLICA-1',
    reason: 'test: traces on a standby',
  }).expect(201);
  const caseId = opened.body.id as string;

  /**
   * One round of the trace reads (READS_PER_ROUND), checked against the rides acknowledged before it started:
   * exposures (every contact ride, by person and boarding time; degree 2; CSV), the case's rides, and one contact's
   * itinerary (by ride id).
   */
  const traceRound = async (acked: Acked[], round: number) => {
    const start = performance.now();
    const before = acked.filter((a) => a.at < start);
    const res = await t
      .http()
      .get(`/v1/cases/${caseId}/exposures?limit=100`)
      .set('authorization', w.tokens.official)
      .expect(200);
    const seen = new Set<string>();
    for (const p of res.body.items as { personId: string; contacts: { contactBoardedAt: string }[] }[])
      for (const c of p.contacts) seen.add(`${p.personId} ${c.contactBoardedAt}`);
    const missing = before.filter((a) => !seen.has(`${contactIds[a.passenger]} ${a.boardedAt}`));
    expect(missing, `exposures miss ${missing.length} of ${before.length} acknowledged rides`).toEqual([]);
    // Degree 2 (its own SQL function) and the CSV export read the same place.
    await t
      .http()
      .get(`/v1/cases/${caseId}/exposures?degree=2&limit=1`)
      .set('authorization', w.tokens.official)
      .expect(200);
    const csv = await t
      .http()
      .get(`/v1/cases/${caseId}/exposures.csv`)
      .set('authorization', w.tokens.official)
      .expect(200);
    // A header line, then one line per contact ride.
    expect(csv.text.trim().split('\n').length - 1).toBeGreaterThanOrEqual(before.length);

    const rides = await t
      .http()
      .get(`/v1/cases/${caseId}/rides`)
      .set('authorization', w.tokens.official)
      .expect(200);
    expect((rides.body.items as { id: string }[]).map((r) => r.id)).toEqual([subjectRide.id]);

    const who = round % CONTACTS;
    const own = before.filter((a) => a.passenger === who).map((a) => a.id);
    const itinerary = await t
      .http()
      .get('/v1/passengers/me/itinerary?days=1')
      .set('authorization', contacts[who]!)
      .expect(200);
    const ids = new Set<string>(
      (itinerary.body.days as { cities: { rides: { id: string }[] }[] }[]).flatMap((d) =>
        d.cities.flatMap((c) => c.rides.map((r) => r.id)),
      ),
    );
    expect(own.filter((id) => !ids.has(id))).toEqual([]);
    return { ms: performance.now() - start, rides: before.length };
  };
  /** Trace rounds for `ms`; the reads they made on each target. */
  const traceFor = async (acked: Acked[], ms: number) => {
    const from = { ...traces.reads };
    const end = performance.now() + ms;
    const times: number[] = [];
    let rides = 0;
    for (let round = 0; performance.now() < end; round++) {
      const r = await traceRound(acked, round);
      times.push(r.ms);
      rides = r.rides;
    }
    return {
      replica: traces.reads.replica - from.replica,
      primary: traces.reads.primary - from.primary,
      rounds: times.length,
      rides,
      worstMs: Math.max(...times),
    };
  };
  const waitUntil = async (what: string, ok: () => boolean, ms: number): Promise<number> => {
    const from = performance.now();
    while (!ok()) {
      if (performance.now() - from > ms) throw new Error(`${what}: not within ${ms} ms`);
      await sleep(25);
    }
    return performance.now() - from;
  };

  const load = scanLoad(t, contacts, code.url);
  try {
    // 1. The standby keeps up: every read there, and complete.
    const replica = await traceFor(load.acked, 3000);
    expect(replica.primary, JSON.stringify(replica)).toBe(0);
    expect(replica.replica).toBe(replica.rounds * READS_PER_ROUND);
    expect(traces.lagMs()).not.toBeNull();

    // 2. Replay paused: within TRACE_MAX_LAG_MS (and a sample) the reads go to the primary, still complete.
    await sql`select pg_wal_replay_pause()`.execute(standbyDb);
    const switchMs = await waitUntil(
      'reads on the primary after replay paused',
      () => (traces.lagMs() ?? Infinity) > MAX_LAG_MS,
      MAX_LAG_MS + 2000,
    );
    const paused = await traceFor(load.acked, 1500);
    expect(paused.replica, JSON.stringify(paused)).toBe(0);
    expect(paused.primary).toBe(paused.rounds * READS_PER_ROUND);

    // 3. Replay resumed: back to the standby once it has caught up.
    await sql`select pg_wal_replay_resume()`.execute(standbyDb);
    const backMs = await waitUntil(
      'the standby caught up',
      () => (traces.lagMs() ?? Infinity) <= MAX_LAG_MS,
      10_000,
    );
    const resumed = await traceFor(load.acked, 1500);
    expect(resumed.replica, JSON.stringify(resumed)).toBeGreaterThan(0);

    // 4. The standby stopped: traces keep answering, from the primary.
    standbyUp = false;
    await standby.destroy();
    const down = await traceFor(load.acked, 2000);
    expect(down.primary, JSON.stringify(down)).toBeGreaterThanOrEqual(down.rounds * READS_PER_ROUND);
    expect(traces.lagMs()).toBeNull();

    const metrics = await metricsOf(t.app.ctx).registry.metrics();
    expect(metrics).toMatch(/ridetrace_trace_reads_total\{target="replica"\} [1-9]/);
    expect(metrics).toMatch(/ridetrace_trace_reads_total\{target="primary"\} [1-9]/);
    expect(metrics).toMatch(/ridetrace_trace_replica_lag_seconds \+Inf/);

    console.log(
      [
        `set-up (two clusters, base backup, app) ${fmt(setUpMs)}`,
        `standby: ${replica.rounds} rounds, worst ${fmt(replica.worstMs)}`,
        `paused: primary after ${fmt(switchMs)}, ${paused.rounds} rounds, worst ${fmt(paused.worstMs)}`,
        `resumed: standby after ${fmt(backMs)}, ${resumed.rounds} rounds (${resumed.primary} primary reads)`,
        `stopped: ${down.rounds} rounds, worst ${fmt(down.worstMs)}`,
        `${load.acked.length} rides acknowledged (${load.refused()} scans refused 503), total ${fmt(performance.now() - started)}`,
      ].join('\n'),
    );
  } finally {
    await load.stop();
  }
});
