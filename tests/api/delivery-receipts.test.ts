/**
 * Delivery receipts (POST /v1/delivery-receipts/{channel}): the fake gateways name each accepted message by an id,
 * post its receipt back with DELIVERY_RECEIPT_TOKEN, and notifications go sent → delivered, fall back from the
 * super-app to SMS, or fail with the provider's reason.
 */
import { loadConfig, metricsOf } from '@ridetrace/server';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useNotifyWorld, useTestApp, useWorld } from '../support/fixtures.js';
import {
  createStaffedCarrier,
  expectError,
  openCase,
  notifyCase,
  registerManualRide,
  scanRide,
  waitFor,
} from '../support/flows.js';
import { confirmedPassenger, type TestApp } from '../support/test-app.js';
import type { World } from '../support/test-app.js';

const TOKEN = 'receipt-token-for-the-tests-0123456789abcdef';
const MIN = 60_000;

interface Item {
  id: string;
  personId: string;
  channel: 'app' | 'sms';
  state: 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
}
interface Notifications {
  items: Item[];
  summary: Record<string, number>;
}

let counter = 0;
const nextPhone = () => `136${String(++counter).padStart(8, '0')}`;

/** A bus: the case subject and `apps` app users scan it now, `riders` riders are registered by staff. */
async function scene(t: TestApp, w: World, o: { apps?: number; riders?: number } = {}) {
  const k = ++counter;
  const { carrier, code } = await createStaffedCarrier(t, w, {
    kind: 'bus',
    plate: `粤D${String(k).padStart(5, '0')}`,
    route: '7路',
    city: '深圳',
  });
  const subjectPhone = nextPhone();
  await scanRide(
    t,
    await confirmedPassenger(t, `dr${k}-case`, { name: '王大明', phone: subjectPhone }),
    code.url,
  );
  const apps: { user: string; openid: string; phone: string }[] = [];
  for (let i = 0; i < (o.apps ?? 0); i++) {
    const user = `dr${k}-app${i}`;
    const phone = nextPhone();
    await scanRide(t, await confirmedPassenger(t, user, { name: '李小红', phone }), code.url);
    apps.push({ user, openid: `o_${user}`, phone });
  }
  const riders: string[] = [];
  for (let i = 0; i < (o.riders ?? 0); i++) {
    const phone = nextPhone();
    const boardedAt = new Date(Date.now() - MIN).toISOString();
    await registerManualRide(t, w, carrier.id, { name: '刘阿婆', phone, boardedAt });
    riders.push(phone);
  }
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: subjectPhone },
    caseNumber: `DR-${k}`,
    reason: 'positive PCR (receipts)',
  }).expect(201);
  return { caseId: c.body.id as string, apps, riders };
}

async function notifications(t: TestApp, w: World, caseId: string): Promise<Notifications> {
  const res = await t
    .http()
    .get(`/v1/cases/${caseId}/notifications`)
    .set('authorization', w.tokens.official)
    .expect(200);
  return res.body as Notifications;
}

const receipts = (t: TestApp, channel: string, body: unknown, auth = `Bearer ${TOKEN}`) =>
  t
    .http()
    .post(`/v1/delivery-receipts/${channel}`)
    .set('authorization', auth)
    .send(body as object);

