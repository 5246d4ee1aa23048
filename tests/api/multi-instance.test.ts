/**
 * Several server processes on one database (WORKERS, or several machines): two apps here stand for two processes.
 * What must happen once happens once (a scan sent to both, the purge, migrations started together), a change made
 * through one is seen by the other, and keys one destroys or rotates leave the other's memory at once through
 * LISTEN/NOTIFY (server/src/cache-events.ts), not at its next periodic re-read.
 */
import {
  addDays,
  announceIndexKey,
  caseFactsOf,
  cutoffDay,
  migrateDatabase,
  parseCacheEvent,
  purgeRecords,
  RestartBackoff,
  rotateCodeKey,
} from '@ridetrace/server';
import { sql } from 'kysely';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { useSharedDatabase } from '../support/fixtures.js';
import { openCase, waitFor } from '../support/flows.js';
import { createDatabase, dropDatabases } from '../support/postgres.js';
import {
  confirmedPassenger,
  createCarrier,
  seedWorld,
  type TestApp,
  type World,
} from '../support/test-app.js';

const shared = useSharedDatabase();
let a: TestApp;
let b: TestApp;
let w: World;

beforeAll(async () => {
  a = await shared.server();
  b = await shared.server();
  w = await seedWorld(a);
});

const countRides = async (t: TestApp) =>
  (await sql<{ n: number }>`select count(*)::int as n from rides`.execute(t.db)).rows[0]!.n;

/** Days `n` days before the retention cutoff, oldest first. */
const daysBeforeCutoff = (t: TestApp, n: number, from = 5) => {
  const cutoff = cutoffDay(t.app.ctx, t.config.rides.retentionDays);
  return Array.from({ length: n }, (_, i) => addDays(cutoff, -(from + n - i)));
};

