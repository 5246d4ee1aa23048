/** The SDK's official-account administration, as the console's admin page uses it, against a listening app. */
import { createClient } from '@ridetrace/server';
import { RideTraceClient, RideTraceError } from '@ridetrace/sdk';
import type { AddressInfo } from 'node:net';
import { beforeAll, expect, it } from 'vitest';
import { useTestApp } from '../support/fixtures.js';
import { signInOfficial } from '../support/flows.js';

const t = useTestApp({ NOTIFY_WORKER: 'off', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
let admin: RideTraceClient;

beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const root = await createClient(t.db, { name: 'root', role: 'admin' });
  admin = new RideTraceClient({ baseUrl: `http://127.0.0.1:${port}` });
  await admin.loginClient(root.clientId, root.clientSecret);
});

it('creates, lists, resets and disables official accounts', async () => {
  const e = await admin.createOfficial({
    username: 'sdk.tracer',
    name: '赵追踪',
    agency: '南山区疾控中心',
    jurisdiction: ['深圳'],
    roles: ['tracer'],
  });
  expect(e.official).toMatchObject({ username: 'sdk.tracer', roles: ['tracer'], disabledAt: null });
  expect(e.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
  await signInOfficial(t, e);

  const list = await admin.listOfficials();
  expect(list.items.map((o) => o.username)).toContain('sdk.tracer');

  const disabled = await admin.disableOfficial(e.official.id);
  expect(disabled.disabledAt).not.toBeNull();

  const reset = await admin.resetOfficial(e.official.id);
  expect(reset.official.disabledAt).toBeNull();
  expect(reset.password).not.toBe(e.password);
  await signInOfficial(t, reset);

  const taken = await admin
    .createOfficial({ username: 'sdk.tracer', name: 'x', agency: 'y', roles: ['tracer'] })
    .catch((err: unknown) => err);
  expect(taken).toBeInstanceOf(RideTraceError);
  expect((taken as RideTraceError).code).toBe('username_taken');
});