/** The counter's value for these labels in the app's metrics (0 when never counted). */
async function counted(t: TestApp, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metricsOf(t.app.ctx).registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { labels: Record<string, unknown>; value: number }[];
  const v = values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

describe('delivery receipts from the fake gateways', () => {
  const { t, w, msg, sms } = useNotifyWorld({ DELIVERY_RECEIPT_TOKEN: TOKEN, NOTIFY_BACKOFF_BASE_MS: '20' });

  beforeAll(async () => {
    // The fakes post receipts over real HTTP, as a gateway's bridge would.
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    for (const gateway of [msg, sms]) gateway.receipts.target = { baseUrl, token: TOKEN };
  });

  afterEach(() => {
    for (const gateway of [msg, sms]) {
      gateway.receipts.delayMs = null;
      gateway.receipts.failFor.clear();
      gateway.receipts.pending.length = 0;
    }
  });

  it('sent → delivered for a super-app message and an SMS; the summary counts them', async () => {
    for (const gateway of [msg, sms]) gateway.receipts.delayMs = 20;
    const delivered = {
      app: await counted(t, 'ridetrace_notification_deliveries_total', {
        channel: 'superapp',
        result: 'delivered',
      }),
      sms: await counted(t, 'ridetrace_notification_deliveries_total', {
        channel: 'sms',
        result: 'delivered',
      }),
    };
    const s = await scene(t, w, { apps: 1, riders: 1 });
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);
    const v = await waitFor(
      () => notifications(t, w, s.caseId),
      (x) => x.summary.delivered === 2,
    );
    expect(v.summary).toEqual({ queued: 0, sending: 0, sent: 0, delivered: 2, failed: 0 });
    expect(v.items.map((i) => i.channel).sort()).toEqual(['app', 'sms']);
    for (const item of v.items) {
      expect(item).toMatchObject({ state: 'delivered', attempts: 1, lastError: null });
      expect(Date.parse(item.deliveredAt!)).toBeGreaterThanOrEqual(Date.parse(item.sentAt!));
    }
    // The rows keep the ids the gateways named the messages by, one namespace per channel.
    const stored = await sql<{ provider_message_id: string }>`
      select provider_message_id from notifications where case_id = ${s.caseId} order by channel`.execute(
      t.db,
    );
    const app = msg.received.find((r) => r.body.touser === s.apps[0]!.openid)!;
    const text = sms.received.find((r) => r.body.phone === s.riders[0])!;
    expect(stored.rows.map((r) => r.provider_message_id)).toEqual([
      `app:${app.messageId}`,
      `sms:${text.messageId}`,
    ]);
    // 19 digits, kept exactly (a JavaScript number would have rounded them).
    expect(app.messageId).toMatch(/^\d{19}$/);
    expect(
      await counted(t, 'ridetrace_notification_deliveries_total', {
        channel: 'superapp',
        result: 'delivered',
      }),
    ).toBe(delivered.app + 1);
    expect(
      await counted(t, 'ridetrace_notification_deliveries_total', { channel: 'sms', result: 'delivered' }),
    ).toBe(delivered.sms + 1);
  });

  it('a super-app message reported failed falls back to SMS, which is then delivered', async () => {
    for (const gateway of [msg, sms]) gateway.receipts.delayMs = 20;
    const s = await scene(t, w, { apps: 1 });
    msg.receipts.failFor.set(s.apps[0]!.openid, 'user blocked the mini-program');
    const before = await counted(t, 'ridetrace_notification_deliveries_total', {
      channel: 'superapp',
      result: 'undelivered',
    });
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);
    const v = await waitFor(
      () => notifications(t, w, s.caseId),
      (x) => x.items[0]?.state === 'delivered',
    );
    expect(v.items).toHaveLength(1);
    expect(v.items[0]).toMatchObject({ channel: 'sms', state: 'delivered', attempts: 1, lastError: null });
    expect(msg.received.filter((r) => r.body.touser === s.apps[0]!.openid)).toHaveLength(1);
    expect(sms.received.filter((r) => r.body.phone === s.apps[0]!.phone)).toHaveLength(1);
    const posted = msg.receipts.posted.filter((p) => p.receipts[0]?.status === 'failed');
    expect(posted.at(-1)).toMatchObject({ status: 200, body: { updated: 1, ignored: 0 } });
    expect(
      await counted(t, 'ridetrace_notification_deliveries_total', {
        channel: 'superapp',
        result: 'undelivered',
      }),
    ).toBe(before + 1);
  });

  it('an SMS reported failed ends failed with the reason, phone numbers cut from it', async () => {
    sms.receipts.delayMs = 20;
    const s = await scene(t, w, { riders: 1 });
    sms.receipts.failFor.set(s.riders[0]!, `UNDELIV to +86 ${s.riders[0]!} (absent subscriber)`);
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);
    const v = await waitFor(
      () => notifications(t, w, s.caseId),
      (x) => x.items[0]?.state === 'failed',
    );
    expect(v.items[0]).toMatchObject({
      channel: 'sms',
      state: 'failed',
      lastError: 'not delivered: UNDELIV to … (absent subscriber)',
      deliveredAt: null,
    });
    expect(v.summary).toEqual({ queued: 0, sending: 0, sent: 0, delivered: 0, failed: 1 });
  });

  it('unknown and repeated receipts change nothing and are counted as ignored', async () => {
    const s = await scene(t, w, { riders: 1 });
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);
    await waitFor(
      () => notifications(t, w, s.caseId),
      (x) => x.items[0]?.state === 'sent',
    );
    const id = sms.received.find((r) => r.body.phone === s.riders[0])!.messageId;
    const batch = {
      receipts: [
        { messageId: id, status: 'delivered' },
        { messageId: 'no-such-message', status: 'delivered' },
        { messageId: id, status: 'failed', error: 'late' },
      ],
    };
    expect((await receipts(t, 'sms', batch).expect(200)).body).toEqual({ updated: 1, ignored: 2 });
    // The gateway resends: nothing changes.
    expect((await receipts(t, 'sms', batch).expect(200)).body).toEqual({ updated: 0, ignored: 3 });
    // The same id on the other channel is another message.
    expect((await receipts(t, 'app', batch).expect(200)).body).toEqual({ updated: 0, ignored: 3 });
    const v = await notifications(t, w, s.caseId);
    expect(v.items[0]).toMatchObject({ state: 'delivered', lastError: null });
    expect(
      await counted(t, 'ridetrace_delivery_receipts_ignored_total', { channel: 'sms' }),
    ).toBeGreaterThanOrEqual(5);
  });

  it('a missing or wrong token: 401 token_invalid, the same answer every time, before the body is read', async () => {
    const body = { receipts: [{ messageId: 'x', status: 'delivered' }] };
    const answers = [];
    for (const auth of [
      undefined,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      'Bearer ',
      TOKEN,
      `Basic ${TOKEN}`,
    ]) {
      let req = t.http().post('/v1/delivery-receipts/sms');
      if (auth !== undefined) req = req.set('authorization', auth);
      const res = await req.send(body);
      expectError(res, 401, 'token_invalid');
      answers.push(res.body);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    // A body that does not match the schema is not looked at without the token.
    expectError(await receipts(t, 'sms', { receipts: [] }, 'Bearer wrong'), 401, 'token_invalid');
    // An official's token is not a receipt token.
    expectError(await receipts(t, 'sms', body, w.tokens.official), 401, 'token_invalid');
  });

  it('a body or channel outside the schema: 400 validation_failed', async () => {
    const bad: [string, unknown][] = [
      ['sms', {}],
      ['sms', { receipts: [] }],
      [
        'sms',
        { receipts: Array.from({ length: 1001 }, (_, i) => ({ messageId: `m${i}`, status: 'delivered' })) },
      ],
      ['sms', { receipts: [{ messageId: 'm1', status: 'read' }] }],
      ['sms', { receipts: [{ messageId: 'm1' }] }],
      ['sms', { receipts: [{ messageId: 'with space', status: 'delivered' }] }],
      ['sms', { receipts: [{ messageId: '', status: 'delivered' }] }],
      ['sms', { receipts: [{ messageId: 'x'.repeat(129), status: 'delivered' }] }],
      ['sms', { receipts: [{ messageId: 'm1', status: 'failed', error: 'line\nbreak' }] }],
      ['sms', { receipts: [{ messageId: 'm1', status: 'delivered', phone: '13800000000' }] }],
      ['sms', { receipts: [{ messageId: 'm1', status: 'delivered' }], extra: true }],
      ['email', { receipts: [{ messageId: 'm1', status: 'delivered' }] }],
    ];
    for (const [channel, body] of bad)
      expectError(await receipts(t, channel, body), 400, 'validation_failed');
    const res = await t
      .http()
      .post('/v1/delivery-receipts/sms')
      .set('authorization', `Bearer ${TOKEN}`)
      .set('content-type', 'application/json')
      .send('{"receipts":');
    expectError(res, 400, 'malformed_json');
    // 1000 receipts is a batch (none known here).
    const full = Array.from({ length: 1000 }, (_, i) => ({ messageId: `unknown-${i}`, status: 'delivered' }));
    expect((await receipts(t, 'app', { receipts: full }).expect(200)).body).toEqual({
      updated: 0,
      ignored: 1000,
    });
  });
});

