import { addDays, type AppContext, bulk, createOperator } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { prng } from '../../src/demo-people.js';
import type { CpuShare } from './cpu.js';
import {
  buildTable,
  uuidAt,
  type CarrierKind,
  type DayJob,
  type JobDone,
  type LoadJob,
  type LoadPlan,
  type RideSample,
  type WorkerMessage,
} from './load-plan.js';
import type { Figure } from './report.js';
import { tsWorker } from './ts-worker.js';

export interface LoadOptions {
  rides: number;
  passengers: number;
  carriers: number;
  days: number;
  /** Riders per carrier-hour in the crowded set. */
  crowdedPerHour: number;
  /** Share of all rides that ride in the crowded set (sets how many crowded carriers there are). */
  crowdedShare: number;
  /** Parallel COPY streams (worker threads, one connection each). */
  streams: number;
  /** 'after': new day tables get their indexes after the COPY and are then attached; 'live': COPY into
   *  partitions made by ensureRidePartition, indexes maintained row by row. */
  indexes: 'after' | 'live';
  seed: number;
  /** Number of the first passenger among all loaded people: a second load into the same database starts after the
   *  first one's passengers (logins and phone numbers are unique). */
  firstPerson?: number;
  /** Day tables an earlier load made (its `dayTables`): rebuilt with their rides and the new ones, so the day's
   *  table and indexes come out as one load of both would make them. Other existing partitions get a plain COPY. */
  rebuild?: readonly string[];
  log?: (m: string) => void;
}

export interface LoadResult {
  rides: number;
  passengers: number;
  carriers: number;
  crowdedCarriers: number[];
  days: string[];
  /** The day tables this load made (new or rebuilt): a later load may rebuild them. */
  dayTables: string[];
  /** Wall-clock phases (ms); they overlap (passengers load while rides load), `totalMs` is what counts. */
  timings: { setupMs: number; copyMs: number; indexMs: number; analyzeMs: number; totalMs: number };
  samples: { normal: RideSample[]; crowded: RideSample[] };
  passengerId(i: number): string;
}

/** The city of a given size: 10 rides per passenger over 30 days, 2,000 rides per carrier. */
export function defaultLoadOptions(rides: number): LoadOptions {
  return {
    rides,
    passengers: Math.max(10_000, Math.round(rides / 10)),
    carriers: Math.max(200, Math.round(rides / 2000)),
    days: 30,
    crowdedPerHour: 100,
    crowdedShare: 0.1,
    streams: 2,
    indexes: 'after',
    seed: 1,
  };
}

export function describeLoad(r: { rides: number; passengers: number; carriers: number; days: string[] }) {
  return `${r.rides} rides, ${r.passengers} passengers, ${r.carriers} carriers, ${r.days.length} days`;
}

/** A ride count as figure names carry it: 400k, 1m, 10m. */
export function sizeLabel(rides: number): string {
  return rides >= 1e6 ? `${rides / 1e6}m` : `${rides / 1e3}k`;
}

/**
 * The figures of a load of `rides` rides, for `pnpm bench` and `pnpm bench:load`: its wall time (with a target for
 * the full 10M) and its core-seconds, which do not depend on what else runs on the machine.
 */
export function loadFigures(rides: number, r: LoadResult, cpu: CpuShare): { time: Figure; cpu: Figure } {
  const full = rides === 10_000_000;
  return {
    time: {
      name: `load.${sizeLabel(rides)}_s`,
      value: r.timings.totalMs / 1000,
      unit: 's',
      target: full ? '≤ 180' : undefined,
      ok: full ? r.timings.totalMs <= 180_000 : undefined,
      note: describeLoad(r),
    },
    cpu: {
      name: 'load.cpu_core_s',
      value: ((cpu.runner + cpu.postgres) * r.timings.totalMs) / 1000,
      unit: 'core-s',
      note: `loader ${cpu.runner} + postgres ${cpu.postgres} cores on average; other processes ${cpu.other}`,
    },
  };
}

const CROWDED_HOURS = Array.from({ length: 16 }, (_, i) => 7 + i);

/** Spread `total` over `parts` integers that sum to it. */
function spread(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total - base * parts ? 1 : 0));
}

