import {
  type App,
  buildApp,
  createClient,
  createDb,
  createOperator,
  type Db,
  freePort,
  loadConfig,
  migrateToLatest,
  type RunningPostgres,
  startEmbeddedPostgres,
} from '@ridetrace/server';
import type { CarrierCode, ClientWithSecret } from '@ridetrace/shared';
import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeGateway, type FakeGateway } from '../../support/fake-notify.js';
import { startFakeSuperApp, type FakeSuperApp } from '../../support/fake-super-app.js';

export interface Stack {
  /** http://127.0.0.1:<port> of the API. */
  api: string;
  app: App;
  db: Db;
  superApp: FakeSuperApp;
  /**
   * The SMS gateway the server sends through (`SMS_BASE_URL`): every accepted SMS body, e.g. a one-time code as
   * `{ phone, template: 'ridetrace_otp', params: { code, minutes } }`.
   */
  sms: FakeGateway;
  /** Requests that reached the API, as `METHOD path` (CORS preflights included, as OPTIONS). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * The real server (buildApp) on a fresh embedded Postgres, listening on 127.0.0.1, with a fake super-app login
 * (login codes `ok:<user>`), a fake SMS gateway (the one-time codes a test reads) and CORS for the h5 origin. Like tests/support/global-setup.ts, but one cluster of its
 * own so the e2e project runs apart from the API tests. `env` adds or overrides settings (e.g. CONSOLE_DIR).
 */
export async function startStack(
  corsOrigin: string,
  port?: number,
  env: Record<string, string> = {},
): Promise<Stack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ridetrace-e2e-'));
  let pg: RunningPostgres | undefined;
  try {
    pg = await startEmbeddedPostgres({
      dir,
      persistent: false,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    });
    const admin = createDb({ connectionString: pg.url, max: 1 });
    await sql`create database rt_e2e`.execute(admin);
    await admin.destroy();
    const db = createDb({ connectionString: pg.urlFor('rt_e2e'), max: 8 });
    await migrateToLatest(db);
    const superApp = await startFakeSuperApp();
    const sms = await startFakeGateway('sms');
    const apiPort = port ?? (await freePort());
    const api = `http://127.0.0.1:${apiPort}`;
    // The fakes report delivery as gateways do: a receipt shortly after each accepted message.
    const receiptToken = randomBytes(24).toString('base64url');
    for (const fake of [superApp, sms]) {
      fake.receipts.target = { baseUrl: api, token: receiptToken };
      fake.receipts.delayMs = 50;
    }
    const config = loadConfig({
      NODE_ENV: 'test',
      RIDETRACE_MASTER_KEY: randomBytes(32).toString('base64'),
      SUPERAPP_BASE_URL: superApp.baseUrl,
      SUPERAPP_APP_ID: 'wx-e2e-app',
      SUPERAPP_APP_SECRET: 'e2e-app-secret',
      SMS_BASE_URL: sms.baseUrl,
      SMS_API_KEY: 'e2e-sms-key',
      PUBLIC_BASE_URL: api,
      CORS_ORIGINS: corsOrigin,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
      // No load shedding: a test process building and driving a browser lags its event loop now and then.
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      // The story rescans the same two vehicles within minutes (offline queue, next launch) and counts rides; repeat
      // scans are covered by tests/api/repeat-scans.test.ts and the pass page's test.
      RIDES_REPEAT_MINUTES: '0',
      DELIVERY_RECEIPT_TOKEN: receiptToken,
      ...env,
    });
    const app = await buildApp({
      config,
      db,
      masterKeys: { keys: config.masterKeys!, activeId: config.activeMasterKeyId!, source: 'env' },
    });
    const requests: string[] = [];
    app.server.on('request', (req: { method?: string; url?: string }) =>
      requests.push(`${req.method} ${req.url?.split('?')[0]}`),
    );
    await app.listen({ host: '127.0.0.1', port: apiPort });
    const running = pg;
    return {
      api,
      app,
      db,
      superApp,
      sms,
      requests,
      close: async () => {
        await app.close();
        await superApp.close();
        await sms.close();
        await db.destroy();
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function call<T>(stack: Stack, method: string, p: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(stack.api + p, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function clientToken(stack: Stack, client: ClientWithSecret): Promise<string> {
  const res = await call<{ accessToken: string }>(stack, 'POST', '/v1/auth/token', {
    grantType: 'client_credentials',
    clientId: client.clientId,
    clientSecret: client.clientSecret,
  });
  return res.accessToken;
}

export interface World {
  staff: ClientWithSecret;
  carrier: { id: number; plate: string };
  code: CarrierCode;
  otherCarrier: { id: number; plate: string };
  otherCode: CarrierCode;
}

/** An operator with two buses and their codes, and a staff account bound to the first bus. */
export async function seedWorld(stack: Stack): Promise<World> {
  await createOperator(stack.db, 'e2e-bus', 'E2E Bus Co.');
  const operator = await createClient(stack.db, { name: 'bus ops', role: 'operator', operatorId: 'e2e-bus' });
  const staff = await createClient(stack.db, { name: 'driver', role: 'staff', operatorId: 'e2e-bus' });
  const op = await clientToken(stack, operator);
  const bus = async (plate: string, route: string) => {
    const carrier = await call<{ id: number; plate: string }>(
      stack,
      'POST',
      '/v1/carriers',
      { kind: 'bus', plate, route, city: '深圳' },
      op,
    );
    const code = await call<CarrierCode>(stack, 'GET', `/v1/carriers/${carrier.id}/code`, undefined, op);
    return { carrier, code };
  };
  const first = await bus('粤B12345', '36路');
  const second = await bus('粤B67890', '12路');
  await call(stack, 'POST', `/v1/carriers/${first.carrier.id}/staff`, { clientId: staff.clientId }, op);
  return {
    staff,
    carrier: first.carrier,
    code: first.code,
    otherCarrier: second.carrier,
    otherCode: second.code,
  };
}
