/** The trace's windows and the degree-2 limit follow the server's configuration. */
import { describe, expect, it } from 'vitest';
import { expectError } from '../support/flows.js';
import { HOUR, MIN, SEC, useTraceKit, type Kit, type Person } from '../support/trace-kit.js';

const { k } = useTraceKit();

describe('exposures: configuration', () => {
  const { k: k2 } = useTraceKit({ TRACE_BUS_WINDOW_MINUTES: '5', TRACE_TAXI_CLOSE_MINUTES: '2' });
  const { t: t3, k: k3 } = useTraceKit({ TRACE_MAX_DEGREE1_FOR_DEGREE2: '1' });

  /** The same rides in an app: bus contacts at 5 min, 5 min + 1 s, 20 min, −30 min; a taxi contact at 3 min. */
  async function scenario(kit: Kit) {
    const bus = await kit.vehicle('bus');
    const taxi = await kit.vehicle('taxi');
    const s = await kit.person();
    await kit.ride(s, bus, 0);
    await kit.ride(s, taxi, HOUR);
    const offsets = [5 * MIN, 5 * MIN + SEC, 20 * MIN, -30 * MIN];
    const busPeople: Person[] = [];
    for (const o of offsets) {
      const p = await kit.person();
      await kit.ride(p, bus, o);
      busPeople.push(p);
    }
    const taxiPerson = await kit.person();
    await kit.ride(taxiPerson, taxi, HOUR + 3 * MIN);
    const c = await kit.openCase({ phone: s.phone }, -HOUR, 2 * HOUR);
    return { page: await kit.exposures(c.id), busPeople, taxiPerson };
  }

  it('TRACE_BUS_WINDOW_MINUTES=5 and TRACE_TAXI_CLOSE_MINUTES=2 change the result', async () => {
    const def = await scenario(k);
    expect(def.page.total).toBe(5);
    expect(def.page.items.find((i) => i.personId === def.taxiPerson.id)!.level).toBe('close');
    for (const p of def.busPeople) expect(def.page.items.some((i) => i.personId === p.id)).toBe(true);

    const conf = await scenario(k2);
    expect(conf.page.total).toBe(2);
    const [at5] = conf.busPeople;
    expect(conf.page.items.find((i) => i.personId === at5!.id)).toMatchObject({
      level: 'close',
      contacts: [{ gapMinutes: 5 }],
    });
    for (const p of conf.busPeople.slice(1))
      expect(conf.page.items.some((i) => i.personId === p.id)).toBe(false);
    expect(conf.page.items.find((i) => i.personId === conf.taxiPerson.id)).toMatchObject({
      level: 'possible',
      contacts: [{ gapMinutes: 3, level: 'possible' }],
    });
  });

  it('TRACE_MAX_DEGREE1_FOR_DEGREE2=1: two close degree-1 contacts → 422 too_many_contacts', async () => {
    const v = await k3.vehicle('bus');
    const s = await k3.person();
    await k3.ride(s, v, 0);
    const a = await k3.person();
    const b = await k3.person();
    await k3.ride(a, v, MIN);
    await k3.ride(b, v, 2 * MIN);
    const c = await k3.openCase({ phone: s.phone }, -HOUR, HOUR);
    const d1 = await k3.exposures(c.id);
    expect(d1.total).toBe(2);
    const get = (path: string) => t3.http().get(path).set('authorization', k3.w.tokens.official);
    expectError(await get(`/v1/cases/${c.id}/exposures?degree=2`), 422, 'too_many_contacts');
    expectError(await get(`/v1/cases/${c.id}/exposures.csv?degree=2`), 422, 'too_many_contacts');
  });

  it('TRACE_MAX_DEGREE1_FOR_DEGREE2=1: possible contacts do not count toward the limit', async () => {
    const v = await k3.vehicle('bus');
    const s = await k3.person();
    await k3.ride(s, v, 0);
    const a = await k3.person();
    const b = await k3.person();
    await k3.ride(a, v, MIN); // close
    await k3.ride(b, v, 25 * MIN); // possible
    const c = await k3.openCase({ phone: s.phone }, -HOUR, HOUR);
    const d2 = await k3.exposures(c.id, '?degree=2');
    expect(d2.total).toBe(2);
  });
});