async function createCarriers(ctx: AppContext, o: LoadOptions, crowdedCount: number) {
  const operator = `bench-load-${o.seed}`;
  await createOperator(ctx.db, operator, 'Bench load operator').catch(() => undefined);
  const rnd = prng(o.seed);
  const kinds: [CarrierKind, number][] = [
    ['bus', 0.6],
    ['taxi', 0.2],
    ['metro', 0.15],
    ['ferry', 0.05],
  ];
  const kindOf = () => {
    let x = rnd();
    for (const [k, share] of kinds) if ((x -= share) < 0) return k;
    return 'bus';
  };
  const rows = Array.from({ length: o.carriers }, (_, i) => {
    const crowded = i < crowdedCount;
    const kind: CarrierKind = crowded ? 'bus' : kindOf();
    return {
      operator_id: operator,
      kind,
      plate: crowded ? `CROWD${i}` : `${kind.toUpperCase()}${o.seed}-${i}`,
      route: kind === 'bus' ? `${1 + (i % 300)}路` : kind === 'metro' ? `${1 + (i % 12)}号线` : null,
      city: '深圳',
    };
  });
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const r = await ctx.db
      .insertInto('carriers')
      .values(rows.slice(i, i + 1000))
      .returning('id')
      .execute();
    ids.push(...r.map((x) => x.id));
  }
  return { crowded: ids.slice(0, crowdedCount), normal: ids.slice(crowdedCount) };
}

/** A small pool of loader workers fed from one job queue. */
function runWorkers(
  plan: LoadPlan,
  jobs: LoadJob[],
  streams: number,
  onDone: (job: LoadJob, done: JobDone) => void,
): Promise<void> {
  const queue = [...jobs];
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return new Promise((resolve, reject) => {
    let live = Math.min(streams, jobs.length);
    let failed = false;
    if (live === 0) return resolve();
    for (let i = 0; i < live; i++) {
      const w = tsWorker(new URL('./load-worker.ts', import.meta.url), plan);
      const next = () => {
        const job = queue.shift();
        if (job && !failed) w.postMessage(job);
        else {
          w.postMessage({ type: 'exit' });
          if (--live === 0 && !failed) resolve();
        }
      };
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'error') {
          failed = true;
          reject(new Error(`loader worker: ${m.message}`));
          void w.terminate();
          return;
        }
        if (m.type === 'done') onDone(byId.get(m.id)!, m);
        next();
      });
      w.on('error', (err) => {
        failed = true;
        reject(err);
      });
    }
  });
}

/**
 * Loads a city: carriers (a crowded set among them), passengers with sealed identities, and `rides` encrypted
 * rides over the `days` ride days before today, exactly as the server writes them (blind index and sealed
 * passenger id with the day's keys). Returns ride samples to open cases on.
 */
