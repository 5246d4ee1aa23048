import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { BenchContext } from '../lib/context.js';
import { CpuMeter, sumOfPairs, type CpuSnapshot } from '../lib/cpu.js';
import { postLoad, type LoadRun } from '../lib/http-load.js';
import { percentile } from '../lib/report.js';
import { log, settle, type PhaseContext } from './phase-context.js';

interface WalStats {
  bytes: number;
  fpi: number;
  syncs: number;
  syncMs: number;
}

/** Postgres' WAL counters (`pg_stat_wal`; sync time with track_wal_io_timing). */
async function walStats(ctx: BenchContext['ctx']): Promise<WalStats> {
  const r = await sql<WalStats>`
    select wal_bytes::float8 as bytes, wal_fpi::float8 as fpi, wal_sync::float8 as syncs,
      wal_sync_time::float8 as "syncMs" from pg_stat_wal`.execute(ctx.db);
  return r.rows[0]!;
}

/** WAL written per ride and the flushes' mean time, over pairs of snapshots (before, after, before, after…). */
function describeWal(pairs: WalStats[], rides: number): string {
  const d = sumOfPairs(pairs, ['bytes', 'fpi', 'syncs', 'syncMs']);
  return (
    `WAL ${(d.bytes / rides / 1024).toFixed(2)} KiB and ${(d.fpi / rides).toFixed(2)} full-page ` +
    `images per ride, ${d.syncs} flushes of ${d.syncs ? (d.syncMs / d.syncs).toFixed(3) : '-'} ms`
  );
}

/** Rides boarded in [since, until) and the transactions (distinct xmin) that wrote them: the group-commit batches. */
async function batchesBetween(ctx: BenchContext['ctx'], since: Date, until: Date) {
  const r = await sql<{ rides: number; batches: number }>`
    select count(*)::int as rides, count(distinct xmin::text)::int as batches
    from rides where boarded_at >= ${since} and boarded_at < ${until}`.execute(ctx.db);
  return r.rows[0]!;
}

/** One route's load over all its rounds. */
type Measured = RouteRun & { rps: number; p50: number; p99: number };

interface RouteRun extends Pick<
  LoadRun,
  'ok' | 'latencies' | 'non2xx' | 'errors' | 'timeouts' | 'statusCodes'
> {
  /** Key of its CPU shares (cpuLog, --json). */
  name: string;
  url: string;
  path: string;
  label: string;
  seconds: number;
  rides: number;
  batches: number;
  cpu: CpuSnapshot[];
  wal: WalStats[];
}

/**
 * The scan route against its two baselines at the same load: the route without a database (nodb) and with one
 * INSERT per request (insert1); and the scan route on a second server child with WORKERS=2 (two server processes
 * on one port) against the main one's single process. Figures: scan.*, baseline.*, the ratios, the group-commit
 * batch size, and scan.workers1_rps, scan.workers2_rps, scan.workers_ratio with where the cores went.
 */
export async function scanPhase(p: PhaseContext): Promise<void> {
  const workers1 = p.server.env.WORKERS ?? '1';
  if (workers1 !== '1')
    log(`note: the main server runs WORKERS=${workers1}: scan.workers1_rps is not one process`);
  const cluster = await p.startServer({ WORKERS: '2' });
  log(`second server child pid ${cluster.pid} on ${cluster.url} (WORKERS=2)`);
  try {
    await measureRoutes(p, cluster.url);
  } finally {
    await cluster.stop();
  }
}

