/**
 * Every contact of the exposures carries the flags of the exposed person's ride: carrierSwitch (the carrier-switch
 * flag set at registration), lateOffline (registered late) and manual (registered by staff); the CSV has them as
 * carrier_switch, late_offline and manual.
 */
import type { ExposurePage, RideFlags } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { byKey, csvFromPage, csvRecords } from '../support/exposures-csv.js';
import { registerManualRide, scanRide } from '../support/flows.js';
import { HOUR, MIN, SEC, BASE, newName, newPhone, next, useTraceKit } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

const flags = (carrierSwitch: boolean, lateOffline: boolean, manual: boolean): RideFlags => ({
  carrierSwitch,
  lateOffline,
  manual,
});

/** The flags of each person's contacts on the page, by person id. */
const flagsByPerson = (page: ExposurePage) =>
  Object.fromEntries(page.items.map((i) => [i.personId, i.contacts.map((c) => c.flags)]));

describe('flags on exposures', () => {
  it('offline scans, a carrier switch and staff registration, in the JSON and the CSV', async () => {
    const bus = await k.vehicle('bus', { staff: true });
    const metro = await k.vehicle('metro');
    const s = await k.person();
    await k.ride(s, bus, 0);
    // Rode the metro a minute before the bus: the bus ride is flagged (RIDES_MIN_CARRIER_SWITCH_SECONDS 120).
    const switcher = await k.person();
    await k.ride(switcher, metro, 0);
    await k.ride(switcher, bus, MIN);
    const offline = await k.person();
    await k.ride(offline, bus, 3 * MIN);
    const rider = { name: newName(next()), phone: newPhone(next()) };
    await k.manualRide(bus, rider, 4 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);

    const page = await k.exposures(c.id);
    expect(page.total).toBe(3);
    const manualId = page.items.find((i) => i.registration === 'manual')!.personId;
    expect(flagsByPerson(page)).toEqual({
      [switcher.id]: [flags(true, true, false)],
      [offline.id]: [flags(false, true, false)],
      [manualId]: [flags(false, true, true)],
    });

    const records = csvRecords(await k.csv(c.id));
    expect(records.sort(byKey)).toEqual(csvFromPage(page).sort(byKey));
    expect(
      Object.fromEntries(records.map((r) => [r.person_id, [r.carrier_switch, r.late_offline, r.manual]])),
    ).toEqual({
      [switcher.id]: ['true', 'true', 'false'],
      [offline.id]: ['false', 'true', 'false'],
      [manualId]: ['false', 'true', 'true'],
    });
  });

  it('live scans and staff registering at boarding time are not late', async () => {
    const bus = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await scanRide(t, s.auth, bus.code);
    const p = await k.person();
    await scanRide(t, p.auth, bus.code);
    const rider = { name: newName(next()), phone: newPhone(next()) };
    await registerManualRide(t, w, bus.id, { ...rider, boardedAt: new Date().toISOString() });
    const c = await k.openCase({ phone: s.phone }, -HOUR, Date.now() - BASE + 30 * SEC);

    const page = await k.exposures(c.id);
    const manualId = page.items.find((i) => i.registration === 'manual')!.personId;
    expect(flagsByPerson(page)).toEqual({
      [p.id]: [flags(false, false, false)],
      [manualId]: [flags(false, false, true)],
    });
    const records = csvRecords(await k.csv(c.id));
    expect(records.find((r) => r.person_id === p.id)).toMatchObject({
      carrier_switch: 'false',
      late_offline: 'false',
      manual: 'false',
    });
  });

  it('a contact met on two rides carries each ride’s own flags; degree-2 contacts carry theirs', async () => {
    const bus = await k.vehicle('bus');
    const ferry = await k.vehicle('ferry');
    const taxi = await k.vehicle('taxi');
    const s = await k.person();
    await k.ride(s, bus, 0);
    await k.ride(s, ferry, HOUR);
    const p = await k.person();
    await k.ride(p, bus, 2 * MIN);
    // A taxi 30 s before the ferry: the ferry ride is a carrier switch.
    await k.ride(p, taxi, HOUR - 30 * SEC);
    await k.ride(p, ferry, HOUR);
    // Degree 2: q meets p on the taxi after p's first contact with the case.
    const q = await k.person();
    await k.ride(p, taxi, 2 * HOUR);
    await k.ride(q, taxi, 2 * HOUR + MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, 3 * HOUR);

    const page = await k.exposures(c.id, '?degree=2');
    expect(page.items.map((i) => [i.personId, i.degree])).toEqual([
      [p.id, 1],
      [q.id, 2],
    ]);
    expect(flagsByPerson(page)).toEqual({
      [p.id]: [flags(false, true, false), flags(true, true, false)],
      [q.id]: [flags(false, true, false)],
    });
  });
});
