import { defaultLoadOptions, describeLoad, loadCity, loadFigures, type LoadResult } from '../lib/loader.js';
import { fmtMs } from '../lib/report.js';
import { log, metered, type PhaseContext } from './phase-context.js';

/** A city of `sizes.rides` encrypted rides loaded with COPY: the city that trace, purge and notify work on. */
export async function loadPhase(p: PhaseContext): Promise<LoadResult> {
  const { ctx, sizes: s, report } = p;
  const opts = { ...defaultLoadOptions(s.rides), log: () => undefined };
  log(
    `loading ${s.rides} rides (${opts.passengers} passengers, ${opts.carriers} carriers, ${opts.days} days) with COPY`,
  );
  const city = await metered(p, 'load', () => loadCity(ctx, opts));
  const t = city.timings;
  log(
    `  ${describeLoad(city)} in ${fmtMs(t.totalMs)} (copy ${fmtMs(t.copyMs)}, index+attach ${fmtMs(t.indexMs)}, analyze ${fmtMs(t.analyzeMs)})`,
  );
  const figures = loadFigures(s.rides, city, p.cpuLog.load!);
  report.add(figures.time);
  report.add(figures.cpu);
  return city;
}
