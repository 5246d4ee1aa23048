import { buildApp } from '@ridetrace/server/app';
import { loadConfig } from '@ridetrace/server/config';
import { keyStatus, rewrapAll } from '@ridetrace/server/crypto';
import { maskName, maskPhone } from '@ridetrace/shared';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSuperApp, type FakeSuperApp } from '../support/fake-super-app.js';
import {
  cliEnv,
  confirmedPassenger,
  createCarrier,
  createTestDatabase,
  seedWorld,
  type TestApp,
  type World,
} from '../support/test-app.js';

const ROOT = '/work/main';
const DAY = 86_400_000;
const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');
const K1 = `k1:${KEY1}`;
const K1K2 = `k1:${KEY1},k2:${KEY2}`;
const K2 = `k2:${KEY2}`;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let superApp: FakeSuperApp;
const apps: TestApp[] = [];

/** Like createTestApp, but on the shared database with the given RIDETRACE_MASTER_KEYS. */
async function appWith(masterKeys: string): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    RIDETRACE_MASTER_KEYS: masterKeys,
    SUPERAPP_BASE_URL: superApp.baseUrl,
    SUPERAPP_APP_ID: 'wx-test-app',
    SUPERAPP_APP_SECRET: 'test-app-secret',
    PUBLIC_BASE_URL: 'https://rt.example.cn',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    NOTIFY_WORKER: 'off',
    // Not a load test: no load shedding while parallel test files and CLI child processes share the CPU.
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  const clock = { offsetMs: 0 };
  const app = await buildApp({
    config,
    db: database.db,
    masterKeys: { keys: config.masterKeys!, activeId: config.activeMasterKeyId!, source: 'env' },
    now: () => new Date(Date.now() + clock.offsetMs),
  });
  const t: TestApp = {
    app,
    db: database.db,
    url: database.url,
    config,
    superApp,
    clock,
    http: () => request(app.server),
    close: () => app.close(),
  };
  apps.push(t);
  return t;
}

