/**
 * The officials' console signs in with cookies: httpOnly SameSite=Strict cookies hold the tokens, unsafe requests
 * made with the cookie need the session's CSRF header, refresh rotates the cookies, logout clears them; bearer
 * tokens keep working unchanged, and no other origin may use the cookie with credentials.
 */
import { RideTraceClient, RideTraceError } from '@ridetrace/sdk';
import { loadConfig } from '@ridetrace/server';
import { CSRF_HEADER, OFFICIAL_COOKIES } from '@ridetrace/shared';
import type { AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import {
  enrolOfficial,
  expectError,
  openCase,
  signInOfficial,
  totpOf,
  type OfficialEnrolment,
} from '../support/flows.js';
import { buildTestApp, confirmedPassenger, type TestApp } from '../support/test-app.js';

const H5_ORIGIN = 'http://127.0.0.1:10086';
const { t, w } = useWorld({ CORS_ORIGINS: H5_ORIGIN, RATE_LIMIT_LOGIN_PER_MINUTE: '1000' });

const DAY = 86_400_000;
const REFRESH_PATH = '/v1/auth/official/session/refresh';

interface SetCookie {
  value: string;
  /** Attribute names in lower case; flags (HttpOnly, Secure) map to ''. */
  attrs: Record<string, string>;
}

/** The Set-Cookie headers of a reply, by cookie name. */
function setCookies(res: Response): Record<string, SetCookie> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const out: Record<string, SetCookie> = {};
  for (const line of raw ?? []) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    out[pair!.slice(0, eq)] = {
      value: decodeURIComponent(pair!.slice(eq + 1)),
      attrs: Object.fromEntries(
        attrs.map((a) => {
          const i = a.indexOf('=');
          return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)];
        }),
      ),
    };
  }
  return out;
}

/** What a browser holds after a cookie sign-in or refresh. */
interface Session {
  access: string;
  refresh: string;
  csrf: string;
  body: Record<string, unknown>;
}

const cookie = (name: string, value: string) => `${name}=${value}`;
const accessCookie = (s: Pick<Session, 'access'>) => cookie(OFFICIAL_COOKIES.access, s.access);
const refreshCookie = (s: Pick<Session, 'refresh'>) => cookie(OFFICIAL_COOKIES.refresh, s.refresh);

function sessionOf(res: Response): Session {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const set = setCookies(res);
  return {
    access: set[OFFICIAL_COOKIES.access]!.value,
    refresh: set[OFFICIAL_COOKIES.refresh]!.value,
    csrf: res.body.csrfToken as string,
    body: res.body as Record<string, unknown>,
  };
}

const signInBody = (e: OfficialEnrolment, step = 0) => ({
  username: e.official.username,
  password: e.password,
  totp: totpOf(e, step),
});

const cookieSignIn = (app: TestApp, e: OfficialEnrolment, step = 0) =>
  app.http().post('/v1/auth/official/session').send(signInBody(e, step));

async function tracer(): Promise<OfficialEnrolment> {
  return enrolOfficial(t, w.tokens.admin, ['tracer']);
}

let subjects = 0;
/** A confirmed passenger a case can be opened on; the body of POST /v1/cases. */
async function caseBody() {
  const phone = `1390000${String(++subjects).padStart(4, '0')}`;
  await confirmedPassenger(t, `cookie-subject-${subjects}`, { name: '陈静', phone });
  const now = Date.now();
  return {
    subject: { phone },
    infectiousFrom: new Date(now - DAY).toISOString(),
    infectiousTo: new Date(now).toISOString(),
    caseNumber: `COOKIE-${subjects}`,
    reason: 'cookie session test',
  };
}

