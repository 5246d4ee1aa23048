import { addDays, purgeRecords } from '@ridetrace/server';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { localDay, localMidnight } from '../support/days.js';
import { useSharedDatabase, useWorld } from '../support/fixtures.js';
import { openCase, scanRide } from '../support/flows.js';
import { confirmedPassenger, createCarrier, seedWorld, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const MIN = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

async function partitionOf(t: TestApp, rideId: string): Promise<string | undefined> {
  const r = await sql<{
    t: string;
  }>`select tableoid::regclass::text as t from rides where id = ${rideId}::uuid`.execute(t.db);
  return r.rows[0]?.t;
}

async function hasDayKey(t: TestApp, day: string): Promise<boolean> {
  return (
    (await t.db.selectFrom('ride_day_keys').select('day').where('day', '=', day).executeTakeFirst()) !==
    undefined
  );
}

async function itineraryDays(t: TestApp, auth: string): Promise<Record<string, string[]>> {
  const res = await t.http().get('/v1/passengers/me/itinerary?days=14').set('authorization', auth);
  expect(res.status).toBe(200);
  const out: Record<string, string[]> = {};
  for (const d of res.body.days as { day: string; cities: { rides: { id: string }[] }[] }[])
    out[d.day] = d.cities.flatMap((c) => c.rides.map((r) => r.id)).sort();
  return out;
}

const partitionName = (day: string) => `rides_${day.replaceAll('-', '')}`;

describe('ride days are local days (TIME_ZONE Asia/Shanghai, the default)', () => {
  const { t, w } = useWorld({ RIDES_MAX_LATE_SECONDS: String(7 * 86_400), RIDES_REPEAT_MINUTES: '0' });

  it('23:59 and 00:01 local time and UTC midnight: partition, day key, itinerary and purge follow the local day', async () => {
    const d = localDay(Date.now() - 4 * DAY);
    const next = addDays(d, 1);
    const midnight = localMidnight(next).getTime();
    const { code } = await createCarrier(t, w.tokens.operator);
    const auth = await confirmedPassenger(t, 'ld-rider', { name: '林小雨', phone: '13900000301' });
    // Offline scans sent late: the boarding time is the scan's own.
    const lateEvening = await scanRide(t, auth, code.url, iso(midnight - MIN));
    const afterMidnight = await scanRide(t, auth, code.url, iso(midnight + MIN));
    const utcMidnight = await scanRide(t, auth, code.url, `${next}T00:00:00.000Z`);

    expect(await partitionOf(t, lateEvening.id)).toBe(partitionName(d));
    expect(await partitionOf(t, afterMidnight.id)).toBe(partitionName(next));
    expect(await partitionOf(t, utcMidnight.id)).toBe(partitionName(next));
    expect(t.app.ctx.rideDays.bounds(next)).toEqual({
      from: new Date(midnight),
      to: new Date(midnight + DAY),
    });

    const days = await itineraryDays(t, auth);
    expect(days[d]).toEqual([lateEvening.id]);
    expect(days[next]).toEqual([afterMidnight.id, utcMidnight.id].sort());

    // The purge keeps `next` and destroys everything of `d`, up to its last local minute.
    const report = await purgeRecords(t.app.ctx, { before: next, dryRun: false, actor: 'test:local-days' });
    expect(report.days.map((x) => x.day)).toContain(d);
    expect(report.days.map((x) => x.day)).not.toContain(next);
    expect(await partitionOf(t, lateEvening.id)).toBeUndefined();
    expect(await partitionOf(t, afterMidnight.id)).toBe(partitionName(next));
    expect(await hasDayKey(t, d)).toBe(false);
    expect(await hasDayKey(t, next)).toBe(true);
    expect((await itineraryDays(t, auth))[next]).toEqual([afterMidnight.id, utcMidnight.id].sort());
  });
});

describe('changing TIME_ZONE from UTC to Asia/Shanghai on a database with rides', () => {
  const shared = useSharedDatabase();

  it('the new zone counts from its first midnight after the stored days; rides on both sides trace together', async () => {
    const env = { RIDES_REPEAT_MINUTES: '0' };
    const utc = await shared.server({ ...env, TIME_ZONE: 'UTC' });
    const w = await seedWorld(utc);
    const { code } = await createCarrier(utc, w.tokens.operator);
    const subject = await confirmedPassenger(utc, 'tz-subject', { name: '周一', phone: '13900000311' });
    const contact = await confirmedPassenger(utc, 'tz-contact', { name: '吴二', phone: '13900000312' });
    const early = await scanRide(utc, subject, code.url);
    const utcDay = new Date().toISOString().slice(0, 10);
    expect(await partitionOf(utc, early.id)).toBe(partitionName(utcDay));
    const stored = (
      await utc.db.selectFrom('ride_day_keys').select('day').orderBy('day', 'desc').execute()
    ).map((r) => r.day);
    const lastUtcDay = stored[0]!;
    expect(lastUtcDay > utcDay).toBe(true);

    const sh = await shared.server({ ...env, TIME_ZONE: 'Asia/Shanghai' });
    const eras = await sh.db
      .selectFrom('ride_calendar')
      .select(['since', 'time_zone'])
      .orderBy('id')
      .execute();
    const switchAt = localMidnight(addDays(lastUtcDay, 1));
    expect(eras).toEqual([
      { since: null, time_zone: 'UTC' },
      { since: switchAt, time_zone: 'Asia/Shanghai' },
    ]);
    // A restart with the same zone adds nothing.
    await shared.server({ ...env, TIME_ZONE: 'Asia/Shanghai' });
    expect(await sh.db.selectFrom('ride_calendar').select('id').execute()).toHaveLength(2);
    // The last UTC day ends at the switch (16:00 UTC); the first local day starts there.
    expect(sh.app.ctx.rideDays.bounds(lastUtcDay)).toEqual({
      from: new Date(`${lastUtcDay}T00:00:00Z`),
      to: switchAt,
    });

    // Two minutes before the switch and two after, on one bus: the same trip, two days, two day keys.
    const at = (ms: number) => {
      sh.clock.offsetMs = ms - Date.now();
    };
    at(switchAt.getTime() - 2 * MIN);
    const before = await scanRide(sh, subject, code.url);
    at(switchAt.getTime() + 2 * MIN);
    const after = await scanRide(sh, contact, code.url);
    at(Date.parse(`${addDays(lastUtcDay, 1)}T00:00:00Z`));
    const utcMidnight = await scanRide(sh, contact, code.url);
    expect(await partitionOf(sh, before.id)).toBe(partitionName(lastUtcDay));
    expect(await partitionOf(sh, after.id)).toBe(partitionName(addDays(lastUtcDay, 1)));
    expect(await partitionOf(sh, utcMidnight.id)).toBe(partitionName(addDays(lastUtcDay, 1)));
    expect(await partitionOf(sh, early.id)).toBe(partitionName(utcDay));

    // The itinerary groups by local day whatever era stored the ride.
    const days = await itineraryDays(sh, contact);
    expect(days[addDays(lastUtcDay, 1)]).toEqual([after.id, utcMidnight.id].sort());

    const opened = await openCase(sh, w.tokens.official, {
      subject: { phone: '13900000311' },
      infectiousFrom: iso(switchAt.getTime() - 60 * MIN),
      infectiousTo: iso(switchAt.getTime() + 60 * MIN),
      caseNumber: 'TZ-1',
      reason: 'positive test',
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const exposures = await sh
      .http()
      .get(`/v1/cases/${opened.body.id as string}/exposures`)
      .set('authorization', w.tokens.official);
    expect(exposures.status).toBe(200);
    const items = exposures.body.items as {
      contacts: { caseBoardedAt: string; contactBoardedAt: string }[];
    }[];
    expect(items.flatMap((i) => i.contacts)).toContainEqual(
      expect.objectContaining({ caseBoardedAt: before.boardedAt, contactBoardedAt: after.boardedAt }),
    );
    sh.clock.offsetMs = 0;
  });
});

// Runs on a fresh database: no era yet, so the first start records the configured zone from the beginning.
describe('a new database', () => {
  const shared = useSharedDatabase();
  it('records its zone once, from the beginning', async () => {
    const a = await shared.server({ TIME_ZONE: 'Europe/Berlin' });
    expect(await a.db.selectFrom('ride_calendar').select(['since', 'time_zone']).execute()).toEqual([
      { since: null, time_zone: 'Europe/Berlin' },
    ]);
    expect(a.app.ctx.rideDays.timeZone).toBe('Europe/Berlin');
  });
});