function runCli(env: NodeJS.ProcessEnv, args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('pnpm', ['-s', 'cli', ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

let a: TestApp;
let w: World;
let code: { url: string };
let aliceAuth: string;
let bobAuth: string;
let caseId: string;
let aliceRideId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  superApp = await startFakeSuperApp();
  a = await appWith(K1);
  w = await seedWorld(a);
  ({ code } = await createCarrier(a, w.tokens.operator));
  aliceAuth = await confirmedPassenger(a, 'keys-alice', { name: '王小明', phone: '13900000021' });
  bobAuth = await confirmedPassenger(a, 'keys-bob', { name: '李四', phone: '13900000022' });
  const r1 = await a
    .http()
    .post('/v1/rides')
    .set('authorization', aliceAuth)
    .send({ code: code.url, clientRideId: randomUUID() })
    .expect(201);
  aliceRideId = r1.body.ride.id;
  await a
    .http()
    .post('/v1/rides')
    .set('authorization', bobAuth)
    .send({ code: code.url, clientRideId: randomUUID() })
    .expect(201);
  const now = Date.now();
  const c = await a
    .http()
    .post('/v1/cases')
    .set('authorization', w.tokens.official)
    .send({
      subject: { phone: '13900000021' },
      infectiousFrom: new Date(now - DAY).toISOString(),
      infectiousTo: new Date(now).toISOString(),
      caseNumber: 'KEYS-1',
      reason: 'key rotation test',
    })
    .expect(201);
  caseId = c.body.id;
});

afterAll(async () => {
  for (const t of apps.reverse()) await t.close().catch(() => undefined);
  await superApp?.close();
  await database?.drop();
});

/** Everything written under k1 is readable through `t`. */
async function expectEverythingReadable(t: TestApp, exposed = 1) {
  const me = await t.http().get('/v1/passengers/me').set('authorization', aliceAuth).expect(200);
  expect(me.body).toMatchObject({
    confirmed: true,
    name: maskName('王小明'),
    phone: maskPhone('13900000021'),
  });
  const rides = await t.http().get('/v1/passengers/me/rides').set('authorization', aliceAuth).expect(200);
  expect(rides.body.items.map((r: { id: string }) => r.id)).toContain(aliceRideId);
  const c = await t.http().get(`/v1/cases/${caseId}`).set('authorization', w.tokens.official).expect(200);
  expect(c.body.reason).toBe('key rotation test');
  expect(c.body.subject).toMatchObject({ name: '王小明', phone: '13900000021' });
  const ex = await t
    .http()
    .get(`/v1/cases/${caseId}/exposures`)
    .set('authorization', w.tokens.official)
    .expect(200);
  // Bob (and, after the rotation, Carol) rode with Alice.
  expect(ex.body.total).toBe(exposed);
  expect(ex.body.items.find((e: { name: string }) => e.name === '李四')).toMatchObject({
    phone: '13900000022',
    level: 'close',
  });
}

describe('master key rotation', () => {
  let b: TestApp;

  it('app A (k1) reads its own data', async () => {
    await expectEverythingReadable(a);
  });

  it('app B (k1,k2): before rewrap everything is readable and keyStatus shows k1 wraps pending', async () => {
    b = await appWith(K1K2);
    await expectEverythingReadable(b);
    const s = await keyStatus(database.db, b.app.ctx.keyring);
    expect(s.activeMasterKeyId).toBe('k2');
    expect(s.configuredMasterKeyIds).toEqual(['k1', 'k2']);
    expect(s.wrapped.system_keys).toEqual({ k1: 5 });
    expect(Object.keys(s.wrapped.ride_day_keys)).toEqual(['k1']);
    expect(s.wrapped.ride_day_keys.k1).toBeGreaterThan(0);
    expect(s.wrapped.passengers).toEqual({ k1: 2 });
    expect(s.pending).toBe(5 + s.wrapped.ride_day_keys.k1! + 2);
  });

  it('`keys status` (CLI) prints the wraps per master key and what is pending', async () => {
    const s = await keyStatus(database.db, b.app.ctx.keyring);
    const env = {
      ...cliEnv(a),
      RIDETRACE_MASTER_KEY: '',
      RIDETRACE_MASTER_KEYS: K1K2,
    };
    const out = await runCli(env, ['keys', 'status']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('active master key: k2 (configured: k1, k2)');
    expect(out.stdout).toContain('system_keys: k1=5');
    expect(out.stdout).toContain(`ride_day_keys: k1=${s.wrapped.ride_day_keys.k1}`);
    expect(out.stdout).toContain('passengers: k1=2');
    expect(out.stdout).toContain(`${s.pending} data key(s) to rewrap`);
  }, 120_000);

  it('rewrapAll moves every wrapped key to k2; everything stays readable, old posters still scan', async () => {
    const before = await keyStatus(database.db, b.app.ctx.keyring);
    const done = await rewrapAll(database.db, b.app.ctx.keyring, { batch: 2 });
    expect(done).toEqual({
      system_keys: 5,
      ride_day_keys: before.wrapped.ride_day_keys.k1,
      passengers: 2,
    });
    const s = await keyStatus(database.db, b.app.ctx.keyring);
    expect(s.pending).toBe(0);
    expect(s.wrapped).toEqual({
      system_keys: { k2: 5 },
      ride_day_keys: { k2: before.wrapped.ride_day_keys.k1 },
      passengers: { k2: 2 },
    });
    // Idempotent.
    expect(await rewrapAll(database.db, b.app.ctx.keyring)).toEqual({
      system_keys: 0,
      ride_day_keys: 0,
      passengers: 0,
    });

    await expectEverythingReadable(b);
    // The poster printed before the rotation still scans (its signing key was only rewrapped).
    const carol = await confirmedPassenger(b, 'keys-carol', { name: '赵六', phone: '13900000023' });
    await b
      .http()
      .post('/v1/rides')
      .set('authorization', carol)
      .send({ code: code.url, clientRideId: randomUUID() })
      .expect(201);
    // New passengers get keys under k2.
    const s2 = await keyStatus(database.db, b.app.ctx.keyring);
    expect(s2.wrapped.passengers).toEqual({ k2: 3 });
  });

  it('an app with only k2 reads everything', async () => {
    const c = await appWith(K2);
    await expectEverythingReadable(c, 2);
    await c
      .http()
      .post('/v1/rides')
      .set('authorization', bobAuth)
      .send({ code: code.url, clientRideId: randomUUID() })
      .expect(201);
  });

  it('an app with only k1 fails to start after the rewrap', async () => {
    await expect(appWith(K1)).rejects.toThrow(/master key k2 is not configured/);
  });
});