describe('cookie sign-in', () => {
  it('sets httpOnly SameSite=Strict cookies scoped by path; the body holds the CSRF token, never a token', async () => {
    const e = await tracer();
    const res = await cookieSignIn(t, e);
    const s = sessionOf(res);
    expect(Object.keys(s.body).sort()).toEqual(['csrfToken', 'expiresIn', 'official', 'refreshExpiresAt']);
    expect(s.body.official).toMatchObject({ username: e.official.username, roles: ['tracer'] });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(s.access);
    expect(text).not.toContain(s.refresh);

    const set = setCookies(res);
    expect(set[OFFICIAL_COOKIES.access]!.attrs).toEqual({
      'max-age': String(t.config.officials.tokenTtlSeconds),
      path: '/v1',
      httponly: '',
      samesite: 'Strict',
    });
    const sessionSeconds = t.config.officials.sessionHours * 3600;
    const refresh = set[OFFICIAL_COOKIES.refresh]!.attrs;
    expect(refresh).toMatchObject({ path: REFRESH_PATH, httponly: '', samesite: 'Strict' });
    expect(Number(refresh['max-age'])).toBeGreaterThan(sessionSeconds - 5);
    expect(Number(refresh['max-age'])).toBeLessThanOrEqual(sessionSeconds);
    const csrf = set[OFFICIAL_COOKIES.csrf]!;
    expect(csrf.value).toBe(s.csrf);
    expect(csrf.attrs).toMatchObject({ path: '/', samesite: 'Strict' });
    expect(csrf.attrs).not.toHaveProperty('httponly');
    for (const c of Object.values(set)) expect(c.attrs).not.toHaveProperty('secure');
  });

  it('wrong credentials set no cookie and answer like the bearer sign-in', async () => {
    const e = await tracer();
    const res = await t
      .http()
      .post('/v1/auth/official/session')
      .send({ ...signInBody(e), password: 'wrong' });
    expectError(res, 401, 'sign_in_failed');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('cookies are Secure when production-configured (COOKIE_SECURE, and always in production)', async () => {
    const secure = await buildTestApp({ url: t.url, db: t.db, drop: async () => {} }, t.superApp, {
      COOKIE_SECURE: 'true',
      NOTIFY_WORKER: 'off',
    });
    try {
      const set = setCookies(await cookieSignIn(secure, await tracer()));
      expect(Object.keys(set).sort()).toEqual(Object.values(OFFICIAL_COOKIES).sort());
      for (const c of Object.values(set)) expect(c.attrs).toHaveProperty('secure', '');
    } finally {
      await secure.close();
    }
    const production = {
      NODE_ENV: 'production',
      RIDETRACE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      DATABASE_URL: 'postgres://localhost/ridetrace',
      PUBLIC_BASE_URL: 'https://rt.example.cn',
      SUPERAPP_BASE_URL: 'https://superapp.example.cn',
      SUPERAPP_APP_ID: 'app',
      SUPERAPP_APP_SECRET: 'secret',
      SMS_BASE_URL: 'https://sms.example.cn',
      SMS_API_KEY: 'key',
      CONSENT_CONTROLLER: '深圳市交通运输局',
      CONSENT_CONTACT: 'privacy@rt.example.cn',
      AUDIT_CHECKPOINT_SECONDS: '0',
    };
    expect(loadConfig(production).officials.cookieSecure).toBe(true);
    expect(() => loadConfig({ ...production, COOKIE_SECURE: 'false' })).toThrow(/COOKIE_SECURE/);
    expect(loadConfig({ NODE_ENV: 'test' }).officials.cookieSecure).toBe(false);
  });
});

describe('requests with the session cookie', () => {
  let e: OfficialEnrolment;
  let s: Session;
  beforeAll(async () => {
    e = await tracer();
    s = sessionOf(await cookieSignIn(t, e));
  });

  it('reads like a bearer token: who-am-I and the cases list', async () => {
    const me = await t.http().get('/v1/officials/me').set('cookie', accessCookie(s));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: e.official.id, username: e.official.username });
    expect((await t.http().get('/v1/cases').set('cookie', accessCookie(s))).status).toBe(200);
  });

  it('a change needs the CSRF header: none or a wrong one is 403 csrf_invalid, the right one works', async () => {
    const body = await caseBody();
    const post = () => t.http().post('/v1/cases').set('cookie', accessCookie(s)).send(body);
    expectError(await post(), 403, 'csrf_invalid');
    expectError(await post().set(CSRF_HEADER, `${s.csrf}x`), 403, 'csrf_invalid');
    expectError(await post().set(CSRF_HEADER, ''), 403, 'csrf_invalid');
    // Another session's token is wrong too: the token is bound to the session.
    const other = sessionOf(await cookieSignIn(t, await tracer()));
    expectError(await post().set(CSRF_HEADER, other.csrf), 403, 'csrf_invalid');
    const opened = await post().set(CSRF_HEADER, s.csrf);
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    // The case is the person's: the audit names them.
    const log = await t.http().get(`/v1/audit?caseId=${opened.body.id}`).set('authorization', w.tokens.admin);
    expect(log.body.items).toContainEqual(
      expect.objectContaining({ action: 'case.open', actor: e.official.id, actorKind: 'person' }),
    );
  });

  it('bearer requests need no CSRF header; with both, the Authorization header counts', async () => {
    const bearer = `Bearer ${(await signInOfficial(t, await tracer())).accessToken}`;
    const opened = await openCase(t, bearer, await caseBody());
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    // Header and cookie: the header's token acts, so no CSRF header is asked for.
    const both = await t
      .http()
      .post('/v1/cases')
      .set('authorization', bearer)
      .set('cookie', accessCookie(s))
      .send(await caseBody());
    expect(both.status, JSON.stringify(both.body)).toBe(201);
    const me = await t
      .http()
      .get('/v1/officials/me')
      .set('authorization', bearer)
      .set('cookie', accessCookie(s));
    expect(me.body.id).not.toBe(e.official.id);
    // A bad header is not rescued by a good cookie.
    expectError(
      await t
        .http()
        .get('/v1/officials/me')
        .set('authorization', 'Basic eA==')
        .set('cookie', accessCookie(s)),
      401,
      'auth_required',
    );
  });

  it('the cookie holds only a session token: another token there, or a forged one, is 401', async () => {
    const clientToken = w.tokens.official.replace(/^Bearer /, '');
    expectError(
      await t.http().get('/v1/cases').set('cookie', cookie(OFFICIAL_COOKIES.access, clientToken)),
      401,
      'token_invalid',
    );
    expectError(
      await t
        .http()
        .get('/v1/cases')
        .set('cookie', cookie(OFFICIAL_COOKIES.access, `${s.access}x`)),
      401,
      'token_invalid',
    );
    // Passenger routes: an official's cookie has no passenger scope.
    expectError(await t.http().get('/v1/passengers/me').set('cookie', accessCookie(s)), 403, 'forbidden');
  });
});

