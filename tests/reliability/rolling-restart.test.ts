import { freePort } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../support/fixtures.js';
import { ridesPresent, scan, sleep, startStack, type Stack } from './support/harness.js';

/**
 * WORKERS=2 (server/src/cluster.ts) under a steady scan load: SIGHUP replaces the workers one at a time, and every
 * answer meanwhile is 2xx or 503, every acknowledged ride stored; SIGTERM stops all with rides in flight, exits 0,
 * and every ride it acknowledged is stored. /metrics on the primary sums the workers' counters.
 *
 * A stopping worker first answers with `Connection: close` for a moment (clients reconnect, to a live worker),
 * then stops accepting; the primary owns the listening socket and hands new connections to the workers still
 * listening, so no connection is refused during a rolling restart. After SIGTERM, refused connections are the
 * expected end of the service, and are retried by nobody.
 */

const CLIENTS = 6;

interface Load {
  acked: Map<string, string>;
  statuses: Map<number, number>;
  /** Requests that got no HTTP answer (reset, refused), with the error. */
  networkErrors: string[];
  stop(): Promise<void>;
}

/** CLIENTS passengers scanning back to back with fresh clientRideIds (a small pause between scans). */
function startLoad(stack: Stack, pauseMs = 5): Load {
  let stopped = false;
  const load: Load = {
    acked: new Map(),
    statuses: new Map(),
    networkErrors: [],
    stop: async () => {
      stopped = true;
      await running;
    },
  };
  const running = Promise.all(
    stack.world.passengers.map(async (token) => {
      while (!stopped) {
        const id = randomUUID();
        try {
          const r = await scan(stack.server.url, token, stack.world.code, id, 10_000);
          load.statuses.set(r.status, (load.statuses.get(r.status) ?? 0) + 1);
          if ((r.status === 201 || r.status === 200) && r.rideId) load.acked.set(id, r.rideId);
        } catch (err) {
          load.networkErrors.push(String((err as Error).cause ?? err));
          await sleep(20);
        }
        await sleep(pauseMs);
      }
    }),
  );
  return load;
}

const metricValue = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const cleanup = useCleanup();

describe('several server processes (WORKERS=2)', () => {
  it('a rolling restart under load answers only 2xx/503 and loses no ride; SIGTERM exits 0 with every ride stored', async () => {
    const metricsPort = await freePort();
    const stack = await startStack(cleanup, {
      database: 'rt_rolling',
      passengers: CLIENTS,
      env: { WORKERS: '2', METRICS_PORT: String(metricsPort), DB_POOL_SIZE: '6' },
    });
    const server = stack.server;
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

    // Metrics: requests are counted by whichever worker answered, and the primary's scrape is their sum.
    const before = await scrape();
    expect(metricValue(before, 'ridetrace_workers')).toBe(2);
    const warm = startLoad(stack);
    await sleep(1500);
    await warm.stop();
    const answered = warm.statuses.get(201) ?? 0;
    expect(answered).toBeGreaterThan(20);
    const series = 'ridetrace_http_requests_total{method="POST",route="/v1/rides",status="201"}';
    const afterWarm = await scrape();
    expect(metricValue(afterWarm, series)).toBe((metricValue(before, series) ?? 0) + answered);
    expect(metricValue(afterWarm, 'ridetrace_scans_total{result="created"}')).toBeGreaterThanOrEqual(
      answered,
    );

    // SIGHUP: both workers replaced, one at a time, while the load goes on.
    const pidsBefore = await workerPids(server.pid);
    expect(pidsBefore).toHaveLength(2);
    const load = startLoad(stack);
    await sleep(1000);
    process.kill(server.pid, 'SIGHUP');
    const pidsAfter = await waitForNewWorkers(server.pid, pidsBefore, 60_000);
    await sleep(500);
    await load.stop();
    expect(pidsAfter).toHaveLength(2);
    expect(pidsAfter.filter((p) => pidsBefore.includes(p))).toEqual([]);
    expect(metricValue(await scrape(), 'ridetrace_worker_restarts_total{reason="rolling"}')).toBe(2);
    const statuses = Object.fromEntries(load.statuses);
    console.log(
      `rolling restart: ${load.acked.size} rides acknowledged, answers ${JSON.stringify(statuses)}, ` +
        `network errors ${load.networkErrors.length}`,
    );
    expect(load.networkErrors).toEqual([]);
    expect([...load.statuses.keys()].filter((s) => !(s >= 200 && s < 300) && s !== 503)).toEqual([]);
    const acked = [...load.acked.values()];
    const present = await ridesPresent(stack.db, acked);
    expect(acked.filter((id) => !present.has(id))).toEqual([]);

    // SIGTERM with scans in flight: graceful, exit 0, every acknowledged ride stored.
    const last = startLoad(stack, 0);
    await sleep(1000);
    const exit = await server.kill('SIGTERM');
    await last.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    const lastAcked = [...last.acked.values()];
    expect(lastAcked.length).toBeGreaterThan(0);
    const stored = await ridesPresent(stack.db, lastAcked);
    expect(lastAcked.filter((id) => !stored.has(id))).toEqual([]);
    expect([...last.statuses.keys()].filter((s) => !(s >= 200 && s < 300) && s !== 503)).toEqual([]);
    console.log(
      `SIGTERM: ${lastAcked.length} rides acknowledged, all stored; answers ${JSON.stringify(
        Object.fromEntries(last.statuses),
      )}; refused after the stop ${last.networkErrors.length}`,
    );
  });
});

/** The primary's child processes that are server workers. */
async function workerPids(primary: number): Promise<number[]> {
  const { readFile, readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 (after the parenthesised command) is the parent pid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    // tsx's esbuild service is a child too.
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (ppid === primary && cmd.includes('main.ts')) pids.push(Number(entry));
  }
  return pids.sort();
}

/** Waits until the primary's workers are two, none of them one of `old`; returns them. */
async function waitForNewWorkers(primary: number, old: number[], timeoutMs: number): Promise<number[]> {
  const end = Date.now() + timeoutMs;
  let pids = await workerPids(primary);
  while (Date.now() < end && !(pids.length === 2 && pids.every((p) => !old.includes(p)))) {
    await sleep(200);
    pids = await workerPids(primary);
  }
  return pids;
}