describe('what a receipt does to a row (no worker: the rows stay as the receipts leave them)', () => {
  const { t, w } = useWorld({ DELIVERY_RECEIPT_TOKEN: TOKEN, NOTIFY_WORKER: 'off' });

  /** A queued notification of a new case, made `sent` on `channel` with the provider's id `messageId`. */
  async function sentRow(channel: 'app' | 'sms', messageId: string) {
    const s = await scene(t, w, channel === 'app' ? { apps: 1 } : { riders: 1 });
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);
    await sql`
      update notifications set state = 'sent', sent_at = now(), attempts = 1,
        provider_message_id = ${`${channel}:${messageId}`}
      where case_id = ${s.caseId}`.execute(t.db);
    return s.caseId;
  }

  const row = async (caseId: string) =>
    (
      await sql<{
        state: string;
        channel: string;
        attempts: number;
        last_error: string | null;
        provider_message_id: string | null;
        delivered_at: Date | null;
        next_attempt_at: Date;
      }>`select * from notifications where case_id = ${caseId}`.execute(t.db)
    ).rows[0]!;

  it('failed super-app message: queued again as an SMS from attempt 0, its reason in lastError, its id forgotten', async () => {
    const caseId = await sentRow('app', '4000000000000000123');
    const res = await receipts(t, 'app', {
      receipts: [
        { messageId: '4000000000000000123', status: 'failed', error: 'user blocked the mini-program' },
      ],
    }).expect(200);
    expect(res.body).toEqual({ updated: 1, ignored: 0 });
    const r = await row(caseId);
    expect(r).toMatchObject({
      state: 'queued',
      channel: 'sms',
      attempts: 0,
      last_error: 'app: not delivered: user blocked the mini-program',
      provider_message_id: null,
      delivered_at: null,
    });
    expect(r.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    // Resent, it finds nothing to change.
    expect(
      (
        await receipts(t, 'app', {
          receipts: [{ messageId: '4000000000000000123', status: 'failed' }],
        }).expect(200)
      ).body,
    ).toEqual({ updated: 0, ignored: 1 });
  });

  it('failed without a reason; a delivered row is final; a receipt for a queued row is ignored', async () => {
    const failed = await sentRow('sms', 'serial-1');
    await receipts(t, 'sms', { receipts: [{ messageId: 'serial-1', status: 'failed' }] }).expect(200);
    expect(await row(failed)).toMatchObject({ state: 'failed', last_error: 'not delivered' });

    const done = await sentRow('sms', 'serial-2');
    await receipts(t, 'sms', { receipts: [{ messageId: 'serial-2', status: 'delivered' }] }).expect(200);
    const late = await receipts(t, 'sms', {
      receipts: [{ messageId: 'serial-2', status: 'failed', error: 'x' }],
    });
    expect(late.body).toEqual({ updated: 0, ignored: 1 });
    expect(await row(done)).toMatchObject({ state: 'delivered', last_error: null });
    expect((await row(done)).delivered_at).toBeInstanceOf(Date);

    const s = await scene(t, w, { riders: 1 });
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);
    const v = await notifications(t, w, s.caseId);
    expect(v.items[0]!.state).toBe('queued');
    // Ids are stored only when a message is sent: nothing a receipt could name.
    expect((await row(s.caseId)).provider_message_id).toBeNull();
  });
});

