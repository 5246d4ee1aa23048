import {
  type App,
  buildApp,
  type Config,
  createClient,
  createDb,
  createOperator,
  type Db,
  loadConfig,
} from '@ridetrace/server';
import type { ClientWithSecret } from '@ridetrace/shared';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { inject } from 'vitest';
import { startFakeSuperApp, type FakeSuperApp } from './fake-super-app.js';
import { createDatabase, dropDatabases } from './postgres.js';
import { TEST_MASTER_KEY, testServerEnv } from './test-env.js';

export { TEST_MASTER_KEY };

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template: one per test file, so files run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('templateDb');
  const name = `${template}_f_${randomBytes(6).toString('hex')}`;
  const url = await createDatabase(adminUrl, name, template);
  const db = createDb({ connectionString: url, max: 8 });
  return {
    url,
    db,
    drop: async () => {
      await db.destroy();
      await dropDatabases(adminUrl, [name]);
    },
  };
}

export interface TestApp {
  app: App;
  db: Db;
  /** Connection string of this test's database (for CLI child processes: DATABASE_URL). */
  url: string;
  config: Config;
  superApp: FakeSuperApp;
  /** supertest agent on the app's server. */
  http: () => ReturnType<typeof request>;
  /** Moves the app's clock (ms); starts at real time. */
  clock: { offsetMs: number };
  close(): Promise<void>;
}

/**
 * buildApp on `database` with the test configuration (`env` on top of the test defaults) and a movable clock.
 * close() closes the app only: the database and the fake super-app stay the caller's.
 */
export async function buildTestApp(
  database: TestDatabase,
  superApp: FakeSuperApp,
  env: Record<string, string> = {},
  logStream?: { write(line: string): void },
): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    ...testServerEnv(superApp),
    PUBLIC_BASE_URL: 'https://rt.example.cn',
    LOG_LEVEL: 'silent',
    NOTIFY_POLL_MS: '50',
    ...env,
  });
  const clock = { offsetMs: 0 };
  const app = await buildApp({
    config,
    db: database.db,
    masterKeys: { keys: config.masterKeys!, activeId: config.activeMasterKeyId!, source: 'env' },
    now: () => new Date(Date.now() + clock.offsetMs),
    ...(logStream ? { logStream } : {}),
  });
  return {
    app,
    db: database.db,
    url: database.url,
    config,
    superApp,
    clock,
    http: () => request(app.server),
    close: () => app.close(),
  };
}

/** buildApp on a fresh database with a fake super-app login server on 127.0.0.1. */
export async function createTestApp(
  env: Record<string, string> = {},
  logStream?: { write(line: string): void },
): Promise<TestApp> {
  const database = await createTestDatabase();
  const superApp = await startFakeSuperApp();
  const t = await buildTestApp(database, superApp, env, logStream);
  return {
    ...t,
    close: async () => {
      await t.close();
      await superApp.close();
      await database.drop();
    },
  };
}

/**
 * One database and fake super-app shared by several servers, as several processes of one deployment share them.
 * `server(env)` starts another (notification worker off unless `env` turns it on); close() closes them all.
 */
export interface SharedDatabase {
  database: TestDatabase;
  superApp: FakeSuperApp;
  server(env?: Record<string, string>): Promise<TestApp>;
  close(): Promise<void>;
}

export async function createSharedDatabase(): Promise<SharedDatabase> {
  const database = await createTestDatabase();
  const superApp = await startFakeSuperApp();
  const servers: TestApp[] = [];
  return {
    database,
    superApp,
    server: async (env = {}) => {
      const t = await buildTestApp(database, superApp, { NOTIFY_WORKER: 'off', ...env });
      servers.push(t);
      return t;
    },
    close: async () => {
      for (const t of servers.reverse()) await t.close().catch(() => undefined);
      await superApp.close();
      await database.drop();
    },
  };
}

/** Environment for running a CLI as a child process against this test app's database and keys. */
export function cliEnv(t: TestApp): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: t.url,
    RIDETRACE_MASTER_KEY: TEST_MASTER_KEY,
    PUBLIC_BASE_URL: t.config.publicBaseUrl,
    LOG_LEVEL: 'silent',
  };
}

/** Logs a passenger in through the fake super-app; returns the bearer header value. */
export async function passengerToken(t: TestApp, user: string): Promise<string> {
  const res = await t
    .http()
    .post('/v1/auth/passenger')
    .send({ loginCode: `ok:${user}` })
    .expect(200);
  return `Bearer ${res.body.accessToken as string}`;
}

