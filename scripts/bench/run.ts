import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { benchContext, type BenchContext } from './lib/context.js';
import { CpuMeter, type CpuShare } from './lib/cpu.js';
import { startFakeSms, type FakeSms } from './lib/fake-sms.js';
import { describePostgres, startBenchPostgres, type BenchPostgres } from './lib/postgres.js';
import { fmtMs, Report } from './lib/report.js';
import { startServer, type ServerChild } from './lib/server.js';
import { growingCity } from './phases/growth.js';
import { loadPhase } from './phases/load.js';
import { notifyPhase } from './phases/notify.js';
import {
  FULL,
  log,
  PHASES,
  QUICK,
  type Phase,
  type PhaseContext,
  type Sizes,
} from './phases/phase-context.js';
import { purgePhase } from './phases/purge.js';
import { scanPhase } from './phases/scan.js';
import { tracePhase } from './phases/trace.js';
import { prepareWorld } from './phases/world.js';

/**
 * `pnpm bench [--quick]`: the RideTrace benchmark suite. A fresh embedded Postgres (fsync and synchronous_commit
 * on), the server as a child process, load from this process (autocannon, 50 connections), then a COPY-loaded city
 * for tracing, purging and notification figures. Prints one JSON line per figure and a table at the end.
 * Each phase is in phases/; this runner sets up, runs the chosen phases in order and prints the summary.
 */

