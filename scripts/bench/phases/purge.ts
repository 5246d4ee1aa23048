import { purgeRecords } from '@ridetrace/server';
import type { LoadResult } from '../lib/loader.js';
import { fmtMs } from '../lib/report.js';
import { autovacuumIdle, log, type PhaseContext } from './phase-context.js';

/** The retention purge of the loaded city's oldest day (crypto-shredding and DROP of its partition): purge.day_ms. */
export async function purgePhase(p: PhaseContext, city: LoadResult): Promise<void> {
  const { ctx, report } = p;
  // A fresh load may still be under autovacuum, which DROP TABLE waits for; a production day is long vacuumed.
  const waited = await autovacuumIdle(ctx, 120_000);
  const before = city.days[1]!;
  const dry = await purgeRecords(ctx, { before, dryRun: true, actor: 'system:bench' });
  log(`  dry run (finds and counts the day, changes nothing): ${dry.durationMs} ms`);
  const t = performance.now();
  const r = await purgeRecords(ctx, { before, dryRun: false, actor: 'system:bench' });
  const ms = performance.now() - t;
  log(`purged ${r.days.map((d) => `${d.day} (${d.rows} rides)`).join(', ')} in ${fmtMs(ms)}`);
  report.add({
    name: 'purge.day_ms',
    value: ms,
    unit: 'ms',
    target: '≤ 1000',
    ok: ms <= 1000 && r.ran,
    note: `${r.rows} rides, ${r.days.length} day(s), report ${r.durationMs} ms${waited > 100 ? `, after ${fmtMs(waited)} waiting for autovacuum` : ''}`,
  });
}
