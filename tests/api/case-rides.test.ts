/**
 * GET /v1/cases/:id/rides: the rides a trace starts from — every ride of the case subject in the infectious window,
 * oldest first, with carrier, source and flags — as an audited read recorded in the subject's access log.
 */
import { createClient } from '@ridetrace/server';
import { RideTraceClient, type Transport } from '@ridetrace/sdk';
import type { CaseRides } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { expectError, scanRide } from '../support/flows.js';
import { clientToken } from '../support/test-app.js';
import { BASE, HOUR, MIN, SEC, iso, useTraceKit, type Vehicle } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

async function caseRides(caseId: string, token = w.tokens.official): Promise<CaseRides> {
  const res = await t.http().get(`/v1/cases/${caseId}/rides`).set('authorization', token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as CaseRides;
}

const carrierOf = (v: Vehicle) => ({ id: v.id, kind: v.kind, plate: v.plate, route: v.route, city: v.city });

/** Milliseconds from BASE to now plus 30 s: an infectious window that ends now (a case may end ≤ 60 s ahead). */
const untilNow = () => Date.now() - BASE + 30 * SEC;

const logOf = async (auth: string) =>
  (await t.http().get('/v1/passengers/me/access-log').set('authorization', auth).expect(200)).body.items as {
    purpose: string;
  }[];

describe('the case subject’s rides', () => {
  it('every ride of the subject in the window, oldest first, with carrier, source, flags; no one else’s', async () => {
    const bus = await k.vehicle('bus', { staff: true });
    const metro = await k.vehicle('metro');
    const ferry = await k.vehicle('ferry');
    const s = await k.person();
    await k.ride(s, ferry, -2 * HOUR); // before the window
    const onBus = await k.ride(s, bus, 0);
    // Another carrier a minute later: the carrier-switch flag (RIDES_MIN_CARRIER_SWITCH_SECONDS 120).
    const onMetro = await k.ride(s, metro, MIN);
    // Staff register the subject by phone: matched to the app registration, a manual ride of the subject.
    const manual = await k.manualRide(bus, { name: s.name, phone: s.phone }, 2 * HOUR);
    expect(manual.rider.matched).toBe(true);
    const live = await scanRide(t, s.auth, ferry.code);
    // Co-passengers, one boarding at the very same instant as the subject: not rides of the case.
    await k.ride(await k.person(), bus, 0);
    await k.ride(await k.person(), bus, 2 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, untilNow());

    const got = await caseRides(c.id);
    expect(got).toEqual({
      caseId: c.id,
      jurisdiction: null,
      items: [
        {
          id: onBus,
          carrier: carrierOf(bus),
          boardedAt: iso(0),
          source: 'offline',
          flags: { carrierSwitch: false, lateOffline: true, manual: false },
        },
        {
          id: onMetro,
          carrier: carrierOf(metro),
          boardedAt: iso(MIN),
          source: 'offline',
          flags: { carrierSwitch: true, lateOffline: true, manual: false },
        },
        {
          id: manual.ride.id,
          carrier: carrierOf(bus),
          boardedAt: iso(2 * HOUR),
          source: 'manual',
          flags: { carrierSwitch: false, lateOffline: true, manual: true },
        },
        {
          id: live.id,
          carrier: carrierOf(ferry),
          boardedAt: live.boardedAt,
          source: 'scan',
          flags: { carrierSwitch: false, lateOffline: false, manual: false },
        },
      ],
    });
    // The same rides the exposures are traced from.
    expect((await k.exposures(c.id)).caseRides).toBe(4);
  });

  it('one audit entry case.rides per read, with what it returned', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    await k.ride(s, v, HOUR);
    const c = await k.openCase({ phone: s.phone }, -HOUR, 2 * HOUR);
    const readOnly = await createClient(t.db, { name: 'reader', role: 'official', scopes: ['trace:read'] });
    expect((await caseRides(c.id, await clientToken(t, readOnly))).items).toHaveLength(2);

    const entries = await k.audit(c.id);
    expect(entries.map((e) => [e.action, e.actor, e.people])).toEqual([
      ['case.open', w.official.clientId, 1],
      ['case.rides', readOnly.clientId, 1],
    ]);
    expect(JSON.parse(entries[1]!.detail!)).toMatchObject({ returned: 2, jurisdiction: null });
  });

  it('the subject’s access log records the read (case investigation); the co-passenger’s does not', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    const p = await k.person();
    await k.ride(s, v, 0);
    await k.ride(p, v, MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    // Opening the case wrote today's entry of the subject (one a day): start from none.
    await t.db.deleteFrom('passenger_access').where('case_id', '=', c.id).execute();
    await caseRides(c.id);
    expect((await logOf(s.auth)).map((e) => e.purpose)).toEqual(['case_investigation']);
    expect(await logOf(p.auth)).toEqual([]);
  });

  it('a case without rides in its window: no items; a closed case still answers', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 3 * HOUR);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    expect((await caseRides(c.id)).items).toEqual([]);
    await t.http().post(`/v1/cases/${c.id}/close`).set('authorization', w.tokens.official).expect(200);
    expect((await caseRides(c.id)).items).toEqual([]);
    const entry = (await k.audit(c.id)).find((e) => e.action === 'case.rides');
    expect(JSON.parse(entry!.detail!)).toMatchObject({ returned: 0 });
  });

  it('errors: unknown case 404, bad id 400, no token 401, no trace:read 403; none is audited', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const get = (id: string) => t.http().get(`/v1/cases/${id}/rides`);
    expectError(await get(unknown).set('authorization', w.tokens.official), 404, 'case_not_found');
    expectError(await get('nope').set('authorization', w.tokens.official), 400, 'validation_failed');
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    expectError(await get(c.id), 401, 'auth_required');
    expectError(await get(c.id).set('authorization', w.tokens.staff), 403, 'forbidden');
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open']);
  });

  it('the SDK reads them as caseRides(caseId)', async () => {
    const v = await k.vehicle('taxi');
    const s = await k.person();
    const ride = await k.ride(s, v, 0);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    // The app answers in-process: the SDK's requests go through inject instead of a socket.
    const inject: Transport = async (req) => {
      const url = new URL(req.url);
      const res = await t.app.inject({
        method: req.method,
        url: `${url.pathname}${url.search}`,
        headers: req.headers,
      });
      return { status: res.statusCode, headers: res.headers as Record<string, string>, data: res.json() };
    };
    const api = new RideTraceClient({
      baseUrl: 'http://ridetrace.test',
      token: w.tokens.official.replace(/^Bearer /, ''),
      transport: inject,
    });
    const got = await api.caseRides(c.id);
    expect(got.items.map((r) => [r.id, r.carrier.kind, r.source])).toEqual([[ride, 'taxi', 'offline']]);
  });
});