describe('once across processes', () => {
  it('the same scan sent to both at once is one ride', async () => {
    const { code } = await createCarrier(a, w.tokens.operator);
    const auth = await confirmedPassenger(a, 'multi-scan', { name: '张三', phone: '13900000051' });
    const before = await countRides(a);
    const body = { code: code.url, clientRideId: randomUUID() };
    const replies = await Promise.all(
      [a, b, a, b].map((t) => t.http().post('/v1/rides').set('authorization', auth).send(body)),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
    expect(new Set(replies.map((r) => (r.body as { ride: { id: string } }).ride.id)).size).toBe(1);
    expect(await countRides(a)).toBe(before + 1);
  });

  it('a case closed through one reads closed through the other', async () => {
    await confirmedPassenger(a, 'multi-case', { name: '李四', phone: '13900000052' });
    const opened = await openCase(a, w.tokens.official, {
      subject: { phone: '13900000052' },
      caseNumber: 'MULTI-1',
      reason: 'multi-instance test',
    }).expect(201);
    const id = opened.body.id as string;
    const read = (t: TestApp) =>
      t.http().get(`/v1/cases/${id}`).set('authorization', w.tokens.official).expect(200);
    expect((await read(b)).body.status).toBe('open');
    await b
      .http()
      .post(`/v1/cases/${id}/close`)
      .set('authorization', w.tokens.official)
      .send({ reason: 'cleared' })
      .expect(200);
    expect((await read(a)).body.status).toBe('closed');
    const again = await a
      .http()
      .post(`/v1/cases/${id}/close`)
      .set('authorization', w.tokens.official)
      .send({ reason: 'twice' });
    expect(again.status).toBe(409);
  });

  it('a purge started in both at once runs once: every expired day is purged by exactly one', async () => {
    const days = daysBeforeCutoff(a, 3, 10);
    for (const day of days) await a.app.ctx.keyring.dayKey(a.db, day);
    const run = (t: TestApp) =>
      purgeRecords(t.app.ctx, {
        before: cutoffDay(t.app.ctx, t.config.rides.retentionDays),
        dryRun: false,
        actor: 'system:retention',
      });
    const reports = await Promise.all([run(a), run(b)]);
    const purged = reports.flatMap((r) => r.days.map((d) => d.day));
    expect(purged.sort()).toEqual(days);
    // One held the lock (the other skipped), or one finished before the other began (which found nothing left).
    expect(reports.filter((r) => r.ran && r.days.length > 0)).toHaveLength(1);
    const left = await sql<{ n: number }>`
      select count(*)::int as n from ride_day_keys where day = any(${days}::date[])`.execute(a.db);
    expect(left.rows[0]!.n).toBe(0);
  });

  it('migrations started three times at once on a fresh database apply each migration once', async () => {
    const adminUrl = inject('pgAdminUrl');
    const name = `rt_migrate_race_${randomBytes(4).toString('hex')}`;
    const url = await createDatabase(adminUrl, name);
    try {
      const applied = await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
      const all = applied.flat();
      const expected = await sql<{ name: string }>`select name from schema_migrations order by name`.execute(
        a.db,
      );
      expect(all.sort()).toEqual(expected.rows.map((r) => r.name));
      // Whoever came later found nothing left to do.
      expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
      expect(await migrateDatabase(url)).toEqual([]);
    } finally {
      await dropDatabases(adminUrl, [name]);
    }
  });
});

describe('caches across processes (LISTEN/NOTIFY)', () => {
  it('a day key purged by one leaves the other at once', async () => {
    const [day] = daysBeforeCutoff(b, 1, 20);
    await b.app.ctx.keyring.dayKey(b.db, day!);
    expect(b.app.ctx.keyring.holdsDayKey(day!)).toBe(true);
    const report = await purgeRecords(a.app.ctx, {
      before: cutoffDay(a.app.ctx, a.config.rides.retentionDays),
      dryRun: false,
      actor: 'system:retention',
    });
    expect(report.days.map((d) => d.day)).toEqual([day]);
    expect(
      await waitFor(
        async () => b.app.ctx.keyring.holdsDayKey(day!),
        (held) => !held,
        5000,
      ),
    ).toBe(false);
  });

  it('a case purged by one is gone from the other’s case facts: its trace answers 404 there', async () => {
    await confirmedPassenger(a, 'multi-purged', { name: '周五', phone: '13900000053' });
    const opened = await openCase(a, w.tokens.official, {
      subject: { phone: '13900000053' },
      caseNumber: 'MULTI-PURGED',
      reason: 'multi-instance purge',
    }).expect(201);
    const id = opened.body.id as string;
    const exposures = (t: TestApp) =>
      t.http().get(`/v1/cases/${id}/exposures`).set('authorization', w.tokens.official);
    expect((await exposures(b)).status).toBe(200);
    expect(caseFactsOf(b.app.ctx).get(id)).toBeDefined();
    await a.http().post(`/v1/cases/${id}/close`).set('authorization', w.tokens.official).send({}).expect(200);
    // Closed long enough ago that its retention has ended.
    await sql`update cases set closed_at = now() - make_interval(days => ${a.config.lifetimes.caseRetentionDays + 1})
      where id = ${id}`.execute(a.db);
    const report = await purgeRecords(a.app.ctx, {
      before: cutoffDay(a.app.ctx, a.config.rides.retentionDays),
      dryRun: false,
      actor: 'system:retention',
    });
    expect(report.caseIds).toContain(id);
    expect(
      await waitFor(
        async () => caseFactsOf(b.app.ctx).get(id),
        (facts) => facts === undefined,
        5000,
      ),
    ).toBeUndefined();
    expect((await exposures(b)).status).toBe(404);
  });

  it('a code key rotated through one is the other’s signing key at once', async () => {
    const ring = b.app.ctx.keyring;
    await ring.readCodeKeys(b.db, new Date());
    const before = ring.activeCodeKeyId;
    const rotation = await rotateCodeKey(a.db, a.app.ctx.keyring, { graceDays: 3, now: new Date() });
    expect(rotation.active.id).toBe(before + 1);
    // The other's view is fresh (read just now): only the notification makes it read again within a minute.
    expect(
      await waitFor(
        async () => ring.activeCodeKeyId,
        (id) => id === before + 1,
        5000,
      ),
    ).toBe(before + 1);
    expect(ring.codeKeyRetiresAt(before)).toEqual(rotation.inGrace.find((k) => k.id === before)!.retiresAt);
  });

  it('a process whose listening connection was cut listens again and catches up', async () => {
    const listeners = () =>
      sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'ridetrace-cache-events'`.execute(a.db);
    expect((await listeners()).rows[0]!.n).toBe(2);
    await sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and application_name = 'ridetrace-cache-events'`.execute(a.db);
    const ring = b.app.ctx.keyring;
    const before = ring.activeCodeKeyId;
    // Rotated while nobody listens: the notification is lost, and the reconnection reads the keys again.
    await rotateCodeKey(a.db, a.app.ctx.keyring, { graceDays: 3, now: new Date() });
    expect(
      await waitFor(
        async () => (await listeners()).rows[0]!.n,
        (n) => n === 2,
        10_000,
      ),
    ).toBe(2);
    expect(
      await waitFor(
        async () => ring.activeCodeKeyId,
        (id) => id === before + 1,
        5000,
      ),
    ).toBe(before + 1);
  });

  it('a blind-index rotation step through one changes the other’s lookups at once', async () => {
    const ring = b.app.ctx.keyring;
    await ring.readIndexKeys(b.db, new Date());
    expect(ring.indexGenerations).toEqual([1]);
    const state = await announceIndexKey(a.db, a.app.ctx.keyring, new Date());
    expect(state.phase).toBe('announced');
    expect(
      await waitFor(
        async () => ring.indexGenerations,
        (g) => g.length === 2,
        5000,
      ),
    ).toEqual([1, 2]);
  });

  it('payloads other than our events are ignored', () => {
    expect(parseCacheEvent('{"kind":"day-destroyed","day":"2026-01-02"}')).toEqual({
      kind: 'day-destroyed',
      day: '2026-01-02',
    });
    expect(parseCacheEvent('{"kind":"code-keys","extra":1}')).toEqual({ kind: 'code-keys' });
    for (const bad of ['', 'null', '{"kind":"day-destroyed","day":"x; drop"}', '{"kind":"other"}', '[]'])
      expect(parseCacheEvent(bad)).toBeNull();
  });
});

describe('worker restarts back off', () => {
  it('restarts at once after a worker that ran a while, doubling waits while each dies young', () => {
    const backoff = new RestartBackoff({ minMs: 500, maxMs: 4000, stableMs: 60_000 });
    expect([100, 100, 100, 100, 100, 100].map((up) => backoff.next(up))).toEqual([
      0, 500, 1000, 2000, 4000, 4000,
    ]);
    expect(backoff.next(120_000)).toBe(0);
    expect(backoff.next(10)).toBe(500);
  });
});
