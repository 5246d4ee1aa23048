/** Degree 2: the contacts of close degree-1 contacts, after their contact with the case. */
import { describe, expect, it } from 'vitest';
import { byKey, csvFromPage, csvRecords } from '../support/exposures-csv.js';
import { HOUR, iso, MIN, useTraceKit } from '../support/trace-kit.js';

const { k } = useTraceKit();

describe('exposures: degree 2', () => {
  it('adds contacts of degree-1 close contacts (via), keeps degree-1 persons at degree 1, does not expand possible ones', async () => {
    const x = await k.vehicle('bus');
    const y = await k.vehicle('bus');
    const z = await k.vehicle('bus');
    const y0 = await k.vehicle('bus');
    const s = await k.person();
    const close1 = await k.person();
    const possible1 = await k.person();
    const second = await k.person();
    const viaPossible = await k.person();
    const tooFar = await k.person();
    const beforeContact = await k.person();

    await k.ride(s, x, 0);
    await k.ride(close1, x, 2 * MIN); // degree 1 close
    await k.ride(possible1, x, 20 * MIN); // degree 1 possible
    // close1 later (after the infectious window ends) meets `second` and again possible1.
    await k.ride(close1, y, HOUR);
    await k.ride(second, y, HOUR + 3 * MIN);
    await k.ride(possible1, y, HOUR + 5 * MIN);
    await k.ride(tooFar, y, HOUR + 31 * MIN);
    // possible1 is not expanded.
    await k.ride(possible1, z, 2 * HOUR);
    await k.ride(viaPossible, z, 2 * HOUR + MIN);
    // Before close1's first contact with the case: not traced.
    await k.ride(close1, y0, -30 * MIN);
    await k.ride(beforeContact, y0, -29 * MIN);

    const c = await k.openCase({ phone: s.phone }, -HOUR, 30 * MIN);
    const d1 = await k.exposures(c.id);
    expect(d1.degree).toBe(1);
    expect(d1.items.map((i) => i.personId)).toEqual([close1.id, possible1.id]);

    const d2 = await k.exposures(c.id, '?degree=2');
    expect(d2).toMatchObject({ degree: 2, caseRides: 1, total: 3 });
    expect(d2.items.map((i) => i.personId)).toEqual([close1.id, possible1.id, second.id]);
    const [e1, e2, e3] = d2.items;
    expect(e1).toMatchObject({ degree: 1, level: 'close' });
    expect(e1!.contacts).toEqual(d1.items[0]!.contacts);
    expect(e2).toMatchObject({ degree: 1, level: 'possible' });
    expect(e2!.contacts).toEqual(d1.items[1]!.contacts);
    expect(e3).toMatchObject({
      degree: 2,
      level: 'close',
      name: second.name,
      firstContactAt: iso(HOUR + 3 * MIN),
    });
    expect(e3!.contacts).toEqual([
      {
        carrier: { id: y.id, kind: 'bus', plate: y.plate, route: y.route, city: y.city },
        caseBoardedAt: iso(HOUR),
        contactBoardedAt: iso(HOUR + 3 * MIN),
        gapMinutes: 3,
        level: 'close',
        degree: 2,
        via: close1.id,
        flags: { carrierSwitch: false, lateOffline: true, manual: false }, // offline scans (the kit)
      },
    ]);
    const ids = d2.items.map((i) => i.personId);
    for (const p of [s, viaPossible, tooFar, beforeContact]) expect(ids).not.toContain(p.id);

    const csv = csvRecords(await k.csv(c.id, '?degree=2'));
    expect(csv.sort(byKey)).toEqual(csvFromPage(d2).sort(byKey));
    expect(csv.find((r) => r.person_id === second.id)).toMatchObject({ degree: '2', via: close1.id });
  });
});
