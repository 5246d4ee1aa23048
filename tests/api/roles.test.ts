import { OFFICIAL_ROLES, type ClientWithSecret } from '@ridetrace/shared';
import { createHmac, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { createStaffedCarrier, enrolOfficial, expectError, signInOfficial } from '../support/flows.js';
import { clientToken, confirmedPassenger, createCarrier } from '../support/test-app.js';

/**
 * The role matrix: every route of the API × every kind of caller.
 *
 * To add a route, add one line to ROUTES: its declaration ('METHOD /path' as in the route file), who may
 * call it, and a valid request (url, body) with the status that request gets when allowed. The coverage
 * test below fails when the OpenAPI document lists a route that ROUTES lacks.
 */

const { t, w } = useWorld();

const CALLERS = [
  'none',
  'passenger',
  'staff',
  'operator',
  'official',
  'person',
  'fleet',
  'admin',
  'garbage',
  'expired',
] as const;
type Caller = (typeof CALLERS)[number];

/** Who may call a route: 'public' for everyone (tokens are ignored), otherwise the allowed token roles. */
type Allow = 'public' | readonly Exclude<Caller, 'none' | 'garbage' | 'expired'>[];

const PUBLIC: Allow = 'public';
/** Admin machine clients, and official persons with the admin role (here `person`). */
const ADMIN: Allow = ['admin', 'person'];
/** Operators' machine clients and console accounts (`fleet`: the operator role alone), and admins. */
const CARRIER_MANAGERS: Allow = ['operator', 'fleet', 'admin', 'person'];
const PASSENGER: Allow = ['passenger'];
const STAFF: Allow = ['staff'];
/** Official persons (here one holding every role) and the machine clients of health systems. */
const OFFICIAL: Allow = ['official', 'person'];
const AUDITORS: Allow = ['admin', 'person'];
const OFFICIALS_ADMINS: Allow = ['admin', 'person'];
const PERSON: Allow = ['person'];
/** Any signed-in console account, whatever its roles. */
const ANY_PERSON: Allow = ['person', 'fleet'];

/** Ids and codes the requests refer to; filled in beforeAll. */
interface Fixtures {
  /** A carrier of the operator that the matrix manages (patch, codes, staff). */
  carrierId: number;
  /** A carrier of the operator that the matrix retires. */
  retireeId: number;
  /** A carrier for rides: the staff account is bound to it, and its code is never replaced. */
  rideCarrierId: number;
  rideCodeUrl: string;
  rideCodeToken: string;
  /** A throwaway client the admin routes disable and re-key. */
  victimClientId: string;
  /** A staff client of the operator, bound and unbound by the matrix. */
  bindClientId: string;
  official: ClientWithSecret;
  operatorId: string;
  /** An official account the admin routes disable and reset (not the matrix's own person). */
  victimOfficialId: string;
}

interface RouteSpec {
  /** As declared in the route file: 'METHOD /path/:param'. */
  route: string;
  allow: Allow;
  /** The concrete URL (defaults to the declared path). */
  url?: (f: Fixtures) => string;
  body?: (f: Fixtures) => object;
  /**
   * The status of this (valid) request for an allowed caller. Without it, an allowed caller gets any 2xx,
   * or a 4xx that is neither 401 nor 403 (the request may be minimal).
   */
  ok?: number;
}

let plates = 0;
const nextPlate = () => `粤R${String(++plates).padStart(5, '0')}`;
/** An official account created through the admin API (initial password and TOTP enrolment). */
const enrolOfficialAs = (roles: string[], over: Record<string, unknown> = {}) =>
  enrolOfficial(t, w.tokens.admin, roles, { username: `matrix-person${++plates}`, name: '矩阵', ...over });

const ROUTES: RouteSpec[] = [
  // health, docs, landing page
  { route: 'GET /health', allow: PUBLIC, ok: 200 },
  { route: 'GET /ready', allow: PUBLIC, ok: 200 },
  { route: 'GET /docs/json', allow: PUBLIC, ok: 200 },
  { route: 'GET /c/:token', allow: PUBLIC, url: (f) => `/c/${f.rideCodeToken}`, ok: 200 },
  { route: 'GET /C/:token', allow: PUBLIC, url: (f) => `/C/${f.rideCodeToken}`, ok: 200 },
  { route: 'GET /v1/consent', allow: PUBLIC, ok: 200 },

  // auth
  {
    route: 'POST /v1/auth/passenger',
    allow: PUBLIC,
    body: () => ({ loginCode: 'ok:matrix-login' }),
    ok: 200,
  },
  {
    route: 'POST /v1/auth/official',
    allow: PUBLIC,
    body: () => ({ username: 'nobody' }),
  },
  {
    route: 'POST /v1/auth/official/refresh',
    allow: PUBLIC,
    body: () => ({}),
  },
  // The console's cookie sign-in and refresh: no bearer token counts (without the refresh cookie: 400).
  { route: 'POST /v1/auth/official/session', allow: PUBLIC, body: () => ({ username: 'nobody' }) },
  { route: 'POST /v1/auth/official/session/refresh', allow: PUBLIC },
  { route: 'GET /v1/officials/me', allow: ANY_PERSON, ok: 200 },
  { route: 'GET /v1/admin/officials', allow: OFFICIALS_ADMINS, ok: 200 },
  {
    route: 'POST /v1/admin/officials',
    allow: OFFICIALS_ADMINS,
    body: () => ({ username: `matrix${++plates}`, name: '矩阵', agency: 'x', roles: ['auditor'] }),
    ok: 201,
  },
  {
    route: 'POST /v1/admin/officials/:id/disable',
    allow: OFFICIALS_ADMINS,
    url: (f) => `/v1/admin/officials/${f.victimOfficialId}/disable`,
    ok: 200,
  },
  {
    route: 'POST /v1/admin/officials/:id/reset',
    allow: OFFICIALS_ADMINS,
    url: (f) => `/v1/admin/officials/${f.victimOfficialId}/reset`,
    ok: 200,
  },
  {
    route: 'POST /v1/auth/token',
    allow: PUBLIC,
    body: (f) => ({
      grantType: 'client_credentials',
      clientId: f.official.clientId,
      clientSecret: f.official.clientSecret,
    }),
    ok: 200,
  },

  // admin
  {
    route: 'POST /v1/admin/operators',
    allow: ADMIN,
    body: () => ({ id: `op-${randomUUID().slice(0, 8)}`, name: 'Matrix Ferries' }),
    ok: 201,
  },
  { route: 'GET /v1/admin/operators', allow: ADMIN, ok: 200 },
  {
    route: 'POST /v1/admin/clients',
    allow: ADMIN,
    body: () => ({ name: 'matrix official', role: 'official' }),
    ok: 201,
  },
  { route: 'GET /v1/admin/clients', allow: ADMIN, ok: 200 },
  {
    route: 'POST /v1/admin/clients/:clientId/disable',
    allow: ADMIN,
    url: (f) => `/v1/admin/clients/${f.victimClientId}/disable`,
    ok: 200,
  },
  {
    route: 'POST /v1/admin/clients/:clientId/secret',
    allow: ADMIN,
    url: (f) => `/v1/admin/clients/${f.victimClientId}/secret`,
    ok: 200,
  },

  // carrier management
  {
    route: 'POST /v1/carriers',
    allow: CARRIER_MANAGERS,
    body: (f) => ({ kind: 'bus', plate: nextPlate(), city: '深圳', operatorId: f.operatorId }),
    ok: 201,
  },
  { route: 'GET /v1/carriers', allow: CARRIER_MANAGERS, ok: 200 },
  {
    route: 'GET /v1/carriers/:id',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}`,
    ok: 200,
  },
  {
    route: 'PATCH /v1/carriers/:id',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}`,
    body: () => ({ route: 'M1' }),
    ok: 200,
  },
  {
    route: 'POST /v1/carriers/:id/retire',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.retireeId}/retire`,
    ok: 200,
  },
  {
    route: 'POST /v1/carriers/:id/code',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/code`,
    ok: 201,
  },
  {
    route: 'GET /v1/carriers/:id/code',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/code`,
    ok: 200,
  },
  {
    route: 'GET /v1/carriers/:id/code.svg',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/code.svg`,
    ok: 200,
  },
  {
    route: 'GET /v1/carriers/:id/code.png',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/code.png?size=64`,
    ok: 200,
  },
  {
    route: 'GET /v1/carriers/:id/staff',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/staff`,
    ok: 200,
  },
  {
    route: 'POST /v1/carriers/:id/staff',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/staff`,
    body: (f) => ({ clientId: f.bindClientId }),
    ok: 200,
  },
  {
    route: 'DELETE /v1/carriers/:id/staff/:clientId',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/staff/${f.bindClientId}`,
    ok: 200,
  },
  { route: 'GET /v1/staff-accounts', allow: CARRIER_MANAGERS, ok: 200 },
  {
    route: 'POST /v1/carriers/import',
    allow: CARRIER_MANAGERS,
    body: (f) => ({ csv: 'kind,plate,city\nbus,粤R99999,深圳\n', operatorId: f.operatorId, dryRun: true }),
    ok: 200,
  },
  {
    route: 'GET /v1/carriers/:id/poster.pdf',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/${f.carrierId}/poster.pdf`,
    ok: 200,
  },
  {
    route: 'GET /v1/carriers/posters.pdf',
    allow: CARRIER_MANAGERS,
    url: (f) => `/v1/carriers/posters.pdf?ids=${f.carrierId}`,
    ok: 200,
  },

  // staff
  { route: 'GET /v1/staff/me/carriers', allow: STAFF, ok: 200 },
  {
    route: 'POST /v1/carriers/:id/manual-rides',
    allow: STAFF,
    url: (f) => `/v1/carriers/${f.rideCarrierId}/manual-rides`,
    body: () => ({ name: '王五', phone: '13900002222' }),
    ok: 201,
  },

  // passengers and rides
  {
    route: 'POST /v1/rides',
    allow: PASSENGER,
    body: (f) => ({ code: f.rideCodeUrl, clientRideId: randomUUID() }),
    ok: 201,
  },
  {
    route: 'POST /v1/passengers/me/confirm',
    allow: PASSENGER,
    body: () => ({ name: '张三丰', phone: '13812345678', consentVersion: t.config.consentVersion }),
    ok: 200,
  },
  { route: 'GET /v1/passengers/me', allow: PASSENGER, ok: 200 },
  { route: 'GET /v1/passengers/me/rides', allow: PASSENGER, ok: 200 },
  {
    route: 'POST /v1/passengers/me/phone',
    allow: PASSENGER,
    body: () => ({ code: 'phone:13812345678' }),
    ok: 200,
  },
  // Minimal requests (a code is sent and checked in the phone verification tests).
  { route: 'POST /v1/passengers/me/phone/otp', allow: PASSENGER, body: () => ({ phone: 'x' }) },
  { route: 'POST /v1/passengers/me/phone/verify', allow: PASSENGER, body: () => ({ phone: 'x', code: '1' }) },
  {
    route: 'POST /v1/passengers/me/subscriptions',
    allow: PASSENGER,
    body: () => ({ templateId: t.config.superApp.exposureTemplateId, result: 'accept' }),
    ok: 200,
  },

  // Tracing, notifications, health status and audit (modules added later: minimal requests, class only)
  { route: 'POST /v1/cases', allow: OFFICIAL, body: () => ({}) },
  { route: 'GET /v1/cases', allow: OFFICIAL },
  { route: 'GET /v1/cases/:id', allow: OFFICIAL, url: () => `/v1/cases/${randomUUID()}` },
  { route: 'POST /v1/cases/:id/close', allow: OFFICIAL, url: () => `/v1/cases/${randomUUID()}/close` },
  {
    route: 'GET /v1/cases/:id/exposures',
    allow: OFFICIAL,
    url: () => `/v1/cases/${randomUUID()}/exposures`,
  },
  {
    route: 'GET /v1/cases/:id/exposures.csv',
    allow: OFFICIAL,
    url: () => `/v1/cases/${randomUUID()}/exposures.csv`,
  },
  { route: 'GET /v1/cases/:id/rides', allow: OFFICIAL, url: () => `/v1/cases/${randomUUID()}/rides` },
  { route: 'POST /v1/cases/:id/notify', allow: OFFICIAL, url: () => `/v1/cases/${randomUUID()}/notify` },
  {
    route: 'GET /v1/cases/:id/notifications',
    allow: OFFICIAL,
    url: () => `/v1/cases/${randomUUID()}/notifications`,
  },
  {
    route: 'POST /v1/cases/:id/reveal-requests',
    allow: OFFICIAL,
    url: () => `/v1/cases/${randomUUID()}/reveal-requests`,
    body: () => ({ reason: 'matrix' }),
  },
  { route: 'GET /v1/reveal-requests', allow: OFFICIAL, ok: 200 },
  { route: 'GET /v1/reveal-requests/:id', allow: OFFICIAL, url: () => `/v1/reveal-requests/${randomUUID()}` },
  // Deciding needs reveal:approve, which only official persons (supervisors) hold.
  {
    route: 'POST /v1/reveal-requests/:id/approve',
    allow: PERSON,
    url: () => `/v1/reveal-requests/${randomUUID()}/approve`,
  },
  {
    route: 'POST /v1/reveal-requests/:id/refuse',
    allow: PERSON,
    url: () => `/v1/reveal-requests/${randomUUID()}/refuse`,
  },
  // Gateways' receipts: DELIVERY_RECEIPT_TOKEN, not a role's token; unset here, so 404 route_not_found for all.
  {
    route: 'POST /v1/delivery-receipts/:channel',
    allow: PUBLIC,
    url: () => '/v1/delivery-receipts/sms',
    body: () => ({ receipts: [{ messageId: 'matrix', status: 'delivered' }] }),
  },
  { route: 'GET /v1/passengers/me/notifications', allow: PASSENGER },
  { route: 'GET /v1/passengers/me/status', allow: PASSENGER },
  { route: 'POST /v1/passengers/me/status-token', allow: PASSENGER },
  { route: 'GET /v1/passengers/me/itinerary', allow: PASSENGER },
  { route: 'POST /v1/status/verify', allow: STAFF, body: () => ({ token: 'not-a-status-token' }) },
  { route: 'POST /v1/status/clear', allow: OFFICIAL, body: () => ({}) },
  { route: 'GET /v1/audit', allow: AUDITORS },
  { route: 'GET /v1/audit/verify', allow: AUDITORS, ok: 200 },
  { route: 'GET /v1/passengers/me/export', allow: PASSENGER },
  { route: 'GET /v1/passengers/me/access-log', allow: PASSENGER, ok: 200 },
  // Next to last: it ends the person's session the other rows use.
  { route: 'POST /v1/auth/official/logout', allow: ANY_PERSON, ok: 204 },
  // Last: it deletes the passenger the other rows use.
  { route: 'DELETE /v1/passengers/me', allow: PASSENGER },
];

type Expect = 'allowed' | 'auth_required' | 'token_invalid' | 'token_expired' | 'forbidden';

function expected(spec: RouteSpec, caller: Caller): Expect {
  if (spec.allow === 'public') return 'allowed';
  if (caller === 'none') return 'auth_required';
  if (caller === 'garbage') return 'token_invalid';
  if (caller === 'expired') return 'token_expired';
  return (spec.allow as readonly string[]).includes(caller) ? 'allowed' : 'forbidden';
}

const CASES = ROUTES.flatMap((spec) =>
  CALLERS.map((caller) => ({ spec, caller, want: expected(spec, caller) })),
);

let fixtures: Fixtures;
const tokens = {} as Record<Caller, string | undefined>;

function send(method: string, url: string, auth?: string, body?: object) {
  const m = method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete' | 'put';
  let req = t.http()[m](url);
  if (auth !== undefined) req = req.set('authorization', auth);
  return body === undefined ? req : req.send(body);
}

/** A JWT signed with HS256 and `secret`, built by hand. */
function craftJwt(header: object, payload: object, secret: Buffer | string | null): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc(header)}.${enc(payload)}`;
  if (secret === null) return `${head}.`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

function claimsOf(bearer: string): Record<string, unknown> {
  const part = bearer.replace(/^Bearer /, '').split('.')[1]!;
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

beforeAll(async () => {
  const managed = await createCarrier(t, w.tokens.operator, {
    kind: 'bus',
    plate: '粤B00001',
    route: '1路',
    city: '深圳',
  });
  const retiree = await createCarrier(t, w.tokens.operator, {
    kind: 'taxi',
    plate: '粤B00002',
    city: '深圳',
  });
  const ride = await createStaffedCarrier(t, w, {
    kind: 'bus',
    plate: '粤B00003',
    route: '2路',
    city: '深圳',
  });
  const victim = await t
    .http()
    .post('/v1/admin/clients')
    .set('authorization', w.tokens.admin)
    .send({ name: 'victim', role: 'official' })
    .expect(201);

  fixtures = {
    carrierId: managed.carrier.id,
    retireeId: retiree.carrier.id,
    rideCarrierId: ride.carrier.id,
    rideCodeUrl: ride.code.url,
    rideCodeToken: ride.code.token,
    victimClientId: victim.body.clientId,
    bindClientId: w.otherStaff.clientId,
    official: w.official,
    operatorId: w.operatorId,
    victimOfficialId: (await enrolOfficialAs(['auditor'])).official.id,
  };

  tokens.none = undefined;
  tokens.passenger = await confirmedPassenger(t, 'matrix-passenger');
  tokens.staff = w.tokens.staff;
  tokens.operator = w.tokens.operator;
  tokens.official = w.tokens.official;
  tokens.admin = w.tokens.admin;
  const signedIn = async (roles: string[]) =>
    `Bearer ${(await signInOfficial(t, await enrolOfficialAs(roles, { operatorId: w.operatorId }))).accessToken}`;
  tokens.person = await signedIn([...OFFICIAL_ROLES]);
  tokens.fleet = await signedIn(['operator']);
  tokens.garbage = 'Bearer abc';
  tokens.expired = `Bearer ${t.app.ctx.tokens.sign({ sub: 'x', role: 'admin', scope: 'admin' }, -10)}`;
});

describe('role matrix', () => {
  it('the expired token is well signed but expired', () => {
    const claims = claimsOf(tokens.expired!);
    expect(claims).toMatchObject({ sub: 'x', role: 'admin', scope: 'admin', iss: 'ridetrace' });
    expect(claims.exp as number).toBeLessThan(Date.now() / 1000);
  });

  it('covers every route of the OpenAPI document (and nothing that does not exist)', async () => {
    const res = await t.http().get('/docs/json');
    expect(res.status).toBe(200);
    const documented: string[] = [];
    for (const [path, ops] of Object.entries(res.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) {
          documented.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
        }
      }
    }
    const hidden = ['GET /docs/json', 'GET /c/:token', 'GET /C/:token'];
    const inMatrix = ROUTES.map((r) => r.route);
    expect([...documented].sort()).toEqual(inMatrix.filter((r) => !hidden.includes(r)).sort());
    expect(new Set(inMatrix).size).toBe(inMatrix.length);
  });

  it.each(CASES.map((c) => [c.spec.route, c.caller, c.want, c] as const))(
    '%s as %s → %s',
    async (_route, caller, want, { spec }) => {
      const method = spec.route.split(' ')[0]!;
      const url = spec.url ? spec.url(fixtures) : spec.route.split(' ')[1]!;
      const res = await send(method, url, tokens[caller], spec.body?.(fixtures));
      const got = { status: res.status, code: res.body?.error?.code as string | undefined };
      switch (want) {
        case 'allowed':
          // Allowed: the request passed authentication and authorisation; this valid request succeeds.
          expect(got.status === 401 || got.status === 403).toBe(false);
          if (spec.ok !== undefined) {
            expect(got).toEqual({ status: spec.ok, code: undefined });
          } else if (got.status >= 400) {
            expect(got.status).toBeLessThan(500);
            expect(got.code).toEqual(expect.any(String));
          } else {
            expect(got).toEqual({
              status: expect.toSatisfy((s: number) => s >= 200 && s < 300),
              code: undefined,
            });
          }
          break;
        case 'forbidden':
          expect(got).toEqual({ status: 403, code: 'forbidden' });
          break;
        default:
          expect(got).toEqual({ status: 401, code: want });
      }
    },
  );
});

describe('tokens', () => {
  const protectedUrl = '/v1/admin/operators';

  it('malformed, foreign or tampered bearer tokens → 401 token_invalid', async () => {
    const secret = t.app.ctx.keyring.jwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'x', role: 'admin', scope: 'admin', iss: 'ridetrace', iat: now, exp: now + 600 };
    const good = craftJwt({ alg: 'HS256', typ: 'JWT' }, claims, secret);
    // The hand-made token with the server secret is accepted: the crafting is right.
    const accepted = await t.http().get(protectedUrl).set('authorization', `Bearer ${good}`);
    expect(accepted.status).toBe(200);

    const [h, p, s] = good.split('.') as [string, string, string];
    const bad: Record<string, string> = {
      garbage: 'abc',
      'three garbage parts': 'a.b.c',
      'other secret': craftJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'not-the-secret'),
      'alg none': craftJwt({ alg: 'none', typ: 'JWT' }, claims, null),
      'other issuer': craftJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'someone-else' }, secret),
      'HS512 with the secret': craftJwt({ alg: 'HS512', typ: 'JWT' }, claims, secret),
      'payload swapped': `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'y' })).toString('base64url')}.${s}`,
      'signature cut': `${h}.${p}.${s.slice(0, -2)}`,
      'not yet valid': craftJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, nbf: now + 600 }, secret),
      'two tokens': `${good} ${good}`,
    };
    for (const [what, token] of Object.entries(bad)) {
      const res = await t.http().get(protectedUrl).set('authorization', `Bearer ${token}`);
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({
        what,
        status: 401,
        code: 'token_invalid',
      });
    }
  });

  // A token without iss or exp was not issued here (fast-jwt checks an absent claim only if it is required).
  it('a token without iss or without exp, even with the server key → 401 token_invalid', async () => {
    const secret = t.app.ctx.keyring.jwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'x', role: 'admin', scope: 'admin', iss: 'ridetrace', iat: now, exp: now + 600 };
    const cases = { 'no issuer': { ...claims, iss: undefined }, 'no expiry': { ...claims, exp: undefined } };
    const got: object[] = [];
    for (const [what, payload] of Object.entries(cases)) {
      const token = craftJwt({ alg: 'HS256', typ: 'JWT' }, payload, secret);
      const res = await t.http().get(protectedUrl).set('authorization', `Bearer ${token}`);
      got.push({ what, status: res.status, code: res.body?.error?.code });
    }
    expect(got).toEqual(Object.keys(cases).map((what) => ({ what, status: 401, code: 'token_invalid' })));
  });

  it('an expired token (signed by hand) → 401 token_expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = craftJwt(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'x', role: 'admin', scope: 'admin', iss: 'ridetrace', iat: now - 700, exp: now - 100 },
      t.app.ctx.keyring.jwtSecret,
    );
    expectError(
      await t.http().get(protectedUrl).set('authorization', `Bearer ${token}`),
      401,
      'token_expired',
    );
  });

  it('no authorization header, or another scheme → 401 auth_required', async () => {
    expectError(await t.http().get(protectedUrl), 401, 'auth_required');
    expectError(
      await t.http().get(protectedUrl).set('authorization', 'Basic YWRtaW46YWRtaW4='),
      401,
      'auth_required',
    );
  });

  it('an unknown route is 404 route_not_found whoever asks', async () => {
    for (const auth of [undefined, w.tokens.admin, 'Bearer abc']) {
      expectError(await send('GET', '/v1/admin/nothing-here', auth), 404, 'route_not_found');
    }
  });
});