export async function loadCity(ctx: AppContext, o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => undefined);
  const t0 = performance.now();
  const crowdedPerDay = o.crowdedPerHour * CROWDED_HOURS.length;
  const crowdedCount = Math.max(1, Math.round((o.rides * o.crowdedShare) / (crowdedPerDay * o.days)));
  const normalTotal = o.rides - crowdedCount * crowdedPerDay * o.days;
  if (normalTotal < 0) throw new Error('too few rides for the crowded set');
  const carriers = await createCarriers(ctx, o, crowdedCount);

  const today = ctx.rideDays.of(new Date());
  const days = Array.from({ length: o.days }, (_, i) => addDays(today, -(o.days - i)));
  for (const day of days) await ctx.keyring.dayKey(ctx.db, day);
  const existing = new Set(await bulk.listRidePartitions(ctx.db));
  const rebuild = new Set(o.indexes === 'live' ? [] : (o.rebuild ?? []));
  const target = (day: string) => {
    const table = bulk.ridePartitionName(day);
    if (rebuild.has(table) && existing.has(table)) return 'rebuild';
    return o.indexes === 'live' || existing.has(table) ? 'existing' : 'new';
  };
  for (const day of days)
    if (target(day) === 'existing') await bulk.ensureRidePartition(ctx.db, day, ctx.rideDays.bounds(day));

  const idBytes = new SharedArrayBuffer(o.passengers * 16);
  const ids = new Uint8Array(idBytes);
  ids.set(randomBytes(o.passengers * 16));
  for (let i = 0; i < o.passengers; i++) {
    ids[i * 16 + 6] = (ids[i * 16 + 6]! & 0x0f) | 0x40; // uuid v4 like randomUUID()
    ids[i * 16 + 8] = (ids[i * 16 + 8]! & 0x3f) | 0x80;
  }
  const plan: LoadPlan = {
    databaseUrl: '',
    masterKey: '',
    seed: o.seed,
    consentVersion: ctx.config.consentVersion,
    passengerIds: idBytes,
    passengers: o.passengers,
    firstPerson: o.firstPerson ?? 0,
    normalCarriers: carriers.normal,
    crowdedCarriers: carriers.crowded,
    crowdedPerHour: o.crowdedPerHour,
    crowdedHours: CROWDED_HOURS,
    samplesPerDay: 100,
  };

  // Jobs: one per ride day, passengers in chunks, interleaved so crypto-heavy and COPY-heavy work overlap.
  const dayJobs: DayJob[] = spread(normalTotal, o.days).map((normalRides, i) => {
    const day = days[i]!;
    return {
      type: 'day',
      id: i,
      day,
      dayIndex: i,
      normalRides,
      target: target(day),
      table: bulk.ridePartitionName(day),
      from: ctx.rideDays.bounds(day).from.toISOString(),
      to: ctx.rideDays.bounds(day).to.toISOString(),
    };
  });
  const chunk = Math.max(10_000, Math.ceil(o.passengers / o.days));
  const passengerJobs: LoadJob[] = [];
  for (let from = 0; from < o.passengers; from += chunk) {
    passengerJobs.push({
      type: 'passengers',
      id: 10_000 + from / chunk,
      from,
      to: Math.min(o.passengers, from + chunk),
    });
  }
  const jobs: LoadJob[] = [];
  for (let i = 0; i < Math.max(dayJobs.length, passengerJobs.length); i++) {
    if (dayJobs[i]) jobs.push(dayJobs[i]!);
    if (passengerJobs[i]) jobs.push(passengerJobs[i]!);
  }
  const setupMs = performance.now() - t0;

  // New days are indexed and attached on this thread's connection while the workers copy the next days.
  let indexMs = 0;
  let indexChain: Promise<void> = Promise.resolve();
  const indexDay = async (job: DayJob) => {
    const s = performance.now();
    const t = buildTable(job);
    await sql
      .raw(`alter table ${t} add constraint ${t}_pkey primary key (carrier_id, boarded_at, id)`)
      .execute(ctx.db);
    await sql
      .raw(`create index ${t}_passenger_key_boarded_at_idx on ${t} (passenger_key, boarded_at)`)
      .execute(ctx.db);
    const bounds = `for values from ('${job.from}') to ('${job.to}')`;
    if (job.target === 'rebuild') {
      // The rebuilt table takes the old one's place and names, as if it had been loaded in one go.
      const old = job.table;
      await ctx.db.transaction().execute(async (tx) => {
        for (const q of [
          `alter table rides detach partition ${old}`,
          `drop table ${old}`,
          `alter table rides attach partition ${t} ${bounds}`,
          `alter table ${t} drop constraint ${t}_range`,
          `alter table ${t} rename to ${old}`,
          `alter table ${old} rename constraint ${t}_pkey to ${old}_pkey`,
          `alter index ${t}_passenger_key_boarded_at_idx rename to ${old}_passenger_key_boarded_at_idx`,
        ])
          await sql.raw(q).execute(tx);
      });
    } else {
      await sql.raw(`alter table rides attach partition ${t} ${bounds}`).execute(ctx.db);
      await sql.raw(`alter table ${t} drop constraint ${t}_range`).execute(ctx.db);
    }
    indexMs += performance.now() - s;
  };

  const samples = { normal: [] as RideSample[], crowded: [] as RideSample[] };
  let rides = 0;
  let passengers = 0;
  const tc = performance.now();
  let indexError: unknown = null;
  await runWorkers(
    { ...plan, databaseUrl: ctxUrl(ctx), masterKey: masterKeyOf(ctx) },
    jobs,
    o.streams,
    (job, done) => {
      if (job.type === 'passengers') {
        passengers += done.rows;
        return;
      }
      rides += done.rows;
      samples.normal.push(...done.normal);
      samples.crowded.push(...done.crowded);
      log(`  day ${job.day}: ${done.rows} rides in ${Math.round(done.ms)} ms`);
      if (job.target !== 'existing') {
        indexChain = indexChain.then(() =>
          indexDay(job).catch((err: unknown) => {
            indexError ??= err;
          }),
        );
      }
    },
  );
  const copyMs = performance.now() - tc;
  // Workers finish days in varying order; sorted, two runs of the same load trace the same cases.
  const byTime = (a: RideSample, b: RideSample) =>
    a.boardedAtMs - b.boardedAtMs || a.carrierId - b.carrierId || a.passengerIndex - b.passengerIndex;
  samples.normal.sort(byTime);
  samples.crowded.sort(byTime);
  await indexChain;
  if (indexError) throw indexError;
  const ta = performance.now();
  // VACUUM, not only ANALYZE: else autovacuum starts on fresh partitions, and the purge's DROP waits for it.
  await sql`vacuum (analyze) rides`.execute(ctx.db);
  await sql`analyze passengers`.execute(ctx.db);
  await sql`analyze carriers`.execute(ctx.db);
  const analyzeMs = performance.now() - ta;
  return {
    rides,
    passengers,
    carriers: o.carriers,
    crowdedCarriers: carriers.crowded,
    days,
    dayTables: dayJobs.filter((j) => j.target !== 'existing').map((j) => j.table),
    timings: { setupMs, copyMs, indexMs, analyzeMs, totalMs: performance.now() - t0 },
    samples,
    passengerId: (i) => uuidAt(ids, i),
  };
}

