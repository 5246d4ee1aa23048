import { buildApp, createDb } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp, useWorld } from '../support/fixtures.js';
import { expectError } from '../support/flows.js';
import { confirmedPassenger, createCarrier, createTestDatabase } from '../support/test-app.js';

const t = useTestApp();

describe('health and readiness', () => {
  it('GET /health → 200 {status: ok}', async () => {
    const res = await t.http().get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /ready → 200 {ready: true} while the database answers', async () => {
    const res = await t.http().get('/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ready: true });
  });

  it('GET /ready → 503 {ready: false} once the database is gone, while /health stays 200', async () => {
    // An app on its own pool, which is then closed: every query of the app fails.
    const database = await createTestDatabase();
    const db = createDb({ connectionString: database.url, max: 2 });
    const app = await buildApp({
      config: t.config,
      db,
      masterKeys: { keys: t.config.masterKeys!, activeId: t.config.activeMasterKeyId!, source: 'env' },
    });
    try {
      await request(app.server).get('/ready').expect(200);
      await db.destroy();
      const res = await request(app.server).get('/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ ready: false });
      expect((await request(app.server).get('/health')).status).toBe(200);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});

describe('error replies', () => {
  it('unknown route → 404 route_not_found', async () => {
    expectError(await t.http().get('/v1/nope'), 404, 'route_not_found');
    expectError(await t.http().post('/v1/nope').send({}), 404, 'route_not_found');
    expectError(await t.http().get('/'), 404, 'route_not_found');
  });

  it('malformed JSON body → 400 malformed_json', async () => {
    const res = await t
      .http()
      .post('/v1/auth/passenger')
      .set('content-type', 'application/json')
      .send('{"loginCode": "ok:a"');
    expectError(res, 400, 'malformed_json');
  });

  it('empty JSON body → 400 (malformed_json or validation_failed)', async () => {
    const res = await t.http().post('/v1/auth/passenger').set('content-type', 'application/json').send('');
    expect(res.status).toBe(400);
    expect(['malformed_json', 'validation_failed']).toContain(res.body.error.code);
    expectError(res, 400, res.body.error.code as string);
  });

  it('a text/plain body → 415 unsupported_media_type', async () => {
    const res = await t.http().post('/v1/auth/passenger').set('content-type', 'text/plain').send('ok:alice');
    expectError(res, 415, 'unsupported_media_type');
  });

  it('a form-encoded body → 415 unsupported_media_type', async () => {
    const res = await t.http().post('/v1/auth/passenger').type('form').send({ loginCode: 'ok:alice' });
    expectError(res, 415, 'unsupported_media_type');
  });

  it('a body over 16 KiB → 413 payload_too_large', async () => {
    const res = await t
      .http()
      .post('/v1/auth/passenger')
      .send({ loginCode: 'x'.repeat(17 * 1024) });
    expectError(res, 413, 'payload_too_large');
  });

  it('a body just under 16 KiB reaches validation (400 validation_failed, loginCode too long)', async () => {
    const res = await t
      .http()
      .post('/v1/auth/passenger')
      .send({ loginCode: 'x'.repeat(15 * 1024) });
    expectError(res, 400, 'validation_failed');
  });

  it('an unknown field → 400 validation_failed (not silently stripped)', async () => {
    const before = t.superApp.calls.length;
    const res = await t.http().post('/v1/auth/passenger').send({ loginCode: 'ok:alice', admin: true });
    expectError(res, 400, 'validation_failed');
    expect(t.superApp.calls.length).toBe(before);
  });

  it('a wrong body type is not coerced → 400 validation_failed', async () => {
    expectError(
      await t.http().post('/v1/auth/passenger').send({ loginCode: 12345 }),
      400,
      'validation_failed',
    );
    expectError(await t.http().post('/v1/auth/passenger').send([]), 400, 'validation_failed');
  });

  it('protected routes without or with a bad token → 401', async () => {
    expectError(await t.http().get('/v1/passengers/me'), 401, 'auth_required');
    expectError(
      await t.http().get('/v1/passengers/me').set('authorization', 'Bearer garbage'),
      401,
      'token_invalid',
    );
    expectError(
      await t.http().get('/v1/carriers').set('authorization', 'Basic Zm9vOmJhcg=='),
      401,
      'auth_required',
    );
  });
});

describe('OpenAPI and docs', () => {
  it('GET /docs/json → an OpenAPI 3 document of the API', async () => {
    const res = await t.http().get('/docs/json');
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/rides',
        '/v1/carriers',
        '/v1/passengers/me/confirm',
        '/v1/carriers/{id}/code.png',
        '/v1/auth/passenger',
        '/v1/auth/token',
      ]),
    );
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/rides']!.post!.security).toEqual([{ bearerAuth: [] }]);
    // The poster landing page is not part of the API.
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/C/') || p.startsWith('/c/'))).toBe(false);
  });

  it('GET /docs → the HTML docs page (directly or by redirect)', async () => {
    const res = await t.http().get('/docs').redirects(3);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/<html/i);
  });
});

describe('GET /v1/consent', () => {
  it('returns the current version and the text in Chinese and English', async () => {
    const res = await t.http().get('/v1/consent');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      version: t.config.consentVersion,
      text: { 'zh-CN': expect.any(String), en: expect.any(String) },
    });
    expect(res.body.text['zh-CN'].length).toBeGreaterThan(20);
    expect(res.body.text.en.length).toBeGreaterThan(20);
  });
});

describe('rate limit per IP', () => {
  const limited = useTestApp({ RATE_LIMIT_PER_IP_PER_MINUTE: '5' });

  it('the 6th request in a minute → 429 rate_limited with retry-after', async () => {
    for (let i = 0; i < 5; i++) await limited.http().get('/v1/consent').expect(200);
    const res = await limited.http().get('/v1/consent');
    expectError(res, 429, 'rate_limited');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('health and readiness probes are not limited', async () => {
    for (let i = 0; i < 8; i++) {
      await limited.http().get('/health').expect(200);
      await limited.http().get('/ready').expect(200);
    }
  });
});

describe('rate limit per passenger on scans', () => {
  const { t: limited, w } = useWorld({ RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '3' });
  let code: { url: string; token: string };
  beforeAll(async () => {
    ({ code } = await createCarrier(limited, w.tokens.operator));
  });

  const scan = (auth: string) =>
    limited
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId: randomUUID() });

  it("a passenger's 4th scan in a minute → 429 rate_limited; another passenger is still served", async () => {
    const alice = await confirmedPassenger(limited, 'alice');
    // Repeat scans (the same carrier at once: 200 with the first ride) count against the limit too.
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await scan(alice)).status);
    expect(statuses).toEqual([201, 200, 200]);
    const res = await scan(alice);
    expectError(res, 429, 'rate_limited');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);

    const bob = await confirmedPassenger(limited, 'bob');
    expect((await scan(bob)).status).toBe(201);
  });
});
