import { RideTraceClient } from '@ridetrace/sdk';
import { hmac, seal } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { RideSample } from '../lib/load-plan.js';
import type { LoadResult } from '../lib/loader.js';
import { fmtMs, percentile } from '../lib/report.js';
import { TraceClient } from '../lib/trace-client.js';
import { log, metered, pool, settleCity, type PhaseContext } from './phase-context.js';

/** Cases built for the degree-2 figure at about 1,000 close contacts, each traced this many times. */
const DEGREE2_1000_CASES = 4;
const DEGREE2_1000_ROUNDS = 3;

/**
 * Officials' exposure reads on the loaded city, one request at a time: degree 1 on ordinary and on crowded
 * carriers, degree 2, degree 2 of a case with about 1,000 close contacts on crowded buses, and (without a target)
 * degree 2 on crowded carriers. Figures: trace*.p50_ms, trace*.p99_ms.
 */
export async function tracePhase(p: PhaseContext, city: LoadResult): Promise<void> {
  const { server, world, sizes: s, report } = p;
  await settleCity(p);

  const official = new RideTraceClient({ baseUrl: server.url, timeoutMs: 120_000 });
  await official.loginClient(world.official.clientId, world.official.clientSecret);
  const now = Date.now();
  const rnd = (() => {
    let x = 42;
    return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  })();
  const pickCases = (from: RideSample[], n: number) => {
    const pool = [...from];
    const out: RideSample[] = [];
    while (out.length < n && pool.length) out.push(pool.splice(Math.floor(rnd() * pool.length), 1)[0]!);
    return out;
  };
  /** A case on the passenger of a sampled ride, infectious 36 h either side of it (capped at now). */
  const openCases = (samples: RideSample[], label: string) =>
    pool(samples, 8, async (r, i) => {
      const c = await official.openCase({
        subject: { passengerId: city.passengerId(r.passengerIndex) },
        infectiousFrom: new Date(r.boardedAtMs - 36 * 3_600_000).toISOString(),
        infectiousTo: new Date(Math.min(now, r.boardedAtMs + 36 * 3_600_000)).toISOString(),
        caseNumber: `BENCH-${label}-${i}`,
        reason: 'benchmark',
      });
      return c.id;
    });
  const normal = await openCases(pickCases(city.samples.normal, s.cases + 20), 'N');
  const crowded = await openCases(pickCases(city.samples.crowded, s.cases + 20), 'C');
  log(`opened ${normal.length + crowded.length} cases`);
  const big = await openCrowdedCases(p, city, official, now);
  log(
    `opened ${big.ids.length} cases of ${big.closeCounts.join(', ')} close degree-1 contacts on crowded buses`,
  );

  const client = new TraceClient();
  const measure = async (ids: string[], degree: 1 | 2) => {
    const samples = await client.measure({
      url: server.url,
      token: official.accessToken!,
      caseIds: ids,
      degree,
    });
    const ms = samples.map((x) => x.ms);
    const ok = samples.filter((x) => !x.error);
    const failed = samples.length - ok.length;
    // A failed trace (timeout, statement timeout) counts with the time it took.
    const firstError = samples.find((x) => x.error);
    if (firstError) log(`  ${failed} exposure reads (degree ${degree}) failed; first: ${firstError.error}`);
    const total = ok.reduce((sum, x) => sum + x.exposed, 0);
    // The tail with the server's own time and both sides' GC, to tell big traces from pauses on small ones.
    const slowest = samples
      .map((x, i) => ({ ...x, i }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map(
        (x) =>
          `${x.ms.toFixed(1)} ms (#${x.i + 1}, ${x.error ? 'failed' : `${x.exposed} exposed`}, server ${x.serverMs?.toFixed(1) ?? '-'} ms` +
          `${x.serverBusyMs ? `: busy ${x.serverBusyMs.toFixed(1)} ms` : ''}` +
          `${x.serverCpuMs ? `, CPU ${x.serverCpuMs.toFixed(1)} ms` : ''}` +
          `${x.serverGcMs ? ` (GC ${x.serverGcMs.toFixed(1)} ms)` : ''}` +
          `${x.serverConnects ? `, ${x.serverConnects} new database connection(s)` : ''}` +
          `${x.gcMs > 0.05 ? `, client GC ${x.gcMs.toFixed(1)} ms` : ''})`,
      )
      .join(', ');
    return {
      slowest,
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      max: Math.max(...ms),
      meanExposed: total / Math.max(1, ids.length - failed),
      failed,
    };
  };
  const exposed = (x: { meanExposed: number; failed: number }, n: number) =>
    `${n} cases, ${x.meanExposed.toFixed(1)} exposed per case${x.failed ? `, ${x.failed} FAILED (counted with their time)` : ''}`;
  const sets = [
    { name: 'trace', label: 'degree 1', ids: normal.slice(0, s.cases), degree: 1, targetMs: 10 },
    { name: 'trace.crowded', label: 'crowded', ids: crowded.slice(0, s.cases), degree: 1, targetMs: 100 },
    { name: 'trace.degree2', label: 'degree 2', ids: normal.slice(0, s.cases), degree: 2, targetMs: 500 },
    {
      name: 'trace.degree2_1000',
      label: 'degree 2 at ~1,000 close contacts',
      ids: Array.from({ length: DEGREE2_1000_ROUNDS }, () => big.ids).flat(),
      degree: 2,
      targetMs: 2000,
    },
    // No target: a crowded bus's riders and all their close contacts' co-passengers.
    {
      name: 'trace.crowded_degree2',
      label: 'crowded degree 2',
      ids: crowded.slice(0, s.degree2CrowdedCases),
      degree: 2,
    },
  ] as const;
  try {
    // Warm-up on unmeasured cases until V8 has compiled the trace code (its compiles slow what they overlap).
    const warm = performance.now();
    for (let round = 0; round < s.traceWarmupRounds; round++) {
      await measure(normal.slice(s.cases), 1);
      await measure(crowded.slice(s.cases), 1);
    }
    await measure(normal.slice(s.cases, s.cases + 5), 2);
    log(
      `warm-up: ${s.traceWarmupRounds} rounds of ${normal.length - s.cases + crowded.length - s.cases} degree-1 traces and 5 of degree 2 on unmeasured cases in ${fmtMs(performance.now() - warm)}`,
    );
    for (const set of sets) await measureSet(set);
  } finally {
    await client.close();
  }

  async function measureSet(set: (typeof sets)[number]): Promise<void> {
    const run = () => measure([...set.ids], set.degree);
    // The CPU shares are logged for the first set (one request at a time, the ordinary degree-1 trace).
    const r = set.name === 'trace' ? await metered(p, 'trace', run) : await run();
    log(
      `  ${set.label}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.meanExposed.toFixed(1)} exposed per case; slowest: ${r.slowest}`,
    );
    if (!('targetMs' in set)) {
      report.add({
        name: `${set.name}.p99_ms`,
        value: r.p99,
        unit: 'ms',
        note: `no target; ${exposed(r, set.ids.length)}`,
      });
      return;
    }
    const closeNote =
      set.name === 'trace.degree2_1000' ? `; ${big.closeCounts.join(', ')} close degree-1 contacts` : '';
    report.add({
      name: `${set.name}.p50_ms`,
      value: r.p50,
      unit: 'ms',
      note: `${exposed(r, set.ids.length)}${closeNote}`,
    });
    report.add({
      name: `${set.name}.p99_ms`,
      value: r.p99,
      unit: 'ms',
      target: `≤ ${set.targetMs}`,
      ok: r.p99 <= set.targetMs && r.failed === 0,
    });
  }
}

/**
 * Cases whose subject (a loaded passenger, given extra rides here) rode the crowded buses some 30 times, three weeks
 * to two weeks ago (so degree 2 follows the contacts for the whole observation period), at least 25 minutes apart:
 * about 1,000 close degree-1 contacts, kept at or below TRACE_MAX_DEGREE1_FOR_DEGREE2 (1,000) by dropping the
 * subject's latest rides. The rides are written as the server writes them (the day's blind index, the id sealed).
 */
async function openCrowdedCases(
  p: PhaseContext,
  city: LoadResult,
  official: RideTraceClient,
  now: number,
): Promise<{ ids: string[]; closeCounts: number[] }> {
  const { ctx } = p;
  const DAY = 86_400_000;
  const candidates = city.samples.crowded
    .filter((r) => r.boardedAtMs >= now - 22 * DAY && r.boardedAtMs <= now - 15 * DAY)
    .sort((a, b) => a.boardedAtMs - b.boardedAtMs);
  // Rides 25 minutes apart at least: their close windows (10 minutes either side) share no rider by time.
  const spaced: RideSample[] = [];
  for (const r of candidates) {
    if (spaced.length === 0 || r.boardedAtMs - spaced.at(-1)!.boardedAtMs >= 25 * 60_000) spaced.push(r);
  }
  const ids: string[] = [];
  const closeCounts: number[] = [];
  for (let c = 0; c < DEGREE2_1000_CASES; c++) {
    const mine = spaced.filter((_, i) => i % DEGREE2_1000_CASES === c).slice(0, 32);
    if (mine.length === 0) break;
    const pid = city.passengerId(city.passengers - 1 - c);
    const rides: { id: string; at: number }[] = [];
    for (const r of mine) {
      const at = new Date(r.boardedAtMs + 1000);
      const key = await ctx.keyring.dayKey(ctx.db, ctx.rideDays.of(at));
      const id = randomUUID();
      await sql`
        insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, received_at)
        values (${id}, ${r.carrierId}, ${at}, ${hmac(key.index, pid)},
          ${seal(key.seal, pid, `rides/passenger/${id}`)}, 'scan', ${at})`.execute(ctx.db);
      rides.push({ id, at: at.getTime() });
    }
    const opened = await official.openCase({
      subject: { passengerId: pid },
      infectiousFrom: new Date(rides[0]!.at - 3_600_000).toISOString(),
      infectiousTo: new Date(rides.at(-1)!.at + 3_600_000).toISOString(),
      caseNumber: `BENCH-D2K-${c}`,
      reason: 'benchmark',
    });
    let close = 0;
    for (;;) {
      const d1 = await official.allExposures(opened.id, 1);
      close = d1.filter((e) => e.level === 'close').length;
      if (close <= 1000 || rides.length === 1) break;
      await sql`delete from rides where id = ${rides.pop()!.id}`.execute(ctx.db);
    }
    ids.push(opened.id);
    closeCounts.push(close);
  }
  return { ids, closeCounts };
}
