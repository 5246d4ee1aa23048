/**
 * An official person with a jurisdiction (cities) traces only rides on carriers of those cities: the case's rides
 * and so the contacts on them, and degree 2 from the degree-1 people found there, in the JSON, the CSV and the case's
 * rides. The replies and the audit entries name the jurisdiction applied; system clients and people without one see
 * every city.
 */
import type { AuditEntry, CaseRides } from '@ridetrace/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { byKey, csvFromPage, csvRecords } from '../support/exposures-csv.js';
import { enrolOfficial, signInOfficial } from '../support/flows.js';
import { HOUR, MIN, useTraceKit, type Person } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

/** The authorization header of a new official person (tracer) with this jurisdiction. */
async function tracerOf(jurisdiction?: string[]): Promise<string> {
  const e = await enrolOfficial(t, w.tokens.admin, ['tracer'], jurisdiction ? { jurisdiction } : {});
  return `Bearer ${(await signInOfficial(t, e)).accessToken}`;
}

async function caseRides(caseId: string, token: string): Promise<CaseRides> {
  const res = await t.http().get(`/v1/cases/${caseId}/rides`).set('authorization', token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as CaseRides;
}

const factsOf = (e: AuditEntry) => JSON.parse(e.detail!) as Record<string, unknown>;

let shenzhen: string;
let guangzhou: string;
let both: string;
let everywhere: string;
let caseId: string;
/** s: the subject; a, b: degree 1 in 深圳 and 广州; a2 (深圳), a3 (广州), b2 (深圳): degree 2 via a, a, b. */
let people: Record<'s' | 'a' | 'b' | 'a2' | 'a3' | 'b2', Person>;

beforeAll(async () => {
  [shenzhen, guangzhou, both, everywhere] = await Promise.all([
    tracerOf(['深圳']),
    tracerOf(['广州']),
    tracerOf(['深圳', '广州']),
    tracerOf(),
  ]);
  const szBus = await k.vehicle('bus', { city: '深圳' });
  const szMetro = await k.vehicle('metro', { city: '深圳' });
  const gzBus = await k.vehicle('bus', { city: '广州' });
  const gzTaxi = await k.vehicle('taxi', { city: '广州' });
  const [s, a, b, a2, a3, b2] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => k.person()));
  people = { s: s!, a: a!, b: b!, a2: a2!, a3: a3!, b2: b2! };
  await k.ride(s!, szBus, 0);
  await k.ride(a!, szBus, 2 * MIN);
  await k.ride(s!, gzBus, 3 * HOUR);
  await k.ride(b!, gzBus, 3 * HOUR + 2 * MIN);
  // After their contacts: a meets a2 in 深圳 and a3 in 广州; b meets b2 in 深圳.
  await k.ride(a!, szMetro, 4 * HOUR);
  await k.ride(a2!, szMetro, 4 * HOUR + MIN);
  await k.ride(a!, gzTaxi, 5 * HOUR);
  await k.ride(a3!, gzTaxi, 5 * HOUR + MIN);
  await k.ride(b!, szMetro, 6 * HOUR);
  await k.ride(b2!, szMetro, 6 * HOUR + MIN);
  caseId = (await k.openCase({ phone: s!.phone }, -HOUR, 4 * HOUR)).id;
});

const ids = (items: { personId: string }[]) => items.map((i) => i.personId);