describe('refresh and logout', () => {
  it('refresh needs the CSRF header, rotates the cookies, and the old refresh cookie fails', async () => {
    const s = sessionOf(await cookieSignIn(t, await tracer()));
    const refresh = (c: Session) => t.http().post(REFRESH_PATH).set('cookie', refreshCookie(c));
    expectError(await refresh(s), 403, 'csrf_invalid');
    expectError(await t.http().post(REFRESH_PATH).set(CSRF_HEADER, s.csrf), 400, 'validation_failed');
    // The refused refresh left the refresh cookie good.
    const res = await refresh(s).set(CSRF_HEADER, s.csrf);
    const next = sessionOf(res);
    expect(next.refresh).not.toBe(s.refresh);
    expect(next.csrf).toBe(s.csrf);
    expect(setCookies(res)[OFFICIAL_COOKIES.refresh]!.attrs).toMatchObject({
      path: REFRESH_PATH,
      httponly: '',
    });
    expect(JSON.stringify(res.body)).not.toContain(next.refresh);
    expect((await t.http().get('/v1/officials/me').set('cookie', accessCookie(next))).status).toBe(200);
    expectError(await refresh(s).set(CSRF_HEADER, s.csrf), 401, 'refresh_invalid');
    expect((await refresh(next).set(CSRF_HEADER, next.csrf)).status).toBe(200);
  });

  it('logout needs the CSRF header, ends the session, clears the cookies; the old cookies get 401', async () => {
    const s = sessionOf(await cookieSignIn(t, await tracer()));
    const logout = () => t.http().post('/v1/auth/official/logout').set('cookie', accessCookie(s));
    expectError(await logout(), 403, 'csrf_invalid');
    expect((await t.http().get('/v1/officials/me').set('cookie', accessCookie(s))).status).toBe(200);

    const res = await logout().set(CSRF_HEADER, s.csrf);
    expect(res.status).toBe(204);
    const cleared = setCookies(res);
    expect(Object.keys(cleared).sort()).toEqual(Object.values(OFFICIAL_COOKIES).sort());
    for (const c of Object.values(cleared)) {
      expect(c.value).toBe('');
      expect(c.attrs['max-age']).toBe('0');
    }
    expect(cleared[OFFICIAL_COOKIES.access]!.attrs.path).toBe('/v1');
    expect(cleared[OFFICIAL_COOKIES.refresh]!.attrs.path).toBe(REFRESH_PATH);

    expectError(await t.http().get('/v1/officials/me').set('cookie', accessCookie(s)), 401, 'token_invalid');
    expectError(
      await t.http().post(REFRESH_PATH).set('cookie', refreshCookie(s)).set(CSRF_HEADER, s.csrf),
      401,
      'refresh_invalid',
    );
  });

  it('bearer logout clears no cookie; a disabled account’s cookie gets 401', async () => {
    const bearer = `Bearer ${(await signInOfficial(t, await tracer())).accessToken}`;
    const res = await t.http().post('/v1/auth/official/logout').set('authorization', bearer);
    expect(res.status).toBe(204);
    expect(res.headers['set-cookie']).toBeUndefined();

    const e = await tracer();
    const s = sessionOf(await cookieSignIn(t, e));
    await t
      .http()
      .post(`/v1/admin/officials/${e.official.id}/disable`)
      .set('authorization', w.tokens.admin)
      .expect(200);
    expectError(await t.http().get('/v1/officials/me').set('cookie', accessCookie(s)), 401, 'token_invalid');
  });
});

