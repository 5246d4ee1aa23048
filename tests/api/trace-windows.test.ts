/** The overlap rule: who counts as a contact of a case ride, by carrier kind, window edge and infectious window. */
import type { ExposureLevel } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { HOUR, iso, MIN, SEC, useTraceKit, type Kind, type Person } from '../support/trace-kit.js';

const { k } = useTraceKit();

type Edge = { s: number; level: ExposureLevel | null; gap?: number };
const edge = (s: number, level: ExposureLevel | null, gap?: number): Edge => ({ s, level, gap });

/** Contacts at offsets (seconds) from the case's boarding: level null = not an exposure. */
const EDGES: Record<Kind, Edge[]> = {
  bus: [
    edge(0, 'close', 0),
    edge(600, 'close', 10),
    edge(601, 'possible', 10.02),
    edge(-600, 'close', 10),
    edge(-601, 'possible', 10.02),
    edge(1800, 'possible', 30),
    edge(1801, null),
    edge(-1800, 'possible', 30),
    edge(-1801, null),
  ],
  taxi: [
    edge(0, 'close', 0),
    edge(300, 'close', 5),
    edge(600, 'close', 10),
    edge(601, null),
    edge(-600, 'close', 10),
    edge(-601, null),
  ],
  metro: [
    edge(300, 'close', 5),
    edge(301, 'possible', 5.02),
    edge(-300, 'close', 5),
    edge(-301, 'possible', 5.02),
    edge(900, 'possible', 15),
    edge(901, null),
    edge(-900, 'possible', 15),
    edge(-901, null),
  ],
  ferry: [
    edge(1800, 'close', 30),
    edge(1801, 'possible', 30.02),
    edge(-1800, 'close', 30),
    edge(-1801, 'possible', 30.02),
    edge(3600, 'possible', 60),
    edge(3601, null),
    edge(-3600, 'possible', 60),
    edge(-3601, null),
  ],
};