describe('jurisdiction of official persons', () => {
  it('degree 1: only the contacts on carriers of the official’s cities', async () => {
    const { a, b } = people;
    const sz = await k.exposures(caseId, '', shenzhen);
    expect(sz).toMatchObject({ jurisdiction: ['深圳'], caseRides: 1, total: 1 });
    expect(ids(sz.items)).toEqual([a.id]);
    expect(sz.items[0]!.contacts.map((c) => c.carrier.city)).toEqual(['深圳']);

    const gz = await k.exposures(caseId, '', guangzhou);
    expect(gz).toMatchObject({ jurisdiction: ['广州'], caseRides: 1, total: 1 });
    expect(ids(gz.items)).toEqual([b.id]);

    for (const token of [both, everywhere, w.tokens.official]) {
      const all = await k.exposures(caseId, '', token);
      expect(all).toMatchObject({ caseRides: 2, total: 2 });
      expect(ids(all.items)).toEqual([a.id, b.id]);
    }
    expect((await k.exposures(caseId, '', both)).jurisdiction).toEqual(['深圳', '广州']);
    expect((await k.exposures(caseId, '', everywhere)).jurisdiction).toBeNull();
    expect((await k.exposures(caseId, '', w.tokens.official)).jurisdiction).toBeNull();
  });

  it('degree 2: from the degree-1 people found in the jurisdiction, on its carriers only', async () => {
    const { a, b, a2, a3, b2 } = people;
    const sz = await k.exposures(caseId, '?degree=2', shenzhen);
    // Not a3 (a 广州 taxi), not b2 (b is no degree-1 contact in 深圳).
    expect(ids(sz.items)).toEqual([a.id, a2.id]);
    expect(sz.items[1]!.contacts).toMatchObject([{ via: a.id, carrier: { city: '深圳' } }]);

    const gz = await k.exposures(caseId, '?degree=2', guangzhou);
    expect(ids(gz.items)).toEqual([b.id]);

    const all = await k.exposures(caseId, '?degree=2', w.tokens.official);
    expect(ids(all.items)).toEqual([a.id, b.id, a2.id, a3.id, b2.id]);
  });

  it('the CSV is limited the same way', async () => {
    const { a, a2 } = people;
    const records = csvRecords(await k.csv(caseId, '?degree=2', shenzhen));
    expect(records.map((r) => r.person_id).sort()).toEqual([a.id, a2.id].sort());
    expect(new Set(records.map((r) => r.city))).toEqual(new Set(['深圳']));
    const page = await k.exposures(caseId, '?degree=2', shenzhen);
    expect(records.sort(byKey)).toEqual(csvFromPage(page).sort(byKey));
  });

  it('the case’s rides are limited the same way', async () => {
    const sz = await caseRides(caseId, shenzhen);
    expect(sz.jurisdiction).toEqual(['深圳']);
    expect(sz.items.map((r) => r.carrier.city)).toEqual(['深圳']);
    const gz = await caseRides(caseId, guangzhou);
    expect(gz.items.map((r) => r.carrier.city)).toEqual(['广州']);
    const all = await caseRides(caseId, everywhere);
    expect(all.jurisdiction).toBeNull();
    expect(all.items.map((r) => r.carrier.city)).toEqual(['深圳', '广州']);
  });

  it('a city is compared exactly: 深圳市 is not 深圳', async () => {
    const other = await tracerOf(['深圳市']);
    const page = await k.exposures(caseId, '', other);
    expect(page).toMatchObject({ jurisdiction: ['深圳市'], caseRides: 0, total: 0, items: [] });
    expect((await caseRides(caseId, other)).items).toEqual([]);
  });

  it('the audit entries record the jurisdiction applied', async () => {
    const { s } = people;
    const c = await k.openCase({ phone: s.phone }, -HOUR, 4 * HOUR);
    await k.exposures(c.id, '', shenzhen);
    await k.csv(c.id, '', both);
    await caseRides(c.id, shenzhen);
    await k.exposures(c.id, '', w.tokens.official);
    // The reads, without the reveal grants the kit asks for first.
    const entries = (await k.audit(c.id)).filter((e) => !e.action.startsWith('reveal.'));
    expect(entries.map((e) => [e.action, e.actorKind, factsOf(e).jurisdiction])).toEqual([
      ['case.open', 'system', undefined],
      ['exposures.reveal', 'person', JSON.stringify(['深圳'])],
      ['exposures.export', 'person', JSON.stringify(['深圳', '广州'])],
      ['case.rides', 'person', JSON.stringify(['深圳'])],
      ['exposures.reveal', 'system', null],
    ]);
    expect(factsOf(entries[1]!)).toMatchObject({ returned: 1, total: 1 });
  });
});
