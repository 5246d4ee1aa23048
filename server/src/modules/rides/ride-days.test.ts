import { describe, expect, it } from 'vitest';
import { addDays, midnightOf, nextEra, RideDays } from './ride-days.js';

const at = (iso: string) => new Date(iso);
const HOUR = 3600_000;

/** Every hour in [from, to): its day's bounds hold it, and consecutive days meet without gap or overlap. */
function expectContiguous(days: RideDays, from: string, to: string) {
  for (let t = Date.parse(from); t < Date.parse(to); t += HOUR / 4) {
    const d = days.of(new Date(t));
    const b = days.bounds(d);
    expect(b.from.getTime(), `${new Date(t).toISOString()} in ${d}`).toBeLessThanOrEqual(t);
    expect(b.to.getTime(), `${new Date(t).toISOString()} in ${d}`).toBeGreaterThan(t);
    expect(days.bounds(addDays(d, 1)).from.getTime()).toBe(b.to.getTime());
  }
}

describe('ride days in Asia/Shanghai (UTC+8)', () => {
  const days = new RideDays([{ sinceMs: -Infinity, timeZone: 'Asia/Shanghai' }]);

  it('23:59 local is that day, 00:01 local the next, and UTC midnight (08:00 local) belongs to the local day', () => {
    expect(days.of(at('2026-12-07T15:59:00Z'))).toBe('2026-12-07');
    expect(days.of(at('2026-12-07T16:01:00Z'))).toBe('2026-12-08');
    expect(days.of(at('2026-12-07T23:59:59Z'))).toBe('2026-12-08');
    expect(days.of(at('2026-12-08T00:00:00Z'))).toBe('2026-12-08');
    expect(days.of(at('2026-12-07T15:59:00Z'))).toBe('2026-12-07');
  });

  it('a day runs from local midnight to local midnight; between() lists every day a range touches', () => {
    expect(days.bounds('2026-12-08')).toEqual({
      from: at('2026-12-07T16:00:00Z'),
      to: at('2026-12-08T16:00:00Z'),
    });
    expect(days.between(at('2026-12-07T15:00:00Z'), at('2026-12-08T16:00:00Z'))).toEqual([
      '2026-12-07',
      '2026-12-08',
      '2026-12-09',
    ]);
    expect(days.cutoff(at('2026-12-07T16:30:00Z'), 28)).toBe('2026-11-11');
    expectContiguous(days, '2026-12-01T00:00:00Z', '2026-12-04T00:00:00Z');
  });
});

describe('a zone with daylight saving (Europe/Berlin)', () => {
  const days = new RideDays([{ sinceMs: -Infinity, timeZone: 'Europe/Berlin' }]);
  it('the spring-forward day has 23 hours, the fall-back day 25', () => {
    const length = (d: string) => (days.bounds(d).to.getTime() - days.bounds(d).from.getTime()) / HOUR;
    expect(length('2026-03-29')).toBe(23);
    expect(length('2026-10-25')).toBe(25);
    expect(length('2026-06-01')).toBe(24);
    expect(midnightOf('2026-06-01', 'Europe/Berlin')).toBe(Date.parse('2026-05-31T22:00:00Z'));
    expectContiguous(days, '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z');
    expectContiguous(days, '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z');
  });
});

describe('switching a UTC calendar to a local zone', () => {
  it('east of UTC: the last UTC day ends at the first local midnight after it (shorter)', () => {
    const era = nextEra('2026-12-09', 'Asia/Shanghai');
    expect(new Date(era.sinceMs).toISOString()).toBe('2026-12-09T16:00:00.000Z');
    const days = new RideDays([{ sinceMs: -Infinity, timeZone: 'UTC' }, era]);
    expect(days.of(at('2026-12-08T23:59:00Z'))).toBe('2026-12-08');
    expect(days.of(at('2026-12-09T00:00:00Z'))).toBe('2026-12-09');
    expect(days.of(at('2026-12-09T15:59:59Z'))).toBe('2026-12-09');
    expect(days.of(at('2026-12-09T16:00:00Z'))).toBe('2026-12-10');
    expect(days.bounds('2026-12-08')).toEqual({
      from: at('2026-12-08T00:00:00Z'),
      to: at('2026-12-09T00:00:00Z'),
    });
    expect(days.bounds('2026-12-09')).toEqual({
      from: at('2026-12-09T00:00:00Z'),
      to: at('2026-12-09T16:00:00Z'),
    });
    expect(days.bounds('2026-12-10')).toEqual({
      from: at('2026-12-09T16:00:00Z'),
      to: at('2026-12-10T16:00:00Z'),
    });
    expectContiguous(days, '2026-12-07T00:00:00Z', '2026-12-12T00:00:00Z');
    expect(days.timeZone).toBe('Asia/Shanghai');
  });

  it('west of UTC: the last UTC day runs on to the first local midnight after it (longer); no name twice', () => {
    const era = nextEra('2026-12-09', 'America/New_York');
    expect(new Date(era.sinceMs).toISOString()).toBe('2026-12-10T05:00:00.000Z');
    const days = new RideDays([{ sinceMs: -Infinity, timeZone: 'UTC' }, era]);
    expect(days.of(at('2026-12-10T04:59:00Z'))).toBe('2026-12-09');
    expect(days.of(at('2026-12-10T05:00:00Z'))).toBe('2026-12-10');
    expect(days.bounds('2026-12-09')).toEqual({
      from: at('2026-12-09T00:00:00Z'),
      to: at('2026-12-10T05:00:00Z'),
    });
    expectContiguous(days, '2026-12-07T00:00:00Z', '2026-12-12T00:00:00Z');
  });

  it('a second switch stacks on the first', () => {
    const first = nextEra('2026-12-09', 'Asia/Shanghai');
    const second = nextEra('2026-12-20', 'America/New_York');
    const days = new RideDays([{ sinceMs: -Infinity, timeZone: 'UTC' }, first, second]);
    expect(days.of(at('2026-12-15T20:00:00Z'))).toBe('2026-12-16');
    expect(days.of(at('2026-12-21T04:00:00Z'))).toBe('2026-12-20');
    expectContiguous(days, '2026-12-07T00:00:00Z', '2026-12-24T00:00:00Z');
  });
});
