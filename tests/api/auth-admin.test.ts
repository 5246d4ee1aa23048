import { buildApp, ConfigError, DevSuperAppLogin, loadConfig } from '@ridetrace/server';
import type { ClientWithSecret } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { useTestApp, useWorld } from '../support/fixtures.js';
import { expectError } from '../support/flows.js';
import {
  clientToken,
  createTestDatabase,
  passengerToken,
  TEST_MASTER_KEY,
  type TestApp,
} from '../support/test-app.js';

function jwtPayload(token: string): Record<string, unknown> {
  const [, payload] = token.replace(/^Bearer /, '').split('.');
  return JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const { t, w } = useWorld();

const login = (app: TestApp, body: unknown) =>
  app
    .http()
    .post('/v1/auth/passenger')
    .send(body as object);
const token = (body: unknown) =>
  t
    .http()
    .post('/v1/auth/token')
    .send(body as object);

describe('POST /v1/auth/passenger', () => {
  it('exchanges ok:<user> for a passenger token', async () => {
    const res = await login(t, { loginCode: 'ok:alice' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 7200,
      passenger: { id: expect.any(String), confirmed: false },
    });
  });

  it('gives the same super-app user the same passenger id, another user another id', async () => {
    const a = await login(t, { loginCode: 'ok:same-user' }).expect(200);
    const b = await login(t, { loginCode: 'ok:same-user' }).expect(200);
    const c = await login(t, { loginCode: 'ok:other-user' }).expect(200);
    expect(b.body.passenger.id).toBe(a.body.passenger.id);
    expect(c.body.passenger.id).not.toBe(a.body.passenger.id);
  });

  it('calls the super-app with the configured app id and secret and the login code', async () => {
    await login(t, { loginCode: 'ok:carol' }).expect(200);
    expect(t.superApp.calls.at(-1)).toEqual({
      appid: 'wx-test-app',
      secret: 'test-app-secret',
      js_code: 'ok:carol',
    });
  });

  it('issues a token without PII: role passenger, scope passenger, a 2 h lifetime', async () => {
    const auth = await passengerToken(t, 'dave');
    const claims = jwtPayload(auth);
    expect(claims).toMatchObject({ role: 'passenger', scope: 'passenger', sub: expect.any(String) });
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect((claims.exp as number) - (claims.iat as number)).toBe(7200);
    // lk: the passenger's ride link secret, sealed for the server (the scan indexes rides with it unread).
    expect(Object.keys(claims).sort()).toEqual(['exp', 'iat', 'iss', 'lk', 'role', 'scope', 'sub']);
    expect(claims.lk).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const text = JSON.stringify(claims);
    expect(text).not.toContain('dave');
    expect(text).not.toContain('o_');
  });

  it('the token authenticates the passenger', async () => {
    const auth = await passengerToken(t, 'erin');
    const me = await t.http().get('/v1/passengers/me').set('authorization', auth);
    expect(me.status).toBe(200);
  });

  it('refuses an invalid or used login code with 401 login_code_invalid', async () => {
    expectError(await login(t, { loginCode: 'used' }), 401, 'login_code_invalid');
    expectError(await login(t, { loginCode: 'nonsense' }), 401, 'login_code_invalid');
  });

  it('answers 503 superapp_unavailable when the super-app is busy (errcode -1)', async () => {
    expectError(await login(t, { loginCode: 'busy' }), 503, 'superapp_unavailable');
  });

  it('answers 503 superapp_unavailable when the super-app fails with HTTP 500', async () => {
    expectError(await login(t, { loginCode: 'down' }), 503, 'superapp_unavailable');
  });

  it('validates the body: empty, missing, extra field, wrong type → 400 validation_failed', async () => {
    const before = t.superApp.calls.length;
    expectError(await login(t, { loginCode: '' }), 400, 'validation_failed');
    expectError(await login(t, {}), 400, 'validation_failed');
    expectError(await login(t, { loginCode: 'ok:frank', extra: 1 }), 400, 'validation_failed');
    expectError(await login(t, { loginCode: 42 }), 400, 'validation_failed');
    expect(t.superApp.calls.length).toBe(before);
  });
});

describe('POST /v1/auth/passenger with the super-app unreachable', () => {
  const down = useTestApp({ SUPERAPP_BASE_URL: 'http://127.0.0.1:9' });

  it('answers 503 superapp_unavailable', async () => {
    expectError(await login(down, { loginCode: 'ok:alice' }), 503, 'superapp_unavailable');
  });
});

describe('dev login provider', () => {
  const dev = useTestApp({ SUPERAPP_BASE_URL: '' });

  it('is used without SUPERAPP_BASE_URL outside production: dev:<name> logs in', async () => {
    const res = await login(dev, { loginCode: 'dev:bob' });
    expect(res.status).toBe(200);
    expect(res.body.passenger).toEqual({ id: expect.any(String), confirmed: false });
    const again = await login(dev, { loginCode: 'dev:bob' }).expect(200);
    expect(again.body.passenger.id).toBe(res.body.passenger.id);
    expect(dev.superApp.calls).toHaveLength(0);
  });

  it('refuses super-app codes: ok:bob → 401 login_code_invalid', async () => {
    expectError(await login(dev, { loginCode: 'ok:bob' }), 401, 'login_code_invalid');
    expectError(await login(dev, { loginCode: 'dev:' }), 401, 'login_code_invalid');
  });
});

describe('production configuration', () => {
  const production = {
    NODE_ENV: 'production',
    RIDETRACE_MASTER_KEY: TEST_MASTER_KEY,
    DATABASE_URL: 'postgres://rt:pw@db.internal:5432/ridetrace',
    PUBLIC_BASE_URL: 'https://rt.example.cn',
    SUPERAPP_BASE_URL: 'https://api.superapp.example',
    SUPERAPP_APP_ID: 'wx-prod',
    SUPERAPP_APP_SECRET: 'prod-secret',
    // Outbound notification channels (contact tracing).
    MESSAGE_BASE_URL: 'https://msg.superapp.example',
    SMS_BASE_URL: 'https://sms.example',
    SMS_API_KEY: 'sms-key',
    CONSENT_CONTROLLER: '深圳市交通运输局',
    CONSENT_CONTACT: 'privacy@rt.example.cn',
    LOG_LEVEL: 'silent',
    // Audit checkpoints have their own production tests (audit-checkpoints.test.ts).
    AUDIT_CHECKPOINT_SECONDS: '0',
  };
  const without = (name: keyof typeof production) => {
    const env: Record<string, string | undefined> = { ...production };
    delete env[name];
    return env;
  };

  it('starts with everything given', () => {
    const config = loadConfig(production);
    expect(config.mode).toBe('production');
    expect(config.superApp.baseUrl).toBe('https://api.superapp.example');
    expect(config.databaseUrl).toBe(production.DATABASE_URL);
  });

  it('refuses to start without SUPERAPP_BASE_URL (no dev login provider in production)', () => {
    expect(() => loadConfig(without('SUPERAPP_BASE_URL'))).toThrow(ConfigError);
    expect(() => loadConfig(without('SUPERAPP_BASE_URL'))).toThrow(/SUPERAPP_BASE_URL/);
    expect(() => loadConfig({ ...production, SUPERAPP_BASE_URL: '' })).toThrow(ConfigError);
  });

  it.each([
    'RIDETRACE_MASTER_KEY',
    'DATABASE_URL',
    'PUBLIC_BASE_URL',
    'SMS_API_KEY',
    'CONSENT_CONTROLLER',
    'CONSENT_CONTACT',
  ] as const)('refuses to start without %s, naming it', (name) => {
    expect(() => loadConfig(without(name))).toThrow(ConfigError);
    expect(() => loadConfig(without(name))).toThrow(name);
  });

  it('refuses the placeholder consent contact and blank consent settings', () => {
    const placeholder = 'privacy@ridetrace.example';
    const refused = `CONSENT_CONTACT (a real contact, not the placeholder ${placeholder})`;
    for (const contact of [placeholder, ` ${placeholder} `, '  ']) {
      expect(() => loadConfig({ ...production, CONSENT_CONTACT: contact })).toThrow(ConfigError);
      expect(() => loadConfig({ ...production, CONSENT_CONTACT: contact })).toThrow(refused);
    }
    expect(() => loadConfig({ ...production, CONSENT_CONTROLLER: ' ' })).toThrow(
      /without: CONSENT_CONTROLLER$/,
    );
    // The controller's default names a real body: a deployment for it may set it explicitly.
    expect(loadConfig(production).consent).toEqual({
      controller: '深圳市交通运输局',
      contact: 'privacy@rt.example.cn',
    });
    // Outside production both keep their stand-ins.
    expect(loadConfig({ NODE_ENV: 'test' }).consent.contact).toBe(placeholder);
  });

  it('needs no JWT secret (token keys live wrapped in the database) and names every missing setting at once', () => {
    expect(() => loadConfig(production)).not.toThrow();
    expect(() => loadConfig({ ...production, RIDETRACE_JWT_SECRET: 'short' })).not.toThrow();
    let message = '';
    try {
      loadConfig({ NODE_ENV: 'production' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    for (const name of [
      'RIDETRACE_MASTER_KEY',
      'DATABASE_URL',
      'PUBLIC_BASE_URL',
      'SUPERAPP_BASE_URL',
      'CONSENT_CONTROLLER',
      'CONSENT_CONTACT',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('buildApp in production refuses to fall back to the dev login provider', async () => {
    const database = await createTestDatabase();
    try {
      const config = loadConfig(production);
      // A production config whose super-app URL went missing after validation.
      const broken = { ...config, superApp: { ...config.superApp, baseUrl: undefined } };
      await expect(
        buildApp({
          config: broken,
          db: database.db,
          masterKeys: { keys: config.masterKeys!, activeId: config.activeMasterKeyId!, source: 'env' },
        }),
      ).rejects.toThrow(/SUPERAPP_BASE_URL/);
      // Nor does it accept the dev provider handed in explicitly.
      await expect(
        buildApp({
          config,
          db: database.db,
          masterKeys: { keys: config.masterKeys!, activeId: config.activeMasterKeyId!, source: 'env' },
          superApp: new DevSuperAppLogin(),
        }),
      ).rejects.toThrow(/dev login provider/);
    } finally {
      await database.drop();
    }
  });
});

describe('POST /v1/auth/token (client credentials)', () => {
  it('issues a 15 min token with all of the client scopes', async () => {
    const res = await token({
      grantType: 'client_credentials',
      clientId: w.official.clientId,
      clientSecret: w.official.clientSecret,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      scope: 'case:write trace:read trace:reveal trace:notify status:clear',
    });
    const claims = jwtPayload(res.body.accessToken as string);
    expect(claims).toMatchObject({ sub: w.official.clientId, role: 'official', scope: res.body.scope });
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
  });

  it('puts the operator of a staff client into its token', async () => {
    expect(jwtPayload(w.tokens.staff)).toMatchObject({ role: 'staff', scope: 'staff', op: w.operatorId });
  });

  it('refuses a wrong secret with 401 invalid_client', async () => {
    const res = await token({
      grantType: 'client_credentials',
      clientId: w.official.clientId,
      clientSecret: `${w.official.clientSecret}x`,
    });
    expectError(res, 401, 'invalid_client');
  });

  it('refuses an unknown client id with 401 invalid_client', async () => {
    const res = await token({
      grantType: 'client_credentials',
      clientId: 'official_doesnotexist',
      clientSecret: w.official.clientSecret,
    });
    expectError(res, 401, 'invalid_client');
  });

  it('refuses other grant types and malformed bodies with 400 validation_failed', async () => {
    const creds = { clientId: w.official.clientId, clientSecret: w.official.clientSecret };
    expectError(await token({ ...creds, grantType: 'password' }), 400, 'validation_failed');
    expectError(await token(creds), 400, 'validation_failed');
    expectError(
      await token({ ...creds, grantType: 'client_credentials', extra: true }),
      400,
      'validation_failed',
    );
  });

  it('issues a token for a requested subset of the scopes', async () => {
    const auth = await clientToken(t, w.official, 'trace:read');
    expect(jwtPayload(auth).scope).toBe('trace:read');
  });

  it('refuses a scope the client does not hold with 403 forbidden', async () => {
    const res = await token({
      grantType: 'client_credentials',
      clientId: w.official.clientId,
      clientSecret: w.official.clientSecret,
      scope: 'trace:read admin',
    });
    expectError(res, 403, 'forbidden');
  });

  it('stores client secrets only as scrypt hashes', async () => {
    const rows = await t.db.selectFrom('clients').select(['client_id', 'secret_hash']).execute();
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const secrets = new Map(
      [w.admin, w.operator, w.otherOperator, w.staff, w.otherStaff, w.official].map((c) => [
        c.clientId,
        c.clientSecret,
      ]),
    );
    for (const row of rows) {
      expect(row.secret_hash.startsWith('scrypt$')).toBe(true);
      const secret = secrets.get(row.client_id);
      if (secret) expect(row.secret_hash).not.toContain(secret);
    }
  });
});

describe('admin', () => {
  const admin = () => ({ authorization: w.tokens.admin });

  describe('operators', () => {
    it('creates an operator (201) and lists it', async () => {
      const res = await t
        .http()
        .post('/v1/admin/operators')
        .set(admin())
        .send({ id: 'ferry-1', name: 'Ferry Co.' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: 'ferry-1', name: 'Ferry Co.', createdAt: expect.any(String) });
      const list = await t.http().get('/v1/admin/operators').set(admin());
      expect(list.status).toBe(200);
      const ids = (list.body.items as { id: string }[]).map((o) => o.id);
      expect(ids).toEqual(expect.arrayContaining(['ferry-1', w.operatorId, w.otherOperatorId]));
    });

    it('refuses a duplicate id with 409 operator_exists', async () => {
      const res = await t
        .http()
        .post('/v1/admin/operators')
        .set(admin())
        .send({ id: w.operatorId, name: 'Again' });
      expectError(res, 409, 'operator_exists');
    });

    it('refuses an id outside the pattern with 400 validation_failed', async () => {
      for (const id of ['Bad_Id', 'a', '-leading', 'x'.repeat(41), 'has space']) {
        const res = await t.http().post('/v1/admin/operators').set(admin()).send({ id, name: 'X' });
        expectError(res, 400, 'validation_failed');
      }
    });

    it('needs an admin token: none → 401 auth_required, another role → 403 forbidden', async () => {
      expectError(await t.http().get('/v1/admin/operators'), 401, 'auth_required');
      expectError(
        await t.http().get('/v1/admin/operators').set('authorization', w.tokens.operator),
        403,
        'forbidden',
      );
      expectError(
        await t.http().get('/v1/admin/clients').set('authorization', w.tokens.official),
        403,
        'forbidden',
      );
      const passenger = await passengerToken(t, 'nosy');
      expectError(
        await t
          .http()
          .post('/v1/admin/operators')
          .set('authorization', passenger)
          .send({ id: 'evil', name: 'E' }),
        403,
        'forbidden',
      );
      expectError(
        await t.http().get('/v1/admin/clients').set('authorization', 'Bearer not.a.jwt'),
        401,
        'token_invalid',
      );
    });
  });

  describe('clients', () => {
    const createClient = (body: object) => t.http().post('/v1/admin/clients').set(admin()).send(body);

    it.each([
      ['staff', { operatorId: 'metro-bus' }, ['staff']],
      ['operator', { operatorId: 'metro-bus' }, ['carriers:write']],
      ['official', {}, ['case:write', 'trace:read', 'trace:reveal', 'trace:notify', 'status:clear']],
      ['admin', {}, ['admin', 'audit:read', 'officials:admin']],
    ] as const)('creates a %s client whose secret is shown once and works', async (role, extra, scopes) => {
      const res = await createClient({ name: `new ${role}`, role, ...extra });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        clientId: expect.any(String),
        name: `new ${role}`,
        role,
        scopes,
        operatorId: 'operatorId' in extra ? extra.operatorId : null,
        createdAt: expect.any(String),
        disabledAt: null,
        clientSecret: expect.any(String),
      });
      const auth = await clientToken(t, res.body as ClientWithSecret);
      expect(jwtPayload(auth)).toMatchObject({ sub: res.body.clientId, role, scope: scopes.join(' ') });
    });

    it('creates a client with a subset of the role scopes', async () => {
      const res = await createClient({ name: 'reader', role: 'official', scopes: ['trace:read'] });
      expect(res.status).toBe(201);
      expect(res.body.scopes).toEqual(['trace:read']);
    });

    it('staff and operator clients need an operatorId (400 validation_failed)', async () => {
      expectError(await createClient({ name: 's', role: 'staff' }), 400, 'validation_failed');
      expectError(await createClient({ name: 'o', role: 'operator' }), 400, 'validation_failed');
    });

    it('official and admin clients take no operatorId (400 validation_failed)', async () => {
      expectError(
        await createClient({ name: 'x', role: 'official', operatorId: w.operatorId }),
        400,
        'validation_failed',
      );
      expectError(
        await createClient({ name: 'x', role: 'admin', operatorId: w.operatorId }),
        400,
        'validation_failed',
      );
    });

    it('refuses an unknown operator with 404 operator_not_found', async () => {
      expectError(
        await createClient({ name: 's', role: 'staff', operatorId: 'no-such-operator' }),
        404,
        'operator_not_found',
      );
    });

    it('refuses scopes outside the role with 400 validation_failed', async () => {
      expectError(
        await createClient({ name: 'x', role: 'official', scopes: ['admin'] }),
        400,
        'validation_failed',
      );
      expectError(
        await createClient({
          name: 'x',
          role: 'staff',
          operatorId: w.operatorId,
          scopes: ['carriers:write'],
        }),
        400,
        'validation_failed',
      );
      expectError(
        await createClient({ name: 'x', role: 'admin', scopes: ['passenger'] }),
        400,
        'validation_failed',
      );
      expectError(await createClient({ name: 'x', role: 'official', scopes: [] }), 400, 'validation_failed');
    });

    it('refuses unknown roles and fields with 400 validation_failed', async () => {
      expectError(await createClient({ name: 'x', role: 'passenger' }), 400, 'validation_failed');
      expectError(await createClient({ name: 'x', role: 'root' }), 400, 'validation_failed');
      expectError(await createClient({ name: 'x', role: 'admin', secret: 'mine' }), 400, 'validation_failed');
    });

    it('lists clients without any secret or hash', async () => {
      const res = await t.http().get('/v1/admin/clients').set(admin());
      expect(res.status).toBe(200);
      const items = res.body.items as Record<string, unknown>[];
      expect(items.map((c) => c.clientId)).toEqual(
        expect.arrayContaining([w.admin.clientId, w.staff.clientId, w.official.clientId]),
      );
      for (const item of items) {
        expect(Object.keys(item).sort()).toEqual(
          ['clientId', 'createdAt', 'disabledAt', 'name', 'operatorId', 'role', 'scopes'].sort(),
        );
      }
      const text = JSON.stringify(res.body);
      expect(text).not.toContain('scrypt');
      for (const c of [w.admin, w.operator, w.staff, w.official]) expect(text).not.toContain(c.clientSecret);
    });

    it('disabling a client stops it from obtaining tokens (401 invalid_client)', async () => {
      const created = await createClient({ name: 'to disable', role: 'official' }).expect(201);
      const client = created.body as ClientWithSecret;
      await clientToken(t, client);
      const res = await t.http().post(`/v1/admin/clients/${client.clientId}/disable`).set(admin());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ clientId: client.clientId, disabledAt: expect.any(String) });
      expect(res.body).not.toHaveProperty('clientSecret');
      expectError(
        await token({
          grantType: 'client_credentials',
          clientId: client.clientId,
          clientSecret: client.clientSecret,
        }),
        401,
        'invalid_client',
      );
    });

    it('rotating a secret: the old one fails, the new one works', async () => {
      const created = await createClient({ name: 'to rotate', role: 'official' }).expect(201);
      const client = created.body as ClientWithSecret;
      const res = await t.http().post(`/v1/admin/clients/${client.clientId}/secret`).set(admin());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ clientId: client.clientId, clientSecret: expect.any(String) });
      expect(res.body.clientSecret).not.toBe(client.clientSecret);
      expectError(
        await token({
          grantType: 'client_credentials',
          clientId: client.clientId,
          clientSecret: client.clientSecret,
        }),
        401,
        'invalid_client',
      );
      await clientToken(t, res.body as ClientWithSecret);
    });

    it('unknown client ids → 404 client_not_found', async () => {
      expectError(
        await t.http().post('/v1/admin/clients/official_nope/disable').set(admin()),
        404,
        'client_not_found',
      );
      expectError(
        await t.http().post('/v1/admin/clients/official_nope/secret').set(admin()),
        404,
        'client_not_found',
      );
    });
  });
});