function machine() {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux
  }
  const cpu = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpu,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('pnpm bench')
    .description('RideTrace benchmark suite (fresh embedded Postgres, server child process, autocannon)')
    .option('--quick', 'small sizes (CI)', false)
    .option('--only <phases>', `comma-separated subset of ${PHASES.join(',')}`)
    .option('--rides <n>', 'rides to load (default 10M, quick 400k)', (v) => Number(v))
    .option(
      '--growth-rides <n>',
      'with trace: load and trace this many rides first (default 1M, quick 100k; 0: one load)',
      (v) => Number(v),
    )
    .option('--scan-rounds <n>', 'interleaved rounds of the scan figures (default 3)', (v) => Number(v))
    .option('--server-env <KEY=VALUE...>', 'extra environment of the server child (e.g. RIDES_BATCH_MAX=500)')
    .option('--server-node-arg <arg...>', 'extra node flags of the server child (e.g. --cpu-prof)')
    .option('--json <file>', 'also write the figures, machine and settings to this file')
    .showHelpAfterError();
  program.parse();
  const a = program.opts<{
    quick: boolean;
    only?: string;
    rides?: number;
    growthRides?: number;
    scanRounds?: number;
    serverEnv?: string[];
    serverNodeArg?: string[];
    json?: string;
  }>();
  const s: Sizes = {
    ...(a.quick ? QUICK : FULL),
    ...(a.rides ? { rides: a.rides } : {}),
    ...(a.growthRides !== undefined ? { growthRides: a.growthRides } : {}),
    ...(a.scanRounds ? { scanRounds: a.scanRounds } : {}),
  };
  const only = new Set<Phase>(a.only ? (a.only.split(',') as Phase[]) : PHASES);
  for (const p of only) if (!PHASES.includes(p)) throw new Error(`unknown phase ${p}`);
  // Tracing, purging and notifying need the loaded city.
  if (only.has('trace') || only.has('purge') || only.has('notify')) only.add('load');

  const started = performance.now();
  const m = machine();
  const loadavgAtStart = os.loadavg()[0]!;
  if (loadavgAtStart > 0.5)
    log(`note: load average ${loadavgAtStart.toFixed(2)} before the start: other processes use the cores`);
  log(
    `RideTrace benchmark (${a.quick ? 'quick' : 'full'}): ${m.nproc} cores, ${m.memoryGiB} GiB, ${m.cpu}, Node ${m.node}`,
  );
  const report = new Report();
  const serverPids = new Set<number>();
  const meter = new CpuMeter(() => [...serverPids]);
  const cpuLog: Record<string, CpuShare> = {};
  let pg: BenchPostgres | undefined;
  let server: ServerChild | undefined;
  let sms: FakeSms | undefined;
  let bench: BenchContext | undefined;
  try {
    pg = await startBenchPostgres(log);
    const pgInfo = await describePostgres(pg.url);
    log(
      `Postgres ${pgInfo.server_version} (embedded, fresh): fsync ${pgInfo.fsync}, synchronous_commit ${pgInfo.synchronous_commit}, huge pages ${pgInfo.huge_pages_status}`,
    );
    const masterKey = randomBytes(32).toString('base64');
    sms = await startFakeSms();
    const huge = '1000000000';
    const serverEnv: Record<string, string> = {
      NODE_ENV: 'development',
      DATABASE_URL: pg.url,
      RIDETRACE_MASTER_KEY: masterKey,
      BENCH_ROUTES: 'on',
      RATE_LIMIT_PER_IP_PER_MINUTE: huge,
      RATE_LIMIT_PER_PASSENGER_PER_MINUTE: huge,
      RATE_LIMIT_LOGIN_PER_MINUTE: huge,
      LOG_LEVEL: 'warn',
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      // One process unless --server-env says otherwise; the scan phase starts a WORKERS=2 child beside it.
      WORKERS: '1',
      SMS_BASE_URL: sms.baseUrl,
      NOTIFY_POLL_MS: '200',
      // The loaded city spans 30 days: no retention purge of it while the benchmark runs (and the identity
      // lifetime must be at least the rides').
      RETENTION_DAYS: '3650',
      PASSENGER_INACTIVE_DAYS: '3650',
      // Each bench passenger scans the same few carriers several times a second: with repeat scans on, nearly every
      // scan would answer the earlier ride instead of writing one.
      RIDES_REPEAT_MINUTES: '0',
    };
    for (const kv of a.serverEnv ?? []) {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--server-env wants KEY=VALUE, got ${kv}`);
      serverEnv[kv.slice(0, i)] = kv.slice(i + 1);
    }
    // The bench's own context reads the same settings: the consent version it prepares passengers with depends on them.
    bench = await benchContext(pg.url, masterKey, { migrate: true, env: serverEnv });
    const spawnServer = async (env: Record<string, string>): Promise<ServerChild> => {
      const child = await startServer({ ...serverEnv, ...env }, log, a.serverNodeArg ?? []);
      serverPids.add(child.pid);
      return {
        ...child,
        stop: async () => {
          await child.stop();
          serverPids.delete(child.pid);
        },
      };
    };
    server = await spawnServer({});
    log(`server child pid ${server.pid} on ${server.url} (WORKERS=${serverEnv.WORKERS})`);
    const world = await prepareWorld(bench.ctx, server, s);
    log(`prepared ${world.codes.length} carriers, ${world.tokens.length} confirmed passengers with tokens`);

    const p: PhaseContext = {
      ctx: bench.ctx,
      server,
      startServer: spawnServer,
      world,
      sizes: s,
      report,
      meter,
      cpuLog,
    };
    if (only.has('scan')) await scanPhase(p);
    // With traces, the city grows in two loads and the same subjects are traced after each.
    const growth = only.has('trace') && s.growthRides > 0 && s.growthRides < s.rides;
    if (only.has('trace') && !growth)
      log(`note: one load of ${s.rides} rides (--growth-rides ${s.growthRides}): no trace growth figures`);
    const city = !only.has('load') ? undefined : growth ? await growingCity(p) : await loadPhase(p);
    if (city && only.has('trace')) await tracePhase(p, city);
    if (city && only.has('purge')) await purgePhase(p, city);
    if (city && only.has('notify')) await notifyPhase(p, city, sms);

    console.log('');
    console.log(report.table());
    const missed = report.figures.filter((f) => f.ok === false).map((f) => f.name);
    console.log(
      `\n${a.quick ? 'quick' : 'full'} run in ${fmtMs(performance.now() - started)} on ${m.nproc} cores, ` +
        `${m.memoryGiB} GiB, ${m.cpu}, Node ${m.node}, Postgres ${pgInfo.server_version}` +
        (missed.length ? `\ntargets missed: ${missed.join(', ')}` : '\nall targets met'),
    );
    if (a.json) {
      writeFileSync(
        a.json,
        `${JSON.stringify({ mode: a.quick ? 'quick' : 'full', at: new Date().toISOString(), machine: m, postgres: pgInfo, sizes: s, serverEnv: { ...serverEnv, RIDETRACE_MASTER_KEY: '(random)', DATABASE_URL: '(embedded)' }, figures: report.figures, cpu: cpuLog, loadavgAtStart }, null, 2)}\n`,
      );
    }
  } finally {
    await server?.stop().catch(() => undefined);
    await sms?.close().catch(() => undefined);
    await bench?.close().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
