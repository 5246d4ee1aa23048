import { Command, InvalidArgumentError } from 'commander';
import { randomBytes } from 'node:crypto';
import { benchContext } from './lib/context.js';
import { CpuMeter } from './lib/cpu.js';
import { defaultLoadOptions, loadCity, loadFigures, type LoadOptions } from './lib/loader.js';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.js';
import { fmtMs, Report } from './lib/report.js';

/**
 * `pnpm bench:load --rides N`: loads a city of encrypted rides with COPY and reports how long it took.
 * Without DATABASE_URL it loads into a fresh embedded Postgres in a temp dir that is deleted afterwards;
 * with DATABASE_URL (and RIDETRACE_MASTER_KEY(S)) it loads into that database.
 */
const count = (v: string) => {
  const n = Number(v.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

async function main(): Promise<void> {
  const program = new Command()
    .name('pnpm bench:load')
    .description('COPY-based generator of encrypted rides (and passengers, carriers) for benchmarks')
    .requiredOption('--rides <n>', 'rides to load', count)
    .option('--passengers <n>', 'passengers (default rides / 10)', count)
    .option('--carriers <n>', 'carriers (default rides / 2000)', count)
    .option('--days <n>', 'UTC days before today', count, 30)
    .option('--streams <n>', 'parallel COPY streams (worker threads)', count, 2)
    .option(
      '--indexes <when>',
      "'after' (build per day, then attach) or 'live' (COPY into indexed partitions)",
      'after',
    )
    .option('--crowded-per-hour <n>', 'riders per carrier-hour in the crowded set', count, 100)
    .option('--seed <n>', 'random seed', count, 1)
    .option(
      '--keep',
      'embedded Postgres only: keep it running afterwards (prints how to reach it) until Ctrl-C',
    )
    .showHelpAfterError();
  program.parse();
  const a = program.opts<{
    rides: number;
    passengers?: number;
    carriers?: number;
    days: number;
    streams: number;
    indexes: string;
    crowdedPerHour: number;
    seed: number;
    keep?: boolean;
  }>();
  if (a.indexes !== 'after' && a.indexes !== 'live') throw new Error("--indexes is 'after' or 'live'");
  const opts: LoadOptions = {
    ...defaultLoadOptions(a.rides),
    ...(a.passengers !== undefined ? { passengers: a.passengers } : {}),
    ...(a.carriers !== undefined ? { carriers: a.carriers } : {}),
    days: a.days,
    streams: Math.max(1, a.streams),
    indexes: a.indexes,
    crowdedPerHour: a.crowdedPerHour,
    seed: a.seed,
    log: (m) => console.error(m),
  };

  let embedded: BenchPostgres | undefined;
  let url = process.env.DATABASE_URL;
  let masterKey = process.env.RIDETRACE_MASTER_KEYS ?? process.env.RIDETRACE_MASTER_KEY;
  if (!url) {
    console.error('no DATABASE_URL: loading into a fresh embedded Postgres (deleted afterwards)');
    embedded = await startBenchPostgres();
    url = embedded.url;
    masterKey = randomBytes(32).toString('base64');
  }
  if (!masterKey)
    throw new Error('DATABASE_URL needs RIDETRACE_MASTER_KEY (the server keys the rides are for)');
  const bench = await benchContext(url, masterKey, { migrate: true });
  try {
    const meter = new CpuMeter(() => []);
    const before = meter.snapshot();
    const r = await loadCity(bench.ctx, opts);
    const cpu = CpuMeter.share(before, meter.snapshot());
    const report = new Report();
    const figures = loadFigures(a.rides, r, cpu);
    report.add(figures.time);
    report.add({
      name: 'load.rides_per_s',
      value: Math.round(r.rides / (r.timings.totalMs / 1000)),
      unit: 'rides/s',
    });
    report.add(figures.cpu);
    console.error(
      `phases: setup ${fmtMs(r.timings.setupMs)}, copy ${fmtMs(r.timings.copyMs)} (passengers alongside), ` +
        `index+attach ${fmtMs(r.timings.indexMs)} (overlapping the copy), analyze ${fmtMs(r.timings.analyzeMs)}`,
    );
    console.log(report.table());
    if (a.keep && embedded) {
      console.log(
        `\nkept running: DATABASE_URL=${url} RIDETRACE_MASTER_KEY=${masterKey}\n` +
          `stop and delete it with: kill -TERM ${process.pid}`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
  } finally {
    await bench.close();
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
