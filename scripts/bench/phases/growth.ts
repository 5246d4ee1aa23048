import { RideTraceClient } from '@ridetrace/sdk';
import { CpuMeter } from '../lib/cpu.js';
import type { RideSample } from '../lib/load-plan.js';
import { combineLoads, loadFigures, sizeLabel, type LoadResult } from '../lib/loader.js';
import { fmtMs, percentile } from '../lib/report.js';
import { TraceClient } from '../lib/trace-client.js';
import { loadStep } from './load.js';
import { log, metered, pool, settleCity, type PhaseContext } from './phase-context.js';

/** Unmeasured cases traced before each measurement, so V8 has compiled the trace code at both sizes. */
const WARMUP_CASES = 20;

interface Traced {
  p50: number;
  p99: number;
  meanExposed: number;
  failed: number;
}

/**
 * The city in two loads, `sizes.growthRides` rides and then up to `sizes.rides`, with the same subjects traced
 * after each (degree 1, new cases on the same subjects and windows, one request at a time): trace.p50_<size>,
 * trace.p99_<size> for both sizes and their ratio trace.p99_growth. The second load adds new carriers and
 * passengers and rebuilds each day's table with the first load's rides in it, so the traced cases' exposures are
 * the same at both sizes and only the database around them grows. The load figures count both loads (the load
 * time then without its target, which is for one load).
 */
export async function growingCity(p: PhaseContext): Promise<LoadResult> {
  const { sizes: s, report } = p;
  const small = sizeLabel(s.growthRides);
  const large = sizeLabel(s.rides);
  const first = await loadStep(p, s.growthRides, {}, `load.${small}`);
  // Spread over the first city's days; the same subjects and windows are traced at both sizes.
  const subjects = spread(first.city.samples.normal, s.cases + WARMUP_CASES);
  const atSmall = await traceSubjects(p, first.city, subjects, small);

  const second = await loadStep(
    p,
    s.rides - s.growthRides,
    { seed: 2, firstPerson: first.city.passengers, rebuild: first.city.dayTables },
    `load.${small}_to_${large}`,
  );
  const city = combineLoads(first.city, second.city);
  const cpu = CpuMeter.shareOfPairs([...first.pair, ...second.pair]);
  p.cpuLog.load = cpu;
  const figures = loadFigures(s.rides, city, cpu);
  // The load target is for one load: two cost more (a second setup, vacuum and analyse, the first day tables
  // rebuilt), so the staged time is shown without it.
  report.add({
    ...figures.time,
    target: undefined,
    ok: undefined,
    note:
      `${figures.time.note ?? ''}; two loads: ${small} in ${fmtMs(first.city.timings.totalMs)}, then ` +
      `${sizeLabel(s.rides - s.growthRides)} more in ${fmtMs(second.city.timings.totalMs)} (day tables rebuilt)` +
      (figures.time.target ? `; target ${figures.time.target} s is for one load (--growth-rides 0)` : ''),
  });
  report.add(figures.cpu);

  const atLarge = await traceSubjects(p, first.city, subjects, large);
  const note = (t: Traced) =>
    `${s.cases} cases, ${t.meanExposed.toFixed(1)} exposed per case` +
    (t.failed ? `, ${t.failed} FAILED (counted with their time)` : '');
  for (const [label, t] of [
    [small, atSmall],
    [large, atLarge],
  ] as const) {
    report.add({ name: `trace.p50_${label}`, value: t.p50, unit: 'ms', note: note(t) });
    report.add({ name: `trace.p99_${label}`, value: t.p99, unit: 'ms' });
  }
  const growth = atLarge.p99 / atSmall.p99;
  report.add({
    name: 'trace.p99_growth',
    value: growth,
    unit: 'ratio',
    target: '≤ 1.5',
    ok: growth <= 1.5 && atSmall.failed + atLarge.failed === 0,
    note: `trace.p99_${large} / trace.p99_${small}, same subjects; p50 ratio ${(atLarge.p50 / atSmall.p50).toFixed(2)}`,
  });
  return city;
}

/** `n` samples evenly spread over `samples` (sorted by time): the same picks for the same load. */
function spread(samples: RideSample[], n: number): RideSample[] {
  if (samples.length < n) throw new Error(`only ${samples.length} ride samples for ${n} cases`);
  return Array.from({ length: n }, (_, i) => samples[Math.floor((i * samples.length) / n)]!);
}

/**
 * Opens a case on each subject (infectious 36 h either side of the sampled ride, capped at now), traces the first
 * WARMUP_CASES of them `traceWarmupRounds` times unmeasured, then reads each of the others' exposures once.
 */
async function traceSubjects(
  p: PhaseContext,
  city: LoadResult,
  subjects: RideSample[],
  label: string,
): Promise<Traced> {
  const { server, world, sizes: s } = p;
  await settleCity(p);
  const official = new RideTraceClient({ baseUrl: server.url, timeoutMs: 120_000 });
  await official.loginClient(world.official.clientId, world.official.clientSecret);
  const now = Date.now();
  const ids = await pool(subjects, 8, async (r, i) => {
    const c = await official.openCase({
      subject: { passengerId: city.passengerId(r.passengerIndex) },
      infectiousFrom: new Date(r.boardedAtMs - 36 * 3_600_000).toISOString(),
      infectiousTo: new Date(Math.min(now, r.boardedAtMs + 36 * 3_600_000)).toISOString(),
      caseNumber: `BENCH-G${label}-${i}`,
      reason: 'benchmark',
    });
    return c.id;
  });
  const warmIds = ids.slice(0, WARMUP_CASES);
  const measured = ids.slice(WARMUP_CASES);
  const client = new TraceClient();
  try {
    const job = (caseIds: string[]) => ({
      url: server.url,
      token: official.accessToken!,
      caseIds,
      degree: 1 as const,
    });
    const warm = performance.now();
    for (let round = 0; round < s.traceWarmupRounds; round++) await client.measure(job(warmIds));
    log(
      `trace at ${label} rides: warm-up of ${s.traceWarmupRounds} rounds of ${warmIds.length} degree-1 traces in ${fmtMs(performance.now() - warm)}`,
    );
    const samples = await metered(p, `trace_${label}`, () => client.measure(job(measured)));
    const ms = samples.map((x) => x.ms);
    const ok = samples.filter((x) => !x.error);
    const firstError = samples.find((x) => x.error);
    if (firstError) log(`  ${samples.length - ok.length} traces failed; first: ${firstError.error}`);
    const t: Traced = {
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      meanExposed: ok.reduce((sum, x) => sum + x.exposed, 0) / Math.max(1, ok.length),
      failed: samples.length - ok.length,
    };
    log(
      `  degree 1 at ${label} rides: p50 ${t.p50.toFixed(1)} ms, p99 ${t.p99.toFixed(1)} ms, ` +
        `${t.meanExposed.toFixed(1)} exposed per case, slowest ${Math.max(...ms).toFixed(1)} ms`,
    );
    return t;
  } finally {
    await client.close();
  }
}