describe('client credentials and scopes', () => {
  function tokenRequest(client: ClientWithSecret, scope?: string, secret = client.clientSecret) {
    return t
      .http()
      .post('/v1/auth/token')
      .send({
        grantType: 'client_credentials',
        clientId: client.clientId,
        clientSecret: secret,
        ...(scope !== undefined ? { scope } : {}),
      });
  }

  it("a token carries all of the client's scopes by default, the role and the operator", async () => {
    // (seedWorld asked without a scope; /v1/auth/token allows 30 requests a minute, so reuse its tokens)
    expect(claimsOf(w.tokens.official)).toMatchObject({
      sub: w.official.clientId,
      role: 'official',
      scope: 'case:write trace:read trace:reveal trace:notify status:clear',
    });
    expect(claimsOf(w.tokens.operator)).toMatchObject({
      role: 'operator',
      scope: 'carriers:write',
      op: w.operatorId,
    });
    expect(claimsOf(w.tokens.staff)).toMatchObject({ role: 'staff', scope: 'staff', op: w.operatorId });
  });

  it('an official asking for trace:read gets only that scope, and only its routes', async () => {
    const auth = await clientToken(t, w.official, 'trace:read');
    expect(claimsOf(auth)).toMatchObject({ sub: w.official.clientId, role: 'official', scope: 'trace:read' });

    const cases = await t.http().get('/v1/cases').set('authorization', auth);
    expect(cases.status).toBe(200);
    // trace:notify routes are out of reach of this token, though the client holds that scope.
    expectError(
      await t.http().post(`/v1/cases/${randomUUID()}/notify`).set('authorization', auth),
      403,
      'forbidden',
    );
    expectError(
      await t
        .http()
        .post('/v1/status/clear')
        .set('authorization', auth)
        .send({ personId: randomUUID(), reason: 'test' }),
      403,
      'forbidden',
    );
  });

  it('an official asking for two of its scopes gets those two', async () => {
    const res = await tokenRequest(w.official, 'trace:notify trace:read');
    expect(res.status).toBe(200);
    const granted = String(res.body.scope).split(' ').sort();
    expect(granted).toEqual(['trace:notify', 'trace:read']);
    expect(
      String(claimsOf(`Bearer ${res.body.accessToken}`).scope)
        .split(' ')
        .sort(),
    ).toEqual(granted);
  });

  it('asking for a scope the client lacks → 403 forbidden', async () => {
    for (const [client, scope] of [
      [w.official, 'admin'],
      [w.official, 'trace:read admin'],
      [w.operator, 'admin'],
      [w.staff, 'carriers:write'],
      [w.official, 'no-such-scope'],
    ] as const) {
      const res = await tokenRequest(client, scope);
      expect({ scope, role: client.role, status: res.status, code: res.body?.error?.code }).toEqual({
        scope,
        role: client.role,
        status: 403,
        code: 'forbidden',
      });
    }
  });

  it('a wrong secret or an unknown client → 401 invalid_client', async () => {
    expectError(await tokenRequest(w.official, undefined, 'wrong-secret'), 401, 'invalid_client');
    expectError(
      await tokenRequest({ ...w.official, clientId: 'official_doesnotexist' }),
      401,
      'invalid_client',
    );
  });

  it('a disabled client cannot get a token (401 invalid_client)', async () => {
    const created = await t
      .http()
      .post('/v1/admin/clients')
      .set('authorization', w.tokens.admin)
      .send({ name: 'soon disabled', role: 'official', scopes: ['trace:read'] });
    expect(created.status).toBe(201);
    const client = created.body as ClientWithSecret;
    expect(client).toMatchObject({ role: 'official', scopes: ['trace:read'], disabledAt: null });
    expect((await tokenRequest(client)).status).toBe(200);

    const disabled = await t
      .http()
      .post(`/v1/admin/clients/${client.clientId}/disable`)
      .set('authorization', w.tokens.admin);
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ clientId: client.clientId });
    expect(Date.parse(disabled.body.disabledAt)).not.toBeNaN();

    expectError(await tokenRequest(client), 401, 'invalid_client');
    expectError(await tokenRequest(client, 'trace:read'), 401, 'invalid_client');

    const listed = await t.http().get('/v1/admin/clients').set('authorization', w.tokens.admin);
    expect(listed.status).toBe(200);
    const row = (listed.body.items as { clientId: string; disabledAt: string | null }[]).find(
      (c) => c.clientId === client.clientId,
    );
    expect(row?.disabledAt).toEqual(disabled.body.disabledAt);
    expect(JSON.stringify(listed.body)).not.toContain('secret');
  });

  it('disabling an unknown client → 404 client_not_found', async () => {
    const res = await t
      .http()
      .post('/v1/admin/clients/official_doesnotexist/disable')
      .set('authorization', w.tokens.admin);
    expectError(res, 404, 'client_not_found');
  });

  it('a rotated secret replaces the old one', async () => {
    const created = await t
      .http()
      .post('/v1/admin/clients')
      .set('authorization', w.tokens.admin)
      .send({ name: 'rotating', role: 'official' })
      .expect(201);
    const client = created.body as ClientWithSecret;
    const rotated = await t
      .http()
      .post(`/v1/admin/clients/${client.clientId}/secret`)
      .set('authorization', w.tokens.admin);
    expect(rotated.status).toBe(200);
    expect(rotated.body.clientSecret).not.toBe(client.clientSecret);
    expectError(await tokenRequest(client), 401, 'invalid_client');
    expect((await tokenRequest(client, undefined, rotated.body.clientSecret)).status).toBe(200);
  });
});