/**
 * A passenger who confirmed `identity`, as the mini-program does it. By default the phone is verified first through
 * the super-app's phone button (the fake super-app's `phone:<digits>` codes; `verified: false` leaves it typed,
 * source `self`), and the passenger accepts `subscriptions` exposure messages (default 1).
 */
export async function confirmedPassenger(
  t: TestApp,
  user: string,
  identity: { name: string; phone: string; idNumber?: string } = { name: '张三丰', phone: '13812345678' },
  opts: { verified?: boolean; subscriptions?: number } = {},
): Promise<string> {
  const auth = await passengerToken(t, user);
  if (opts.verified !== false)
    await t
      .http()
      .post('/v1/passengers/me/phone')
      .set('authorization', auth)
      .send({ code: `phone:${identity.phone}` })
      .expect(200);
  const res = await t
    .http()
    .post('/v1/passengers/me/confirm')
    .set('authorization', auth)
    .send({ ...identity, consentVersion: t.config.consentVersion })
    .expect(200);
  const confirmed = `Bearer ${res.body.accessToken as string}`;
  for (let i = 0; i < (opts.subscriptions ?? 1); i++)
    await t
      .http()
      .post('/v1/passengers/me/subscriptions')
      .set('authorization', confirmed)
      .send({ templateId: t.config.superApp.exposureTemplateId, result: 'accept' })
      .expect(200);
  return confirmed;
}

export async function clientToken(t: TestApp, client: ClientWithSecret, scope?: string): Promise<string> {
  const res = await t
    .http()
    .post('/v1/auth/token')
    .send({
      grantType: 'client_credentials',
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      ...(scope ? { scope } : {}),
    })
    .expect(200);
  return `Bearer ${res.body.accessToken as string}`;
}

export interface World {
  operatorId: string;
  otherOperatorId: string;
  admin: ClientWithSecret;
  operator: ClientWithSecret;
  otherOperator: ClientWithSecret;
  staff: ClientWithSecret;
  otherStaff: ClientWithSecret;
  official: ClientWithSecret;
  tokens: {
    admin: string;
    operator: string;
    otherOperator: string;
    staff: string;
    otherStaff: string;
    official: string;
  };
}

/** Two operators, a client of every role, and their tokens. */
export async function seedWorld(t: TestApp): Promise<World> {
  const operatorId = 'metro-bus';
  const otherOperatorId = 'city-taxi';
  await createOperator(t.db, operatorId, 'Metro Bus Co.');
  await createOperator(t.db, otherOperatorId, 'City Taxi Co.');
  const admin = await createClient(t.db, { name: 'root', role: 'admin' });
  const operator = await createClient(t.db, { name: 'bus ops', role: 'operator', operatorId });
  const otherOperator = await createClient(t.db, {
    name: 'taxi ops',
    role: 'operator',
    operatorId: otherOperatorId,
  });
  const staff = await createClient(t.db, { name: 'driver 1', role: 'staff', operatorId });
  const otherStaff = await createClient(t.db, { name: 'driver 2', role: 'staff', operatorId });
  const official = await createClient(t.db, { name: 'health office', role: 'official' });
  return {
    operatorId,
    otherOperatorId,
    admin,
    operator,
    otherOperator,
    staff,
    otherStaff,
    official,
    tokens: {
      admin: await clientToken(t, admin),
      operator: await clientToken(t, operator),
      otherOperator: await clientToken(t, otherOperator),
      staff: await clientToken(t, staff),
      otherStaff: await clientToken(t, otherStaff),
      official: await clientToken(t, official),
    },
  };
}

/** Creates a carrier as the operator and returns it with its current code URL. */
export async function createCarrier(
  t: TestApp,
  operatorToken: string,
  body: { kind: string; plate: string; route?: string; city: string } = {
    kind: 'bus',
    plate: '粤B12345',
    route: '36路',
    city: '深圳',
  },
) {
  const carrier = await t
    .http()
    .post('/v1/carriers')
    .set('authorization', operatorToken)
    .send(body)
    .expect(201);
  const code = await t
    .http()
    .get(`/v1/carriers/${carrier.body.id}/code`)
    .set('authorization', operatorToken)
    .expect(200);
  return {
    carrier: carrier.body as { id: number; kind: string; plate: string },
    code: code.body as { url: string; token: string; generation: number },
  };
}
