/**
 * Account deletion really unlinks: the deleted passenger's token is worth nothing on any passenger route (and a
 * status token issued before proves nothing), and the rides stay countable but can no longer be found from the
 * person, not even from the passenger id the tombstone keeps.
 */
import { localDay } from '../support/days.js';
import { createHmac, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, passengerIdOf } from '../support/flows.js';
import { confirmedPassenger } from '../support/test-app.js';
import { BASE, DAY, HOUR, MIN, useTraceKit, type Person, type Vehicle } from '../support/trace-kit.js';

// Not a load test: no load shedding while parallel test files share the CPU.
const { t, w, k } = useTraceKit({ NOTIFY_WORKER: 'off', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });

/** Every passenger route the API has today; the OpenAPI walk below must find at least these. */
const KNOWN_PASSENGER_ROUTES = [
  'DELETE /v1/passengers/me',
  'GET /v1/passengers/me',
  'GET /v1/passengers/me/access-log',
  'GET /v1/passengers/me/export',
  'GET /v1/passengers/me/itinerary',
  'GET /v1/passengers/me/notifications',
  'GET /v1/passengers/me/rides',
  'GET /v1/passengers/me/status',
  'POST /v1/passengers/me/confirm',
  'POST /v1/passengers/me/phone',
  'POST /v1/passengers/me/phone/otp',
  'POST /v1/passengers/me/phone/verify',
  'POST /v1/passengers/me/status-token',
  'POST /v1/passengers/me/subscriptions',
  'POST /v1/rides',
];

const DORA_USER = 'unlink-dora';
const DORA = { name: '欧阳朵拉', phone: '13900000071' };

let x: Vehicle;
let dora: Person;
let eve: Person;
let finn: Person;
let gus: Person;
let doraRides: string[];
let doraSecret: Buffer;
let statusToken: string;
let caseBefore: string;
let passengerRoutes: string[];

/** 'METHOD /path/{param}' of every bearer-protected operation in the OpenAPI description. */
async function bearerRoutes(): Promise<string[]> {
  const doc = await t.http().get('/docs/json').expect(200);
  const paths = doc.body.paths as Record<string, Record<string, { security?: object[] }>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      // JWT routes only (not the gateways' receipt token).
      .filter(([, op]) => op.security?.some((s) => 'bearerAuth' in s))
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
}

/** A request to `route` (path parameters filled with fresh uuids) as `auth`; JSON `body` for writes. */
function send(route: string, auth: string, body?: object) {
  const [method, template] = route.split(' ') as [string, string];
  const path = template.replace(/\{[^}]+\}/g, () => randomUUID());
  const req = t.http()[method.toLowerCase() as 'get' | 'post' | 'patch' | 'put' | 'delete'](path);
  req.set('authorization', auth);
  return method === 'GET' || method === 'DELETE' ? req : req.send(body ?? {});
}

const DELETE_ME = 'DELETE /v1/passengers/me';

/**
 * The operations a passenger token may call: every bearer operation that a live passenger's token gets anything
 * but 403 from (scopes are checked before the request is validated, so an empty request tells). The probe
 * deletes its own account last.
 */
async function discoverPassengerRoutes(): Promise<string[]> {
  const probe = await confirmedPassenger(t, 'unlink-probe', { name: '探针', phone: '13900000079' });
  const routes = (await bearerRoutes()).sort((a, b) => Number(a === DELETE_ME) - Number(b === DELETE_ME));
  const found: string[] = [];
  for (const route of routes) {
    const res = await send(route, probe);
    expect(res.status, route).not.toBe(401);
    if (res.status !== 403) found.push(route);
  }
  return found.sort();
}

/** Ride day keys from a day before BASE to a day after now: every day the scenario's rides are on. */
async function dayKeys() {
  const keys = [];
  for (let t0 = BASE - DAY; t0 <= Date.now() + DAY; t0 += DAY) {
    const k0 = await t.app.ctx.keyring.existingDayKey(t.db, localDay(t0));
    if (k0) keys.push(k0);
  }
  expect(keys.length).toBeGreaterThan(0);
  return keys;
}

/** How many rides carry a blind index computed (HMAC-SHA-256 with a day's index key) from `value`. */
async function ridesIndexedBy(value: Buffer | string): Promise<number> {
  const keys = (await dayKeys()).map((d) => createHmac('sha256', d.index).update(value).digest());
  const r = await sql<{ n: number }>`
    select count(*)::int as n from rides where passenger_key = any(${keys}::bytea[])`.execute(t.db);
  return r.rows[0]!.n;
}

