import { CpuMeter, type CpuShare, type CpuSnapshot } from '../lib/cpu.js';
import {
  defaultLoadOptions,
  describeLoad,
  loadCity,
  loadFigures,
  type LoadOptions,
  type LoadResult,
} from '../lib/loader.js';
import { fmtMs } from '../lib/report.js';
import { log, type PhaseContext } from './phase-context.js';

/** A city of `sizes.rides` encrypted rides loaded with COPY: the city that trace, purge and notify work on. */
export async function loadPhase(p: PhaseContext): Promise<LoadResult> {
  const { sizes: s, report } = p;
  const { city, cpu } = await loadStep(p, s.rides, {}, 'load');
  const figures = loadFigures(s.rides, city, cpu);
  report.add(figures.time);
  report.add(figures.cpu);
  return city;
}

/**
 * One COPY load of `rides` rides (the city's default shape for that size, `opts` on top), logged; the CPU shares
 * are kept under `label`. Returns the snapshot pair too, so several loads can be counted as one.
 */
export async function loadStep(
  p: PhaseContext,
  rides: number,
  opts: Partial<LoadOptions>,
  label: string,
): Promise<{ city: LoadResult; cpu: CpuShare; pair: CpuSnapshot[] }> {
  const o = { ...defaultLoadOptions(rides), ...opts, log: () => undefined };
  log(
    `loading ${rides} rides (${o.passengers} passengers, ${o.carriers} carriers, ${o.days} days) with COPY` +
      (o.rebuild?.length
        ? `, rebuilding the ${o.rebuild.length} day tables loaded before with their rides`
        : ''),
  );
  const a = p.meter.snapshot();
  const city = await loadCity(p.ctx, o);
  const pair = [a, p.meter.snapshot()];
  const cpu = CpuMeter.shareOfPairs(pair);
  p.cpuLog[label] = cpu;
  log(`  [${label}] ${CpuMeter.describe(cpu)}`);
  const t = city.timings;
  log(
    `  ${describeLoad(city)} in ${fmtMs(t.totalMs)} (copy ${fmtMs(t.copyMs)}, index+attach ${fmtMs(t.indexMs)}, analyze ${fmtMs(t.analyzeMs)})`,
  );
  return { city, cpu, pair };
}