async function measureRoutes(p: PhaseContext, clusterUrl: string): Promise<void> {
  const { ctx, server, world, sizes: s, report, meter, cpuLog } = p;
  let carrier = 0;
  const body = () => ({ code: world.codes[carrier++ % world.codes.length]!, clientRideId: randomUUID() });
  const load = (url: string, path: string, seconds: number) =>
    postLoad({ url, path, connections: s.connections, seconds, tokens: world.tokens, body });
  const routes: RouteRun[] = [
    ['nodb', server.url, '/v1/bench/nodb', 'nodb baseline (JWT, schema, code check, crypto; no database)'],
    ['insert1', server.url, '/v1/bench/insert1', 'insert1 baseline (full scan, one INSERT per request)'],
    ['scan', server.url, '/v1/rides', 'scan (POST /v1/rides, group commit)'],
    ['scan.workers2', clusterUrl, '/v1/rides', 'scan with WORKERS=2 (POST /v1/rides, two server processes)'],
  ].map(([name, url, path, label]) => ({
    name: name!,
    url: url!,
    path: path!,
    label: label!,
    ok: 0,
    seconds: 0,
    latencies: [],
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    statusCodes: {},
    rides: 0,
    batches: 0,
    cpu: [],
    wal: [],
  }));
  // Interleaved rounds in rotating order: a shared machine's speed drifts, and the ratios must compare like moments.
  const roundSeconds = s.scanSeconds / s.scanRounds;
  log(
    `scan routes: warm-up ${s.warmSeconds} s each (${2 * s.warmSeconds} s with WORKERS=2), then ${s.scanRounds} interleaved rounds of ${roundSeconds} s ` +
      `per route (${s.scanSeconds} s each in all) at ${s.connections} connections`,
  );
  // Each server process warms up as long as the single one: the cluster spreads its warm-up over two.
  for (const r of routes) await load(r.url, r.path, s.warmSeconds * (r.url === clusterUrl ? 2 : 1));
  for (let round = 0; round < s.scanRounds; round++) {
    for (let k = 0; k < routes.length; k++) {
      const r = routes[(round + k) % routes.length]!;
      await settle(meter);
      const since = new Date();
      const wal0 = await walStats(ctx);
      const cpu0 = meter.snapshot();
      const run = await load(r.url, r.path, roundSeconds);
      r.cpu.push(cpu0, meter.snapshot());
      log(`  round ${round + 1} ${r.name}: ${Math.round(run.rps)} req/s`);
      r.wal.push(wal0, await walStats(ctx));
      const b =
        r.path === '/v1/bench/nodb' ? { rides: 0, batches: 0 } : await batchesBetween(ctx, since, new Date());
      r.ok += run.ok;
      r.seconds += run.durationS;
      for (const ms of run.latencies) r.latencies.push(ms); // not push(...): too long to spread
      r.non2xx += run.non2xx;
      r.errors += run.errors;
      r.timeouts += run.timeouts;
      for (const [code, n] of Object.entries(run.statusCodes))
        r.statusCodes[code] = (r.statusCodes[code] ?? 0) + n;
      r.rides += b.rides;
      r.batches += b.batches;
    }
  }
  const [nodb, insert1, scan, scan2] = routes.map((r) => {
    const name = r.name;
    cpuLog[name] = CpuMeter.shareOfPairs(r.cpu);
    const rps = r.ok / r.seconds;
    const p50 = percentile(r.latencies, 50);
    const p99 = percentile(r.latencies, 99);
    const bad = r.non2xx + r.errors + r.timeouts;
    log(r.label);
    log(`  [${name}] ${CpuMeter.describe(cpuLog[name])}`);
    log(
      `  ${Math.round(rps)} req/s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ${r.ok} ok` +
        `${bad ? `, ${r.non2xx} non-2xx ${JSON.stringify(r.statusCodes)}, ${r.errors} errors, ${r.timeouts} timeouts` : ''}` +
        (r.batches ? `, ${r.rides} rides in ${r.batches} transactions` : ''),
    );
    if (r.rides) log(`  ${describeWal(r.wal, r.rides)}`);
    return { ...r, rps, p50, p99 };
  }) as [Measured, Measured, Measured, Measured];
  const errors = (r: Measured) =>
    r.non2xx + r.errors + r.timeouts
      ? `${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`
      : undefined;
  report.add({ name: 'scan.rps', value: Math.round(scan.rps), unit: 'req/s', note: errors(scan) });
  report.add({ name: 'scan.p99_ms', value: scan.p99, unit: 'ms', target: '≤ 25', ok: scan.p99 <= 25 });
  report.add({ name: 'scan.p50_ms', value: scan.p50, unit: 'ms' });
  report.add({ name: 'baseline.nodb.rps', value: Math.round(nodb.rps), unit: 'req/s', note: errors(nodb) });
  report.add({
    name: 'baseline.insert1.rps',
    value: Math.round(insert1.rps),
    unit: 'req/s',
    note: errors(insert1) ?? `p99 ${insert1.p99.toFixed(1)} ms`,
  });
  const vsNodb = scan.rps / nodb.rps;
  const vsInsert1 = scan.rps / insert1.rps;
  report.add({ name: 'scan.vs_nodb', value: vsNodb, unit: 'ratio', target: '≥ 0.8', ok: vsNodb >= 0.8 });
  report.add({ name: 'scan.vs_insert1', value: vsInsert1, unit: 'ratio', target: '≥ 2', ok: vsInsert1 >= 2 });
  report.add({
    name: 'scan.batch_mean',
    value: scan.batches ? scan.rides / scan.batches : 0,
    unit: 'rides/commit',
    note: `${scan.rides} rides in ${scan.batches} transactions (distinct xmin)`,
  });
  // Where the cores went while each server answered the scans.
  const cores = (name: string) => {
    const c = cpuLog[name]!;
    return (
      `cores: server ${c.server}, postgres ${c.postgres}, load generator ${c.runner}` +
      (c.other >= 0.1 ? `, other processes ${c.other}` : '')
    );
  };
  report.add({
    name: 'scan.workers1_rps',
    value: Math.round(scan.rps),
    unit: 'req/s',
    note: `the scan.rps rounds (WORKERS=${server.env.WORKERS ?? '1'}); ${cores('scan')}`,
  });
  report.add({
    name: 'scan.workers2_rps',
    value: Math.round(scan2.rps),
    unit: 'req/s',
    note: `${errors(scan2) ?? `p99 ${scan2.p99.toFixed(1)} ms`}; ${cores('scan.workers2')}`,
  });
  const workersRatio = scan2.rps / scan.rps;
  report.add({
    name: 'scan.workers_ratio',
    value: workersRatio,
    unit: 'ratio',
    target: '≥ 1.3',
    ok: workersRatio >= 1.3,
    note: `scan.workers2_rps / scan.workers1_rps; batch mean ${scan2.batches ? (scan2.rides / scan2.batches).toFixed(1) : '-'} rides with WORKERS=2`,
  });
}