describe('other origins', () => {
  it('get no CORS grant with credentials: no Allow-Credentials for any origin, no grant at all for others', async () => {
    const s = sessionOf(await cookieSignIn(t, await tracer()));
    for (const origin of ['https://evil.example', H5_ORIGIN]) {
      const pre = await t
        .http()
        .options('/v1/cases')
        .set('origin', origin)
        .set('access-control-request-method', 'POST')
        .set('access-control-request-headers', `content-type,${CSRF_HEADER}`);
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
      // The CSRF header may not be sent from another origin at all.
      expect(pre.headers['access-control-allow-headers'] ?? '').not.toContain(CSRF_HEADER);
      const read = await t
        .http()
        .get('/v1/officials/me')
        .set('origin', origin)
        .set('cookie', accessCookie(s));
      expect(read.headers['access-control-allow-credentials']).toBeUndefined();
      if (origin !== H5_ORIGIN) {
        expect(pre.headers['access-control-allow-origin']).toBeUndefined();
        expect(read.headers['access-control-allow-origin']).toBeUndefined();
      }
    }
  });
});

describe('OpenAPI', () => {
  it('declares the session cookie, and names it on official routes only', async () => {
    const doc = (await t.http().get('/docs/json').expect(200)).body as {
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    };
    expect(doc.components.securitySchemes.officialSession).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: OFFICIAL_COOKIES.access,
    });
    const both = [{ bearerAuth: [] }, { officialSession: [] }];
    expect(doc.paths['/v1/cases']!.post!.security).toEqual(both);
    expect(doc.paths['/v1/officials/me']!.get!.security).toEqual(both);
    expect(doc.paths['/v1/auth/official/logout']!.post!.security).toEqual(both);
    expect(doc.paths['/v1/rides']!.post!.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/v1/auth/official/session']!.post).toBeDefined();
    expect(doc.paths[REFRESH_PATH]!.post).toBeDefined();
  });
});

describe('SDK cookie mode', () => {
  let baseUrl: string;
  beforeAll(async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });

  /** A browser's cookie jar in front of fetch: it keeps Set-Cookie and sends cookies by path. */
  function browserFetch() {
    const jar = new Map<string, { value: string; path: string }>();
    const seen: Record<string, string>[] = [];
    const fetchFn: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      const headers = { ...(init?.headers as Record<string, string>) };
      const sent = [...jar].filter(
        ([, c]) => url.pathname === c.path || url.pathname.startsWith(`${c.path}/`),
      );
      if (sent.length) headers.cookie = sent.map(([n, c]) => `${n}=${c.value}`).join('; ');
      seen.push(headers);
      const res = await fetch(url, { ...init, headers });
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attrs] = line.split(';').map((x) => x.trim());
        const [name, value] = pair!.split('=') as [string, string];
        const path = attrs.find((a) => a.toLowerCase().startsWith('path='))!.slice(5);
        if (/max-age=0/i.test(line)) jar.delete(name);
        else jar.set(name, { value, path: path === '/' ? '' : path });
      }
      return res;
    };
    return { jar, seen, fetchFn };
  }

  it('signs in, sends the CSRF header on changes only, refreshes and signs out', async () => {
    const e = await tracer();
    const browser = browserFetch();
    const api = new RideTraceClient({ baseUrl, cookies: 'same-origin', fetch: browser.fetchFn });
    const s = await api.signInOfficialSession(signInBody(e));
    expect(api.accessToken).toBeUndefined();
    expect([...browser.jar.keys()].sort()).toEqual(Object.values(OFFICIAL_COOKIES).sort());
    expect((await api.officialMe()).id).toBe(e.official.id);
    expect(browser.seen.at(-1)).not.toHaveProperty(CSRF_HEADER);
    expect(browser.seen.at(-1)).not.toHaveProperty('authorization');

    const c = await api.openCase(await caseBody());
    expect(c.status).toBe('open');
    expect(browser.seen.at(-1)![CSRF_HEADER]).toBe(s.csrfToken);

    const before = browser.jar.get(OFFICIAL_COOKIES.refresh)!.value;
    await api.refreshOfficialSession();
    expect(browser.jar.get(OFFICIAL_COOKIES.refresh)!.value).not.toBe(before);

    // The access cookie lapsed (15 minutes): sign-out renews it once and ends the session.
    browser.jar.delete(OFFICIAL_COOKIES.access);
    await api.signOutOfficial();
    expect(browser.jar.size).toBe(0);
    const err = await api.officialMe().catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RideTraceError);
    expect((err as RideTraceError).code).toBe('auth_required');
  });
});