describe('without DELIVERY_RECEIPT_TOKEN', () => {
  const t = useTestApp();

  it('the receipt route answers 404 route_not_found, as if it did not exist', async () => {
    for (const auth of [undefined, `Bearer ${TOKEN}`, 'Bearer ']) {
      let req = t.http().post('/v1/delivery-receipts/app');
      if (auth !== undefined) req = req.set('authorization', auth);
      expectError(
        await req.send({ receipts: [{ messageId: 'm1', status: 'delivered' }] }),
        404,
        'route_not_found',
      );
    }
    expectError(await t.http().post('/v1/delivery-receipts/sms').send({}), 404, 'route_not_found');
  });
});

describe('DELIVERY_RECEIPT_TOKEN', () => {
  const config = (token: string) => loadConfig({ NODE_ENV: 'test', DELIVERY_RECEIPT_TOKEN: token });

  it('takes 32 to 200 printable characters; blank is unset; anything else refuses to start', () => {
    expect(config(TOKEN).notify.receiptToken).toBe(TOKEN);
    expect(config('  ').notify.receiptToken).toBeUndefined();
    for (const bad of ['short', 'x'.repeat(31), 'x'.repeat(201), `${'x'.repeat(20)} ${'y'.repeat(20)}`])
      expect(() => config(bad)).toThrow(/DELIVERY_RECEIPT_TOKEN must be 32 to 200 printable characters/);
  });
});
