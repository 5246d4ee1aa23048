import type { Db } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../support/fixtures.js';
import {
  fmt,
  percentile,
  restartPostgres,
  ridesPresent,
  scan,
  sleep,
  startStack,
  type Postgres,
  type ServerProcess,
  type World,
} from './support/harness.js';

/**
 * The database goes away under a light scan load and comes back. While it is away the server answers 503
 * service_unavailable (never 500, never a dropped connection), within a bound, and /ready says so; once it is
 * back the server recovers by itself: /ready 200 and scans 201, without a restart.
 *
 * Two ways to go away: a clean stop (connections refused; Postgres restarted on the same data directory and
 * port), and a freeze (SIGSTOP of every Postgres process: connections hang, as in a network partition).
 */

const PASSENGERS = 4;
/** How long the database stays away: longer than the pool's 3 s connection timeout. */
const OUTAGE_MS = 6000;
/** Stop–start cycles of the stopped database (the server must live through all of them). */
const STOPS = 3;
/** Every reply, even while the database is away, comes within this bound. */
const BOUND_MS = 5000;

type Phase = 'up' | 'going' | 'away' | 'coming back' | 'back';
const PHASES: Phase[] = ['up', 'going', 'away', 'coming back', 'back'];

interface Reply {
  /** The phase when the request was sent, and when its reply came. */
  phase: Phase;
  phaseEnd: Phase;
  status: number;
  code?: string;
  ms: number;
  /** Start, ms since the load started. */
  at: number;
}

interface Setup {
  pg: Postgres;
  server: ServerProcess;
  db: Db;
  world: World;
  exit: () => { code: number | null; signal: string | null } | undefined;
}

const cleanup = useCleanup();

async function setUp(name: string, persistent: boolean): Promise<Setup> {
  const { pg, server, db, world } = await startStack(cleanup, {
    database: name,
    persistent,
    passengers: PASSENGERS,
  });
  let exit: { code: number | null; signal: string | null } | undefined;
  void server.exited.then((e) => (exit = e));
  return { pg, server, db, world, exit: () => exit };
}

/**
 * Runs the light load (each passenger: scan, 50 ms pause) and a /ready probe (every 250 ms) through `cycles`
 * outages: 2 s up, then each time `goAway`, OUTAGE_MS away, `comeBack`, until recovered and 2 s more.
 */
