/**
 * The trace's co-passenger query (`trace_contacts`, migration 0009) runs with a plan made once per connection and
 * kept: it must stay index-driven whatever the statistics were when it was made, and prune the day partitions
 * when it starts.
 */
import { localDay, localMidnight } from '../support/days.js';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';
import { functionStatement, genericPlan } from '../support/plans.js';

const t = useTestApp();

it('the co-passenger query has a fixed generic plan of index probes, fresh or with statistics', async () => {
  const { statement, config } = await functionStatement(t.db, 'trace_contacts');
  expect(config).toEqual(['plan_cache_mode=force_generic_plan']);
  const scansOf = (lines: string[], partition: string) =>
    lines.filter((l) => l.includes(` on ${partition} `));
  const indexProbes = /Index (Only )?Scan using rides_\d{8}_(passenger_key_boarded_at_idx|pkey) /;

  // Fresh partitions, as each day's is when it opens (never analysed), are read through their indexes.
  const fresh = await genericPlan(t.db, statement);
  const rideScans = fresh.filter((l) => / on rides_\d{8} /.test(l));
  expect(rideScans.length).toBeGreaterThan(0);
  for (const l of rideScans) expect(l).toMatch(indexProbes);
  expect(rideScans.some((l) => l.includes('_passenger_key_boarded_at_idx '))).toBe(true);
  expect(rideScans.some((l) => l.includes('_pkey '))).toBe(true);

  // A day of 20,000 rides on 200 carriers, analysed: still probes, never a scan of the whole day.
  const today = localDay(Date.now());
  const partition = `rides_${today.replaceAll('-', '')}`;
  await sql`
    insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, received_at)
    select gen_random_uuid(), 1 + i % 200, ${localMidnight(today)}::timestamptz + (i * 4) * interval '1 second',
      sha256(i::text::bytea), '\\x00'::bytea, 'scan', now()
    from generate_series(1, 20000) i`.execute(t.db);
  await sql`analyze rides`.execute(t.db);
  const analysed = await genericPlan(t.db, statement);
  const filled = scansOf(analysed, partition);
  expect(filled).toHaveLength(2);
  for (const l of filled) expect(l).toMatch(indexProbes);
});

it('the generic plan prunes the day partitions outside the window when it starts', async () => {
  const { statement } = await functionStatement(t.db, 'trace_contacts');
  const day = new Date();
  const from = new Date(day.getTime() - 3_600_000).toISOString();
  const to = day.toISOString();
  const lines = await t.db.connection().execute(async (c) => {
    await sql`set plan_cache_mode = force_generic_plan`.execute(c);
    await sql.raw(`prepare trace_plan_probe as ${statement}`).execute(c);
    const key = `\\x${randomBytes(32).toString('hex')}`;
    // EXPLAIN EXECUTE takes literals only.
    const r = await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off) execute trace_plan_probe(
      ${sql.lit(`{"\\${key}"}`)}::bytea[], ${sql.lit(from)}::timestamptz, ${sql.lit(to)}::timestamptz, 600, 900,
      1800, 3600, ${sql.lit(from)}::timestamptz, ${sql.lit(to)}::timestamptz, false)`.execute(c);
    await sql`deallocate trace_plan_probe`.execute(c);
    await sql`reset plan_cache_mode`.execute(c);
    return r.rows.map((row) => row['QUERY PLAN']);
  });
  const partitions = await sql<{ n: number }>`
    select count(*)::int as n from pg_inherits where inhparent = 'rides'::regclass`.execute(t.db);
  expect(partitions.rows[0]!.n).toBeGreaterThan(2);
  // An hour of today: every other day's partition is removed before the plan runs.
  const removed = lines.map((l) => /Subplans Removed: (\d+)/.exec(l)).find((m) => m !== null);
  expect(Number(removed?.[1])).toBeGreaterThanOrEqual(partitions.rows[0]!.n - 2);
});