/** Connection string and master key the workers need: taken from the context's own config. */
function ctxUrl(ctx: AppContext): string {
  if (!ctx.config.databaseUrl) throw new Error('the loader needs DATABASE_URL in the context config');
  return ctx.config.databaseUrl;
}

/** RIDETRACE_MASTER_KEYS form of the context's master keys (the active one last). */
function masterKeyOf(ctx: AppContext): string {
  const { masterKeys, activeMasterKeyId } = ctx.config;
  if (!masterKeys || !activeMasterKeyId)
    throw new Error('the loader needs the master keys in the context config');
  const ids = [...masterKeys.keys()].filter((id) => id !== activeMasterKeyId).concat(activeMasterKeyId);
  return ids.map((id) => `${id}:${masterKeys.get(id)!.toString('base64')}`).join(',');
}

/**
 * Two loads into one database as one city: `b` loaded after `a` (its passengers numbered after a's, the same days).
 * Timings add up: the city's load time is both loads'. Each load keeps as many samples per day whatever its size,
 * so the smaller one's are thinned: a sample is then any ride of the city, as after one load.
 */
export function combineLoads(a: LoadResult, b: LoadResult): LoadResult {
  const shift = (xs: RideSample[]) =>
    xs.map((x) => ({ ...x, passengerIndex: x.passengerIndex + a.passengers }));
  const strideA = Math.max(1, Math.round(b.rides / a.rides));
  const strideB = Math.max(1, Math.round(a.rides / b.rides));
  const thin = (xs: RideSample[], stride: number) => xs.filter((_, i) => i % stride === 0);
  const byTime = (x: RideSample, y: RideSample) =>
    x.boardedAtMs - y.boardedAtMs || x.carrierId - y.carrierId || x.passengerIndex - y.passengerIndex;
  const sum = (k: keyof LoadResult['timings']) => a.timings[k] + b.timings[k];
  return {
    rides: a.rides + b.rides,
    passengers: a.passengers + b.passengers,
    carriers: a.carriers + b.carriers,
    crowdedCarriers: [...a.crowdedCarriers, ...b.crowdedCarriers],
    days: [...new Set([...a.days, ...b.days])].sort(),
    dayTables: [...new Set([...a.dayTables, ...b.dayTables])].sort(),
    timings: {
      setupMs: sum('setupMs'),
      copyMs: sum('copyMs'),
      indexMs: sum('indexMs'),
      analyzeMs: sum('analyzeMs'),
      totalMs: sum('totalMs'),
    },
    samples: {
      normal: [...thin(a.samples.normal, strideA), ...thin(shift(b.samples.normal), strideB)].sort(byTime),
      crowded: [...thin(a.samples.crowded, strideA), ...thin(shift(b.samples.crowded), strideB)].sort(byTime),
    },
    passengerId: (i) => (i < a.passengers ? a.passengerId(i) : b.passengerId(i - a.passengers)),
  };
}