async function throughOutage(
  s: Setup,
  cycles: number,
  goAway: () => Promise<void>,
  comeBack: () => Promise<void>,
) {
  let phase: Phase = 'up';
  let stop = false;
  const t0 = performance.now();
  const scans: Reply[] = [];
  const readies: (Reply & { body: unknown })[] = [];
  const acked: string[] = [];

  const load = s.world.passengers.map(async (token) => {
    while (!stop) {
      const at = phase;
      const started = performance.now();
      try {
        const r = await scan(s.server.url, token, s.world.code, randomUUID(), 30_000);
        scans.push({
          phase: at,
          phaseEnd: phase,
          status: r.status,
          ...(r.code ? { code: r.code } : {}),
          ms: r.ms,
          at: started - t0,
        });
        if (r.status === 201 && r.rideId) acked.push(r.rideId);
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        scans.push({
          phase: at,
          phaseEnd: phase,
          status: 0,
          code: `no reply: ${cause}`,
          ms: performance.now() - started,
          at: started - t0,
        });
      }
      await sleep(50);
    }
  });
  const probe = (async () => {
    while (!stop) {
      const at = phase;
      const started = performance.now();
      const res = await fetch(`${s.server.url}/ready`, { signal: AbortSignal.timeout(30_000) }).catch(
        () => null,
      );
      readies.push({
        phase: at,
        phaseEnd: phase,
        status: res?.status ?? 0,
        body: await res?.json().catch(() => null),
        ms: performance.now() - started,
        at: started - t0,
      });
      await sleep(250);
    }
  })();

  await sleep(2000);
  const recoveries: { ready: Reply | undefined; scan: Reply | undefined }[] = [];
  for (let cycle = 1; cycle <= cycles; cycle++) {
    phase = 'going';
    await goAway();
    phase = 'away';
    const awayAt = performance.now();
    await sleep(OUTAGE_MS);
    phase = 'coming back';
    await comeBack();
    const backAt = performance.now() - t0;
    phase = 'back';
    const first = () => ({
      ready: readies.find((r) => r.at >= backAt && r.phase === 'back' && r.status === 200),
      scan: scans.find((r) => r.at >= backAt && r.phase === 'back' && r.status === 201),
    });
    const deadline = Date.now() + 30_000;
    while ((!first().ready || !first().scan) && Date.now() < deadline && !s.exit()) await sleep(50);
    const recovered = first();
    recoveries.push(recovered);
    console.log(
      `  outage ${cycle}: away ${fmt(backAt - (awayAt - t0))}; once back: first /ready 200 after ` +
        `${recovered.ready ? fmt(recovered.ready.at - backAt) : 'never'}, first scan 201 after ` +
        `${recovered.scan ? fmt(recovered.scan.at - backAt) : 'never'}`,
    );
    if (s.exit()) break; // the server died: no use going on
    await sleep(2000);
  }
  const end = performance.now() - t0;
  stop = true;
  await Promise.all([...load, probe]);

  const summary = (rs: Reply[]) => {
    const counts = new Map<string, number>();
    for (const r of rs) {
      const k = `${r.status}${r.code ? ` ${r.code}` : ''}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const ms = rs.map((r) => r.ms);
    return `${[...counts].map(([k, n]) => `${n} × ${k}`).join(', ')}; p50 ${fmt(percentile(ms, 50))}, max ${fmt(Math.max(...ms))}`;
  };
  for (const p of PHASES) console.log(`  scans while ${p}: ${summary(scans.filter((r) => r.phase === p))}`);
  for (const p of PHASES)
    console.log(`  /ready while ${p}: ${summary(readies.filter((r) => r.phase === p))}`);
  const exit = s.exit();
  if (exit) console.log(`  the server exited (${JSON.stringify(exit)}):\n${s.server.output().slice(-6000)}`);
  return { scans, readies, acked, recoveries, end, exit };
}

/** The assertions both outages share. */
/**
 * `minAway`: replies wholly inside the outage. A stopped database refuses at once (many replies); a frozen one makes
 * each request wait for the client-side query timeout, so each load client completes only one or two.
 */
async function expectServedThrough(s: Setup, r: Awaited<ReturnType<typeof throughOutage>>, minAway = 10) {
  // The server process survived.
  expect(r.exit).toBeUndefined();
  // Before: registered.
  const up = r.scans.filter((x) => x.phase === 'up' && x.at + x.ms < 1900);
  expect(up.length).toBeGreaterThan(0);
  expect(up.filter((x) => x.status !== 201)).toEqual([]);
  // Whatever the phase: 201 or 503 service_unavailable, never a 500 or a dropped connection, within the bound.
  expect(
    r.scans.filter((x) => !(x.status === 201 || (x.status === 503 && x.code === 'service_unavailable'))),
  ).toEqual([]);
  expect(r.scans.filter((x) => x.ms >= BOUND_MS)).toEqual([]);
  // Away (sent and answered while away): refused with 503 service_unavailable; /ready 503 {ready:false}.
  const away = r.scans.filter((x) => x.phase === 'away' && x.phaseEnd === 'away');
  expect(away.length).toBeGreaterThan(minAway);
  expect(away.filter((x) => x.status !== 503)).toEqual([]);
  const readyAway = r.readies.filter((x) => x.phase === 'away' && x.phaseEnd === 'away');
  expect(readyAway.length).toBeGreaterThan(Math.min(3, minAway));
  expect(readyAway.filter((x) => x.status !== 503)).toEqual([]);
  for (const x of readyAway) expect(x.body).toEqual({ ready: false, database: 'down' });
  expect(r.readies.filter((x) => x.ms >= BOUND_MS)).toEqual([]);
  // Back: recovered by itself; the scans of the last second all registered; /ready 200 at the end.
  for (const recovered of r.recoveries) {
    expect(recovered.ready).toBeDefined();
    expect(recovered.scan).toBeDefined();
  }
  const tail = r.scans.filter((x) => x.at > r.end - 1000);
  expect(tail.length).toBeGreaterThan(0);
  expect(tail.filter((x) => x.status !== 201)).toEqual([]);
  const last = r.readies.at(-1)!;
  expect({ status: last.status, body: last.body }).toEqual({
    status: 200,
    body: { ready: true, database: 'up' },
  });
  // Every acknowledged ride, before and after the outage, is in the table.
  const present = await ridesPresent(s.db, r.acked);
  expect(r.acked.filter((id) => !present.has(id))).toEqual([]);
}

/** The postmaster and its children (backends, background workers), from the data directory's postmaster.pid. */
function postgresPids(pg: Postgres): number[] {
  const postmaster = Number(readFileSync(path.join(pg.pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

describe('the database goes away under a light scan load', () => {
  it('stopped 3 times: 503 service_unavailable (never 500, within 5 s), /ready 503; restarted on the same data directory and port, the server recovers without a restart', async () => {
    const s = await setUp('rt_dbdown', true);
    console.log(`database stopped (fast shutdown) and started again, ${STOPS} times:`);
    const r = await throughOutage(
      s,
      STOPS,
      () => s.pg.pg.stop(),
      async () => {
        await restartPostgres(s.pg);
      },
    );
    await expectServedThrough(s, r);
  });

  it('frozen (SIGSTOP, like a network partition): still 503 within 5 s, /ready 503; thawed, the server recovers', async () => {
    const s = await setUp('rt_dbfrozen', false);
    let frozen: number[] = [];
    // Thaw before anything else is cleaned up, should the test fail while Postgres is frozen.
    cleanup.add(async () => {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone
        }
      }
    });
    console.log('database frozen (SIGSTOP of every Postgres process) and thawed (SIGCONT):');
    const r = await throughOutage(
      s,
      1,
      async () => {
        // The postmaster first, so that it forks no new backend while its children are listed and stopped.
        const postmaster = postgresPids(s.pg)[0]!;
        process.kill(postmaster, 'SIGSTOP');
        frozen = [postmaster];
        for (const pid of postgresPids(s.pg).slice(1)) {
          process.kill(pid, 'SIGSTOP');
          frozen.push(pid);
        }
      },
      async () => {
        for (const pid of [...frozen].reverse()) process.kill(pid, 'SIGCONT');
      },
    );
    await expectServedThrough(s, r, 0);
  });
});
