import { RideTraceClient } from '@ridetrace/sdk';
import { bulk } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import type { FakeSms } from '../lib/fake-sms.js';
import type { LoadResult } from '../lib/loader.js';
import { log, metered, type PhaseContext } from './phase-context.js';

/**
 * SMS notification of `sizes.notifications` exposed people, queued as POST /v1/cases/:id/notify would, and
 * delivered by the server's worker to a fake gateway: notify.<n>_s.
 */
export async function notifyPhase(p: PhaseContext, city: LoadResult, sms: FakeSms): Promise<void> {
  const { ctx, server, world, sizes: s, report } = p;
  const official = new RideTraceClient({ baseUrl: server.url });
  await official.loginClient(world.official.clientId, world.official.clientSecret);
  const now = Date.now();
  const subject = city.passengerId(city.passengers - 1);
  const c = await official.openCase({
    subject: { passengerId: subject },
    infectiousFrom: new Date(now - 3 * 86_400_000).toISOString(),
    infectiousTo: new Date(now).toISOString(),
    caseNumber: 'BENCH-NOTIFY',
    reason: 'benchmark',
  });
  const n = Math.min(s.notifications, city.passengers - 1);
  const people = Array.from({ length: n }, (_, i) => city.passengerId(i));
  const carrierId = city.crowdedCarriers[0]!;
  const observeUntil = new Date(now + 14 * 86_400_000);
  const before = sms.received;
  // What POST /v1/cases/:id/notify commits for the exposed people: marks and outbox rows in one transaction.
  await ctx.db.transaction().execute(async (tx) => {
    for (let i = 0; i < n; i += 2000) {
      const chunk = people.slice(i, i + 2000);
      await bulk.insertMarks(
        tx,
        chunk.map((passenger_id) => ({
          case_id: c.id,
          passenger_id,
          level: 'close' as const,
          carrier_id: carrierId,
          boarded_at: new Date(now - 86_400_000),
          observe_until: observeUntil,
        })),
      );
      await bulk.insertNotifications(
        tx,
        chunk.map((passenger_id) => ({
          id: randomUUID(),
          case_id: c.id,
          passenger_id,
          channel: 'sms' as const,
          state: 'queued' as const,
        })),
      );
    }
  });
  const queued = performance.now();
  log(`queued ${n} SMS notifications; waiting for the server's worker to deliver them`);
  await metered(p, 'notify', () => sms.waitFor(before + n, 300_000));
  const seconds = (sms.lastAt - queued) / 1000;
  const perSecond: number[] = [];
  for (const t of sms.times.slice(before)) {
    const i = Math.floor((t - queued) / 1000);
    perSecond[i] = (perSecond[i] ?? 0) + 1;
  }
  log(`  SMS per second: ${Array.from(perSecond, (x) => x ?? 0).join(' ')}`);
  const sent = await ctx.db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('case_id', '=', c.id)
    .where('state', '=', 'sent')
    .executeTakeFirstOrThrow();
  report.add({
    name: `notify.${n >= 1000 ? `${n / 1000}k` : n}_s`,
    value: seconds,
    unit: 's',
    target: n === 10_000 ? '≤ 30' : undefined,
    ok: n === 10_000 ? seconds <= 30 : undefined,
    note: `${Math.round(n / seconds)} SMS/s, ${sent.n} marked sent at the last delivery`,
  });
}