async function passengerRow(id: string) {
  return t.db.selectFrom('passengers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

const exposedIds = async (caseId: string, query = '') => {
  const page = await k.exposures(caseId, query);
  return { ids: page.items.map((e) => e.personId).sort(), unlinkable: page.unlinkable, total: page.total };
};

beforeAll(async () => {
  x = await k.vehicle('bus');
  const y = await k.vehicle('bus');
  eve = await k.person();
  finn = await k.person();
  gus = await k.person();
  const doraAuth = await confirmedPassenger(t, DORA_USER, DORA);
  dora = { id: await passengerIdOf(t, doraAuth), auth: doraAuth, name: DORA.name, phone: DORA.phone };
  // Eve (the case) rides x with Dora and Finn; an hour later Dora rides y with Gus (Eve's degree 2, through Dora).
  await k.ride(eve, x, 0);
  doraRides = [await k.ride(dora, x, 2 * MIN), await k.ride(dora, y, HOUR)];
  await k.ride(finn, x, 3 * MIN);
  await k.ride(gus, y, HOUR + 2 * MIN);
  caseBefore = (await k.openCase({ phone: eve.phone }, -HOUR, 30 * MIN)).id;
  expect(await exposedIds(caseBefore, '?degree=2')).toEqual({
    ids: [dora.id, finn.id, gus.id].sort(),
    unlinkable: 0,
    total: 3,
  });
  const issued = await t
    .http()
    .post('/v1/passengers/me/status-token')
    .set('authorization', dora.auth)
    .expect(200);
  statusToken = issued.body.token as string;
  await t
    .http()
    .post('/v1/status/verify')
    .set('authorization', w.tokens.staff)
    .send({ token: statusToken })
    .expect(200);
  // Her rides are indexed by her link secret, never by her id.
  doraSecret = (await passengerRow(dora.id)).link_secret!;
  expect(doraSecret).toHaveLength(32);
  expect(await ridesIndexedBy(doraSecret)).toBe(2);
  expect(await ridesIndexedBy(dora.id)).toBe(0);

  passengerRoutes = await discoverPassengerRoutes();
  await t.http().delete('/v1/passengers/me').set('authorization', dora.auth).expect(204);
});

describe('the deleted passenger’s token', () => {
  it('the OpenAPI walk finds every passenger route', () => {
    expect(passengerRoutes).toEqual(expect.arrayContaining(KNOWN_PASSENGER_ROUTES));
  });

  it('every passenger route answers 401 token_invalid, and no ride is stored', async () => {
    const rides = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from rides`.execute(t.db)).rows[0]!.n;
    const before = await rides();
    // The scan reads no account before its INSERT: a valid scan must get as far as that.
    const bodies: Record<string, object> = {
      'POST /v1/rides': { code: x.code, clientRideId: randomUUID() },
    };
    for (const route of passengerRoutes) {
      const res = await send(route, dora.auth, bodies[route]);
      expect({ route, status: res.status, code: res.body?.error?.code }).toEqual({
        route,
        status: 401,
        code: 'token_invalid',
      });
      expectError(res, 401, 'token_invalid');
    }
    expect(await rides()).toBe(before);
  });

  it('a status token issued before the deletion is refused to staff (as expired: it tells no one why)', async () => {
    const res = await t
      .http()
      .post('/v1/status/verify')
      .set('authorization', w.tokens.staff)
      .send({ token: statusToken });
    expectError(res, 400, 'status_token_expired');
  });

  it('no bearer operation accepts it, even with an empty request', async () => {
    for (const route of await bearerRoutes()) {
      const res = await send(route, dora.auth);
      expect(res.status, route).toBeGreaterThanOrEqual(400);
      expect(res.status, route).toBeLessThan(500);
    }
  });
});

describe('her rides', () => {
  it('stay countable, but nothing on the tombstone finds them: no link secret, and not the id', async () => {
    const counted = await sql<{ n: number }>`
      select count(*)::int as n from rides where id = any(${doraRides}::uuid[])`.execute(t.db);
    expect(counted.rows[0]!.n).toBe(2);
    const row = await passengerRow(dora.id);
    expect(row).toMatchObject({ link_secret: null, link_since: null });
    expect(row.deleted_at).toBeInstanceOf(Date);
    // The index as the server computed it before link secrets (from the id), and from every value left on the row.
    expect(await ridesIndexedBy(dora.id)).toBe(0);
    for (const [column, value] of Object.entries(row)) {
      if (typeof value === 'string' || Buffer.isBuffer(value))
        expect(await ridesIndexedBy(value), `passengers.${column}`).toBe(0);
    }
  });

  it('a case opened before the deletion, and one opened after, count her as unlinkable and never list her', async () => {
    const caseAfter = (await k.openCase({ phone: eve.phone }, -HOUR, 30 * MIN)).id;
    for (const id of [caseBefore, caseAfter]) {
      expect(await exposedIds(id)).toEqual({ ids: [finn.id], unlinkable: 1, total: 1 });
      // Degree 2 no longer goes on through her rides: Gus met only her.
      expect(await exposedIds(id, '?degree=2')).toEqual({ ids: [finn.id], unlinkable: 1, total: 1 });
      const csv = await k.csv(id, '?degree=2');
      expect(csv.text).not.toContain(dora.id);
      expect(csv.text).not.toContain(gus.id);
    }
  });

  it('a case on her: 404 case_subject_unknown, by phone and by passenger id', async () => {
    const subjects: Record<string, string>[] = [{ phone: dora.phone }, { passengerId: dora.id }];
    for (const subject of subjects) {
      expectError(await k.createCase(subject, -HOUR, 30 * MIN), 404, 'case_subject_unknown');
    }
  });
});

describe('the same super-app user registering again', () => {
  it('starts fresh: a new pseudonym and link secret, none of the old rides, and the old token stays dead', async () => {
    const auth = await confirmedPassenger(t, DORA_USER, DORA);
    const id = await passengerIdOf(t, auth);
    expect(id).not.toBe(dora.id);
    const row = await passengerRow(id);
    expect(row.link_secret).toHaveLength(32);
    expect(row.link_secret!.equals(doraSecret)).toBe(false);
    const mine = await t.http().get('/v1/passengers/me/rides').set('authorization', auth).expect(200);
    expect(mine.body.items).toEqual([]);
    const ride = await k.ride({ ...dora, id, auth }, x, 4 * HOUR);
    const again = await t.http().get('/v1/passengers/me/rides').set('authorization', auth).expect(200);
    expect(again.body.items.map((r: { id: string }) => r.id)).toEqual([ride]);
    expect(await ridesIndexedBy(row.link_secret!)).toBe(1);
    expectError(
      await t.http().get('/v1/passengers/me/rides').set('authorization', dora.auth),
      401,
      'token_invalid',
    );
  });
});

describe('registrations from before link secrets (migration 0018)', () => {
  it('index by the id until their secret’s first day, also with a token issued before the secret', async () => {
    const auth = await confirmedPassenger(t, 'unlink-hal', { name: '韩一', phone: '13900000072' });
    const id = await passengerIdOf(t, auth);
    // As migration 0018 leaves a live registration: a secret that counts from the day after next.
    const since = localDay(Date.now() + 2 * DAY);
    await t.db.updateTable('passengers').set({ link_since: since }).where('id', '=', id).execute();
    // A token from before the deploy has no ride link: the scan reads it from the account.
    const old = `Bearer ${t.app.ctx.tokens.sign({ sub: id, role: 'passenger', scope: 'passenger', cv: t.config.consentVersion }, 600)}`;
    const byOld = await k.ride({ id, auth: old, name: '韩一', phone: '13900000072' }, x, 5 * HOUR);
    // A token issued now carries the link with its first day.
    const fresh = await confirmedPassenger(t, 'unlink-hal', { name: '韩一', phone: '13900000072' });
    const byFresh = await k.ride({ id, auth: fresh, name: '韩一', phone: '13900000072' }, x, 6 * HOUR);
    expect(await ridesIndexedBy(id)).toBe(2);
    const mine = await t.http().get('/v1/passengers/me/rides').set('authorization', fresh).expect(200);
    expect(mine.body.items.map((r: { id: string }) => r.id).sort()).toEqual([byOld, byFresh].sort());
    const c = await k.openCase({ phone: '13900000072' }, 4 * HOUR, 7 * HOUR);
    const rides = await t
      .http()
      .get(`/v1/cases/${c.id}/rides`)
      .set('authorization', w.tokens.official)
      .expect(200);
    expect(rides.body.items.map((r: { id: string }) => r.id).sort()).toEqual([byOld, byFresh].sort());
  });
});
