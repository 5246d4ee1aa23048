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
 * INSERT per request (insert1). Figures: scan.*, baseline.*, the ratios and the group-commit batch size.
 */
export async function scanPhase(p: PhaseContext): Promise<void> {
  const { ctx, server, world, sizes: s, report, meter, cpuLog } = p;
  let carrier = 0;
  const body = () => ({ code: world.codes[carrier++ % world.codes.length]!, clientRideId: randomUUID() });
  const load = (path: string, seconds: number) =>
    postLoad({ url: server.url, path, connections: s.connections, seconds, tokens: world.tokens, body });
  const routes: RouteRun[] = [
    ['/v1/bench/nodb', 'nodb baseline (JWT, schema, code check, crypto; no database)'],
    ['/v1/bench/insert1', 'insert1 baseline (full scan, one INSERT per request)'],
    ['/v1/rides', 'scan (POST /v1/rides, group commit)'],
  ].map(([path, label]) => ({
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
    `scan routes: warm-up ${s.warmSeconds} s each, then ${s.scanRounds} interleaved rounds of ${roundSeconds} s ` +
      `per route (${s.scanSeconds} s each in all) at ${s.connections} connections`,
  );
  for (const r of routes) await load(r.path, s.warmSeconds);
  for (let round = 0; round < s.scanRounds; round++) {
    for (let k = 0; k < routes.length; k++) {
      const r = routes[(round + k) % routes.length]!;
      await settle(meter);
      const since = new Date();
      const wal0 = await walStats(ctx);
      const cpu0 = meter.snapshot();
      const run = await load(r.path, roundSeconds);
      r.cpu.push(cpu0, meter.snapshot());
      log(`  round ${round + 1} ${r.label.split(' ')[0]}: ${Math.round(run.rps)} req/s`);
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
  const [nodb, insert1, scan] = routes.map((r) => {
    const name = r.label.split(' ')[0]!;
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
  }) as [Measured, Measured, Measured];
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
}
