import { sql } from 'kysely';
import type { BenchContext } from '../lib/context.js';
import { CpuMeter, type CpuShare } from '../lib/cpu.js';
import { fmtMs, type Report } from '../lib/report.js';
import type { ServerChild } from '../lib/server.js';
import type { World } from './world.js';

export interface Sizes {
  scanSeconds: number;
  /** The scan figures' seconds are split into this many interleaved rounds. */
  scanRounds: number;
  warmSeconds: number;
  connections: number;
  scanPassengers: number;
  scanCarriers: number;
  rides: number;
  /** With the trace phase, the rides are loaded in two steps: this many first (traced), then up to `rides` (traced
   *  again): the trace's cost growth. 0, or not below `rides`, loads them in one step. */
  growthRides: number;
  cases: number;
  /** Rounds over the 40 unmeasured cases before the traces are measured (see tracePhase). */
  traceWarmupRounds: number;
  degree2CrowdedCases: number;
  notifications: number;
}

export const FULL: Sizes = {
  scanSeconds: 12,
  scanRounds: 3,
  warmSeconds: 3,
  connections: 50,
  scanPassengers: 1000,
  scanCarriers: 20,
  rides: 10_000_000,
  growthRides: 1_000_000,
  cases: 200,
  traceWarmupRounds: 50,
  degree2CrowdedCases: 50,
  notifications: 10_000,
};

export const QUICK: Sizes = {
  scanSeconds: 3,
  scanRounds: 3,
  warmSeconds: 1,
  connections: 50,
  scanPassengers: 200,
  scanCarriers: 10,
  // 400k rather than 200k: the crowded buses then hold the same share of the rides as in the full city.
  rides: 400_000,
  growthRides: 100_000,
  cases: 200,
  traceWarmupRounds: 10,
  degree2CrowdedCases: 10,
  notifications: 10_000,
};

export const PHASES = ['scan', 'load', 'trace', 'purge', 'notify'] as const;
export type Phase = (typeof PHASES)[number];

/** What the runner hands every phase. */
export interface PhaseContext {
  /** The server's context on the benchmark database, for work done on it directly. */
  ctx: BenchContext['ctx'];
  server: ServerChild;
  /** Another server child on the same database, its environment the main one's with `env` on top; its processes
   *  count as the server's in the CPU shares until it is stopped. */
  startServer(env: Record<string, string>): Promise<ServerChild>;
  world: World;
  sizes: Sizes;
  report: Report;
  meter: CpuMeter;
  /** Who used the cores during each measured step (logged, and written with --json). */
  cpuLog: Record<string, CpuShare>;
}

/** Progress and diagnostics go to stderr; stdout has the figures' JSON lines and the table. */
export const log = (m: string): void => console.error(m);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` and logs (and keeps under `label`) who used the cores meanwhile. */
export async function metered<T>(p: PhaseContext, label: string, fn: () => Promise<T>): Promise<T> {
  const a = p.meter.snapshot();
  const r = await fn();
  const share = CpuMeter.share(a, p.meter.snapshot());
  p.cpuLog[label] = share;
  log(`  [${label}] ${CpuMeter.describe(share)}`);
  return r;
}

/**
 * Waits (at most 5 s) until the machine is quiet: under 0.2 cores busy over 250 ms. After a run that wrote rides,
 * Postgres and the server go on working for a while, and the next run would share the cores with that.
 */
export async function settle(meter: CpuMeter): Promise<void> {
  const until = performance.now() + 5_000;
  while (performance.now() < until) {
    const a = meter.snapshot();
    await sleep(250);
    if (CpuMeter.share(a, meter.snapshot()).machine < 0.2) return;
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** Waits (up to `maxMs`) until no autovacuum worker runs in this database; returns how long it waited. */
export async function autovacuumIdle(ctx: BenchContext['ctx'], maxMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < maxMs) {
    const r = await sql<{ n: number; what: string | null }>`
      select count(*)::int as n, string_agg(query, '; ') as what from pg_stat_activity
      where backend_type = 'autovacuum worker' and datname = current_database()`.execute(ctx.db);
    if (r.rows[0]!.n === 0) break;
    log(`  waiting for autovacuum: ${r.rows[0]!.what ?? ''}`);
    await sleep(2000);
  }
  return performance.now() - start;
}

/**
 * Untimed, before traces are measured: a city's database is not digesting a bulk load when officials trace
 * (passengers vacuumed, no autovacuum running, a checkpoint taken).
 */
export async function settleCity(p: PhaseContext): Promise<void> {
  const settling = performance.now();
  await sql`vacuum passengers`.execute(p.ctx.db);
  const waited = await autovacuumIdle(p.ctx, 120_000);
  await sql`checkpoint`.execute(p.ctx.db);
  log(
    `  settled after the load (vacuum passengers, autovacuum waited ${fmtMs(waited)}, checkpoint): ${fmtMs(performance.now() - settling)}`,
  );
}