describe('GET /v1/cases/:id/exposures: the overlap rule', () => {
  it.each(Object.keys(EDGES) as Kind[])(
    '%s: window edges inclusive, 1 s outside excluded; close/possible at the threshold; gapMinutes',
    async (kind) => {
      const v = await k.vehicle(kind);
      const other = await k.vehicle(kind);
      const subject = await k.person();
      await k.ride(subject, v, 0);
      const placed: { p: Person; e: Edge }[] = [];
      for (const e of EDGES[kind]) {
        const p = await k.person();
        await k.ride(p, v, e.s * SEC);
        placed.push({ p, e });
      }
      // Same time, same kind, another carrier: not an exposure.
      const elsewhere = await k.person();
      await k.ride(elsewhere, other, 0);

      const c = await k.openCase({ phone: subject.phone }, -HOUR, HOUR);
      const page = await k.exposures(c.id);
      const expected = placed.filter((x) => x.e.level !== null);
      expect(page).toMatchObject({
        caseId: c.id,
        degree: 1,
        caseRides: 1,
        total: expected.length,
        nextCursor: null,
      });
      // Ordered by level (close first), then first contact.
      const order = [...expected].sort(
        (a, b) => (a.e.level === b.e.level ? 0 : a.e.level === 'close' ? -1 : 1) || a.e.s - b.e.s,
      );
      expect(page.items.map((i) => i.personId)).toEqual(order.map((x) => x.p.id));
      for (const { p, e } of expected) {
        const item = page.items.find((i) => i.personId === p.id)!;
        expect(item).toMatchObject({
          name: p.name,
          phone: p.phone,
          idNumber: null,
          registration: 'app',
          level: e.level,
          degree: 1,
          firstContactAt: iso(e.s * SEC),
        });
        expect(item.contacts).toEqual([
          {
            carrier: { id: v.id, kind, plate: v.plate, route: v.route, city: v.city },
            caseBoardedAt: iso(0),
            contactBoardedAt: iso(e.s * SEC),
            gapMinutes: e.gap,
            level: e.level,
            degree: 1,
            via: null,
            flags: { carrierSwitch: false, lateOffline: true, manual: false }, // offline scans (the kit)
          },
        ]);
      }
      const ids = page.items.map((i) => i.personId);
      expect(ids).not.toContain(subject.id);
      expect(ids).not.toContain(elsewhere.id);
    },
  );

  it('bus: 30 min exactly in, 30 min + 1 s out; 10 min close, 10 min + 1 s possible (10.02); before the case the same', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    const at30 = await k.person();
    const at30s = await k.person();
    const at10 = await k.person();
    const at10s = await k.person();
    const before10 = await k.person();
    const before30s = await k.person();
    await k.ride(at30, v, 30 * MIN);
    await k.ride(at30s, v, 30 * MIN + SEC);
    await k.ride(at10, v, 10 * MIN);
    await k.ride(at10s, v, 10 * MIN + SEC);
    await k.ride(before10, v, -10 * MIN);
    await k.ride(before30s, v, -30 * MIN - SEC);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    const of = (p: Person) => page.items.find((i) => i.personId === p.id);
    expect(of(at30)).toMatchObject({ level: 'possible', contacts: [{ gapMinutes: 30, level: 'possible' }] });
    expect(of(at30s)).toBeUndefined();
    expect(of(at10)).toMatchObject({ level: 'close', contacts: [{ gapMinutes: 10, level: 'close' }] });
    expect(of(at10s)).toMatchObject({
      level: 'possible',
      contacts: [{ gapMinutes: 10.02, level: 'possible' }],
    });
    expect(of(before10)).toMatchObject({
      level: 'close',
      contacts: [{ gapMinutes: 10, level: 'close', caseBoardedAt: iso(0), contactBoardedAt: iso(-10 * MIN) }],
    });
    expect(of(before30s)).toBeUndefined();
    expect(page.total).toBe(4);
  });

  it('case rides outside the infectious window are ignored; contacts after its end still count', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, -3 * HOUR); // outside [−1 h, 0]
    await k.ride(s, v, 0); // exactly at infectiousTo
    const early = await k.person();
    await k.ride(early, v, -3 * HOUR + MIN);
    const late = await k.person();
    await k.ride(late, v, 20 * MIN); // after infectiousTo, inside the window of the case ride
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const page = await k.exposures(c.id);
    expect(page.caseRides).toBe(1);
    expect(page.items.map((i) => i.personId)).toEqual([late.id]);
    expect(page.items[0]!.contacts).toMatchObject([
      { caseBoardedAt: iso(0), gapMinutes: 20, level: 'possible' },
    ]);
  });

  it('infectious window bounds are inclusive for the case rides', async () => {
    const v = await k.vehicle('taxi');
    const s = await k.person();
    await k.ride(s, v, 0);
    const p = await k.person();
    await k.ride(p, v, 2 * MIN);
    const cases: [number, number, number][] = [
      [-HOUR, 0, 1],
      [-HOUR, -SEC, 0],
      [0, HOUR, 1],
      [SEC, HOUR, 0],
    ];
    for (const [from, to, rides] of cases) {
      const c = await k.openCase({ phone: s.phone }, from, to);
      const page = await k.exposures(c.id);
      expect({ from, to, caseRides: page.caseRides, total: page.total }).toEqual({
        from,
        to,
        caseRides: rides,
        total: rides,
      });
    }
  });

  it('a person met on several rides (two carriers) appears once with every contact; close when any is', async () => {
    const bus = await k.vehicle('bus');
    const metro = await k.vehicle('metro');
    const s = await k.person();
    await k.ride(s, bus, 0);
    await k.ride(s, metro, 2 * HOUR);
    const p = await k.person();
    await k.ride(p, bus, 20 * MIN); // possible
    await k.ride(p, metro, 2 * HOUR - 3 * MIN); // close (metro close 5 min), before the case boarded
    const q = await k.person();
    await k.ride(q, metro, 2 * HOUR + 10 * MIN); // possible (metro window 15)
    const c = await k.openCase({ passengerId: s.id }, -HOUR, 3 * HOUR);
    const page = await k.exposures(c.id);
    expect(page.caseRides).toBe(2);
    expect(page.total).toBe(2);
    expect(page.items.map((i) => i.personId)).toEqual([p.id, q.id]);
    const [ep, eq] = page.items;
    expect(ep).toMatchObject({ level: 'close', degree: 1, firstContactAt: iso(20 * MIN) });
    expect(ep!.contacts).toEqual([
      {
        carrier: { id: bus.id, kind: 'bus', plate: bus.plate, route: bus.route, city: bus.city },
        caseBoardedAt: iso(0),
        contactBoardedAt: iso(20 * MIN),
        gapMinutes: 20,
        level: 'possible',
        degree: 1,
        via: null,
        flags: { carrierSwitch: false, lateOffline: true, manual: false }, // offline scans (the kit)
      },
      {
        carrier: { id: metro.id, kind: 'metro', plate: metro.plate, route: metro.route, city: metro.city },
        caseBoardedAt: iso(2 * HOUR),
        contactBoardedAt: iso(2 * HOUR - 3 * MIN),
        gapMinutes: 3,
        level: 'close',
        degree: 1,
        via: null,
        flags: { carrierSwitch: false, lateOffline: true, manual: false }, // offline scans (the kit)
      },
    ]);
    expect(eq).toMatchObject({ level: 'possible', contacts: [{ gapMinutes: 10, level: 'possible' }] });
  });

  it('caseRides counts every case ride in the window, with or without co-passengers', async () => {
    const a = await k.vehicle('bus');
    const b = await k.vehicle('ferry');
    const s = await k.person();
    await k.ride(s, a, -50 * MIN);
    await k.ride(s, a, 0);
    await k.ride(s, b, 30 * MIN);
    await k.ride(s, b, 2 * HOUR); // outside the window
    const p = await k.person();
    await k.ride(p, a, MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.caseRides).toBe(3);
    // p: within 30 min of the ride at 0 only (51 min after the one at −50 min).
    expect(page.items.map((i) => i.personId)).toEqual([p.id]);
    expect(page.items[0]!.contacts).toHaveLength(1);

    const none = await k.openCase({ phone: s.phone }, HOUR, 90 * MIN);
    const empty = await k.exposures(none.id);
    expect(empty).toMatchObject({ caseRides: 0, total: 0, items: [], nextCursor: null });
  });

  it('a subject riding twice on one carrier is not its own contact', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    await k.ride(s, v, 10 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page).toMatchObject({ caseRides: 2, total: 0, items: [] });
  });
});
