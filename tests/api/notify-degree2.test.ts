/**
 * Notifying secondary contacts (次密接): `POST /v1/cases/:id/notify {degree: 2}` also tells the contacts of close
 * degree-1 contacts, with their own message and advice; their colour follows NOTIFY_DEGREE2_STATUS. Nobody is told
 * twice at one degree; a secondary contact who later turns out degree 1 gets the degree-1 notice too.
 */
import { RideTraceClient } from '@ridetrace/sdk';
import { TencentSmsSender, type TencentSmsOptions } from '@ridetrace/server';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryFailure, SAMPLE_EXPOSURE } from '../support/delivery.js';
import {
  startFakeTencentSms,
  TEST_TENCENT_ACCOUNT,
  type FakeTencentSms,
} from '../support/fake-sms-providers.js';
import { useNotifyWorld } from '../support/fixtures.js';
import { expectError, notifyCase, passengerIdOf, waitFor } from '../support/flows.js';
import { confirmedPassenger, type TestApp, type World } from '../support/test-app.js';
import {
  DAY,
  HOUR,
  iso,
  Kit,
  MIN,
  next,
  newName,
  newPhone,
  type Person,
  type Vehicle,
} from '../support/trace-kit.js';
import type { FakeGateway } from '../support/fake-notify.js';

const SMS_API_KEY = 'sms-key-for-degree2-tests';
const ENV = { SMS_API_KEY, NOTIFY_BACKOFF_BASE_MS: '20', RATE_LIMIT_PER_IP_PER_MINUTE: '100000' };
const AUTHORITY = '深圳市卫生健康委员会';

interface Counts {
  exposed: number;
  queued: number;
  alreadyQueued: number;
}
interface NotifyResult extends Counts {
  caseId: string;
  degree: 1 | 2;
  byDegree: { 1: Counts; 2: Counts };
}
interface NotificationItem {
  personId: string;
  degree: 1 | 2;
  channel: 'app' | 'sms';
  state: string;
}

/** An app user whose super-app id the fake gateways see as `o_<user>`. */
type AppPerson = Person & { user: string };

interface Scene {
  caseId: string;
  caseNumber: string;
  subject: AppPerson;
  /** Degree 1, close: rode with the subject on x. */
  close1: AppPerson;
  /** Degree 2: rode with close1 on y an hour later (app user). */
  second: AppPerson;
  /** Degree 2: a rider registered by staff on y (reached by SMS). */
  rider: { name: string; phone: string; personId: string };
  /** A passenger on y long after close1 left: not a contact. */
  bystander: AppPerson;
  x: Vehicle;
  y: Vehicle;
}

const counts = (exposed: number, queued: number): Counts => ({
  exposed,
  queued,
  alreadyQueued: exposed - queued,
});

function notify(t: TestApp, w: World, caseId: string, body?: object) {
  const req = notifyCase(t, w.tokens.official, caseId);
  return body === undefined ? req : req.send(body);
}

async function notified(t: TestApp, w: World, caseId: string, body?: object): Promise<NotifyResult> {
  const res = await notify(t, w, caseId, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as NotifyResult;
}

async function caseNotifications(t: TestApp, w: World, caseId: string) {
  const res = await t.http().get(`/v1/cases/${caseId}/notifications`).set('authorization', w.tokens.official);
  expect(res.status).toBe(200);
  return res.body as { items: NotificationItem[]; summary: Record<string, number> };
}

async function rowsPerPersonAndDegree(t: TestApp, caseId: string) {
  const r = await sql<{ passenger_id: string; degree: number; n: number }>`
    select passenger_id, degree, count(*)::int as n from notifications
    where case_id = ${caseId}::uuid group by passenger_id, degree order by passenger_id, degree`.execute(
    t.db,
  );
  return r.rows;
}

const statusOf = async (t: TestApp, auth: string) =>
  (await t.http().get('/v1/passengers/me/status').set('authorization', auth).expect(200)).body as {
    colour: string;
    reason: string;
    validUntil: string | null;
  };

const inboxOf = async (t: TestApp, auth: string) =>
  (await t.http().get('/v1/passengers/me/notifications').set('authorization', auth).expect(200)).body
    .items as {
    id: string;
    kind: string;
    exposure: { carrier: { id: number; plate: string }; boardedAt: string; level: string };
    advice: { 'zh-CN': string; en: string };
    observeUntil: string;
  }[];

const accessLogOf = async (t: TestApp, auth: string) =>
  (await t.http().get('/v1/passengers/me/access-log').set('authorization', auth).expect(200)).body.items as {
    agency: string;
    purpose: string;
  }[];

async function appPerson(t: TestApp): Promise<AppPerson> {
  const n = next();
  const user = `d2-${n}`;
  const identity = { name: newName(n), phone: newPhone(n) };
  const auth = await confirmedPassenger(t, user, identity);
  return { id: await passengerIdOf(t, auth), auth, user, ...identity };
}

/**
 * The subject rides x at 0; close1 two minutes later (degree 1, close). An hour later close1 rides y, where
 * `second` boards 3 minutes and a rider registered by staff 4 minutes after them (degree 2), and a bystander two
 * hours later (outside the bus window). The case: infectious from −1 h to +30 min.
 */
async function scene(t: TestApp, w: World): Promise<Scene> {
  const k = new Kit(t, w);
  const x = await k.vehicle('bus');
  const y = await k.vehicle('bus', { staff: true });
  const subject = await appPerson(t);
  const close1 = await appPerson(t);
  const second = await appPerson(t);
  const bystander = await appPerson(t);
  const n = next();
  const riderIdentity = { name: newName(n), phone: newPhone(n) };

  await k.ride(subject, x, 0);
  await k.ride(close1, x, 2 * MIN);
  await k.ride(close1, y, HOUR);
  await k.ride(second, y, HOUR + 3 * MIN);
  await k.manualRide(y, riderIdentity, HOUR + 4 * MIN);
  await k.ride(bystander, y, 3 * HOUR);

  const c = await k.openCase({ phone: subject.phone }, -HOUR, 30 * MIN);
  const d2 = await k.exposures(c.id, '?degree=2');
  // The rider has no token: their person id is the third one found.
  const riderId = d2.items.map((i) => i.personId).find((id) => id !== close1.id && id !== second.id)!;
  expect(d2.items.map((i) => [i.personId, i.degree])).toEqual([
    [close1.id, 1],
    [second.id, 2],
    [riderId, 2],
  ]);
  return {
    caseId: c.id,
    caseNumber: c.caseNumber,
    subject,
    close1,
    second,
    rider: { ...riderIdentity, personId: riderId },
    bystander,
    x,
    y,
  };
}

/** What must never reach a notified person: who the case is. */
const secretsOf = (s: Scene) => [s.caseId, s.caseNumber, s.subject.name, s.subject.phone, s.subject.id];

function messagesTo(msg: FakeGateway, p: AppPerson) {
  return msg.received.filter((r) => r.body.touser === `o_${p.user}`);
}

describe('notify degree 2, NOTIFY_DEGREE2_STATUS default (notice)', () => {
  const { t, w, msg, sms } = useNotifyWorld(ENV);

  it('notifies degree 1 only by default (no body, an empty body, degree 1)', async () => {
    const s = await scene(t, w);
    expect(await notified(t, w, s.caseId)).toEqual({
      caseId: s.caseId,
      degree: 1,
      ...counts(1, 1),
      byDegree: { 1: counts(1, 1), 2: counts(0, 0) },
    });
    for (const body of [{}, { degree: 1 }]) {
      expect(await notified(t, w, s.caseId, body)).toMatchObject({ degree: 1, ...counts(1, 0) });
    }
    expect(await rowsPerPersonAndDegree(t, s.caseId)).toEqual([
      { passenger_id: s.close1.id, degree: 1, n: 1 },
    ]);
    expect(await inboxOf(t, s.second.auth)).toEqual([]);
    expect((await statusOf(t, s.second.auth)).colour).toBe('green');
    expect((await statusOf(t, s.close1.auth)).colour).toBe('yellow');
  });

  it('refuses a degree other than 1 or 2 and unknown fields (400), queuing nothing', async () => {
    const s = await scene(t, w);
    for (const body of [{ degree: 3 }, { degree: '2' }, { degree: 0 }, { degree: 2, extra: true }]) {
      expectError(await notify(t, w, s.caseId, body), 400, 'validation_failed');
    }
    expect(await rowsPerPersonAndDegree(t, s.caseId)).toEqual([]);
  });

  it('degree 2 after degree 1 queues only the secondary contacts, who get the secondary message and stay green', async () => {
    const s = await scene(t, w);
    await notified(t, w, s.caseId);
    const r = await notified(t, w, s.caseId, { degree: 2 });
    expect(r).toEqual({
      caseId: s.caseId,
      degree: 2,
      ...counts(3, 2),
      byDegree: { 1: counts(1, 0), 2: counts(2, 2) },
    });
    expect(await rowsPerPersonAndDegree(t, s.caseId)).toEqual(
      [
        { passenger_id: s.close1.id, degree: 1, n: 1 },
        { passenger_id: s.second.id, degree: 2, n: 1 },
        { passenger_id: s.rider.personId, degree: 2, n: 1 },
      ].sort((a, b) => a.passenger_id.localeCompare(b.passenger_id)),
    );

    const state = await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.summary.sent === 3,
    );
    expect(state.summary).toEqual({ queued: 0, sending: 0, sent: 3, delivered: 0, failed: 0 });
    const byPerson = new Map(state.items.map((i) => [i.personId, i]));
    expect(byPerson.get(s.close1.id)).toMatchObject({ degree: 1, channel: 'app' });
    expect(byPerson.get(s.second.id)).toMatchObject({ degree: 2, channel: 'app' });
    expect(byPerson.get(s.rider.personId)).toMatchObject({ degree: 2, channel: 'sms' });

    // The degree-1 contact: one exposure message; the secondary contact: one secondary message, naming the ride
    // with the degree-1 contact and never the case.
    expect(messagesTo(msg, s.close1).map((m) => m.body.template_id)).toEqual(['ridetrace_exposure']);
    const toSecond = messagesTo(msg, s.second);
    expect(toSecond).toHaveLength(1);
    expect(toSecond[0]!.body).toMatchObject({
      template_id: 'ridetrace_secondary_exposure',
      data: { vehicle: { value: `${s.y.plate} ${s.y.route}` } },
    });
    const texts = sms.received.filter((m) => m.body.phone === s.rider.phone);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.body).toMatchObject({
      template: 'ridetrace_secondary_exposure',
      params: { vehicle: s.y.plate },
    });
    for (const body of [toSecond[0]!.body, texts[0]!.body]) {
      for (const secret of secretsOf(s)) expect(JSON.stringify(body)).not.toContain(secret);
    }
    expect(messagesTo(msg, s.bystander)).toEqual([]);
    expect(messagesTo(msg, s.subject)).toEqual([]);

    // notice: the message only, the colour stays green; the degree-1 contact is yellow.
    expect((await statusOf(t, s.second.auth)).colour).toBe('green');
    expect((await statusOf(t, s.close1.auth)).colour).toBe('yellow');

    const inbox = await inboxOf(t, s.second.auth);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({
      kind: 'secondary_exposure',
      exposure: { carrier: { id: s.y.id, plate: s.y.plate }, boardedAt: iso(HOUR + 3 * MIN), level: 'close' },
      observeUntil: new Date(Date.parse(iso(HOUR + 3 * MIN)) + 14 * DAY).toISOString(),
    });
    expect(inbox[0]!.advice['zh-CN']).toContain('密切接触者');
    expect(inbox[0]!.advice.en).toMatch(/close contact of a confirmed case/);
    const primary = await inboxOf(t, s.close1.auth);
    expect(primary.map((i) => i.kind)).toEqual(['exposure']);
    expect(primary[0]!.advice).not.toEqual(inbox[0]!.advice);
    for (const secret of secretsOf(s)) expect(JSON.stringify(inbox)).not.toContain(secret);
  });

  it('a repeat degree-2 notify queues nobody and sends nothing again', async () => {
    const s = await scene(t, w);
    expect((await notified(t, w, s.caseId, { degree: 2 })).byDegree).toEqual({
      1: counts(1, 1),
      2: counts(2, 2),
    });
    await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.summary.sent === 3,
    );
    const again = await notified(t, w, s.caseId, { degree: 2 });
    expect(again).toMatchObject({ ...counts(3, 0), byDegree: { 1: counts(1, 0), 2: counts(2, 0) } });
    expect(await notified(t, w, s.caseId)).toMatchObject({ ...counts(1, 0) });
    const rows = await rowsPerPersonAndDegree(t, s.caseId);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // Give a wrongly queued second message time to go out before counting.
    await new Promise((r) => setTimeout(r, 300));
    expect(messagesTo(msg, s.second)).toHaveLength(1);
    expect(messagesTo(msg, s.close1)).toHaveLength(1);
    expect(sms.received.filter((m) => m.body.phone === s.rider.phone)).toHaveLength(1);
  });

  it('a secondary contact who later turns out degree 1 also gets the degree-1 notice, once', async () => {
    const s = await scene(t, w);
    await notified(t, w, s.caseId, { degree: 2 });
    await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.summary.sent === 3,
    );
    // A late offline scan: `second` was on x with the subject too.
    await new Kit(t, w).ride(s.second, s.x, 5 * MIN);
    expect(await notified(t, w, s.caseId)).toMatchObject({
      degree: 1,
      byDegree: { 1: counts(2, 1), 2: counts(0, 0) },
    });
    const state = await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.summary.sent === 4,
    );
    expect(
      state.items
        .filter((i) => i.personId === s.second.id)
        .map((i) => i.degree)
        .sort(),
    ).toEqual([1, 2]);
    expect(messagesTo(msg, s.second).map((m) => m.body.template_id)).toEqual([
      'ridetrace_secondary_exposure',
      'ridetrace_exposure',
    ]);
    // Now yellow; the inbox keeps both notices.
    expect((await statusOf(t, s.second.auth)).colour).toBe('yellow');
    expect((await inboxOf(t, s.second.auth)).map((i) => i.kind).sort()).toEqual([
      'exposure',
      'secondary_exposure',
    ]);
    // Degree 2 again: the person is degree 1 now, already told: nothing more.
    expect(await notified(t, w, s.caseId, { degree: 2 })).toMatchObject({
      byDegree: { 1: counts(2, 0), 2: counts(1, 0) },
    });
  });

  it('audits the degree and the counts per degree; the access log names the authority for a system client', async () => {
    const s = await scene(t, w);
    await notified(t, w, s.caseId);
    await notified(t, w, s.caseId, { degree: 2 });
    const res = await t
      .http()
      .get(`/v1/audit?caseId=${s.caseId}&limit=200`)
      .set('authorization', w.tokens.admin)
      .expect(200);
    const entries = (res.body.items as { action: string; people: number; detail: string }[]).filter(
      (e) => e.action === 'case.notify',
    );
    expect(entries).toHaveLength(2);
    const details = entries.map((e) => ({ people: e.people, ...JSON.parse(e.detail) })) as Record<
      string,
      unknown
    >[];
    const d1 = details.find((d) => d.degree === 1)!;
    const d2 = details.find((d) => d.degree === 2)!;
    expect(d1).toMatchObject({
      people: 1,
      queued: 1,
      degree1Exposed: 1,
      degree1Queued: 1,
      degree2Exposed: 0,
      degree2Queued: 0,
      degree2Status: null,
      note: 'queued=1',
    });
    expect(d2).toMatchObject({
      people: 3,
      queued: 2,
      degree1Exposed: 1,
      degree1Queued: 0,
      degree2Exposed: 2,
      degree2Queued: 2,
      degree2Status: 'notice',
      note: 'queued=2',
    });
    for (const d of details) {
      for (const secret of [s.second.name, s.second.phone, s.rider.phone]) {
        expect(JSON.stringify(d)).not.toContain(secret);
      }
    }

    // The notifying client has no agency: the deployment's authority (default) is named, not the client.
    const log = await accessLogOf(t, s.second.auth);
    expect(log.filter((e) => e.purpose === 'notification').map((e) => e.agency)).toEqual(['卫生健康部门']);
  });
});

describe('the SDK', () => {
  const { t, w } = useNotifyWorld(ENV);

  it('notify(id) asks for degree 1, notify(id, { degree: 2 }) for the secondary contacts too', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const official = new RideTraceClient({ baseUrl: `http://127.0.0.1:${port}` });
    await official.loginClient(w.official.clientId, w.official.clientSecret);
    const s = await scene(t, w);
    expect(await official.notify(s.caseId)).toMatchObject({ degree: 1, ...counts(1, 1) });
    expect(await official.notify(s.caseId, { degree: 2 })).toEqual({
      caseId: s.caseId,
      degree: 2,
      ...counts(3, 2),
      byDegree: { 1: counts(1, 0), 2: counts(2, 2) },
    });
    const listed = await official.caseNotifications(s.caseId);
    expect(listed.items.map((i) => i.degree).sort()).toEqual([1, 2, 2]);
  });
});

describe('notify degree 2 with NOTIFY_DEGREE2_STATUS=yellow', () => {
  const { t, w, msg } = useNotifyWorld({
    ...ENV,
    NOTIFY_DEGREE2_STATUS: 'yellow',
    AUTHORITY_NAME: AUTHORITY,
  });

  it('turns secondary contacts yellow until their own contact + observation; clearing works as for degree 1', async () => {
    const s = await scene(t, w);
    expect(await notified(t, w, s.caseId, { degree: 2 })).toMatchObject({
      degree: 2,
      ...counts(3, 3),
    });
    const status = await statusOf(t, s.second.auth);
    expect(status).toMatchObject({
      colour: 'yellow',
      reason: 'exposure',
      validUntil: new Date(Date.parse(iso(HOUR + 3 * MIN)) + 14 * DAY).toISOString(),
    });
    expect((await statusOf(t, s.bystander.auth)).colour).toBe('green');
    await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.summary.sent === 3,
    );
    expect(messagesTo(msg, s.second).map((m) => m.body.template_id)).toEqual([
      'ridetrace_secondary_exposure',
    ]);
    expect((await inboxOf(t, s.second.auth)).map((i) => i.kind)).toEqual(['secondary_exposure']);

    await t
      .http()
      .post('/v1/status/clear')
      .set('authorization', w.tokens.official)
      .send({ personId: s.second.id, caseId: s.caseId, reason: 'negative test' })
      .expect(200);
    expect((await statusOf(t, s.second.auth)).colour).toBe('green');

    // The audit entry says which rule applied; the access log names the configured authority.
    const res = await t
      .http()
      .get(`/v1/audit?caseId=${s.caseId}&limit=200`)
      .set('authorization', w.tokens.admin)
      .expect(200);
    const entry = (res.body.items as { action: string; detail: string }[]).find(
      (e) => e.action === 'case.notify',
    )!;
    expect(JSON.parse(entry.detail)).toMatchObject({ degree: 2, degree2Status: 'yellow', degree2Queued: 2 });
    const log = await accessLogOf(t, s.second.auth);
    expect(log.filter((e) => e.purpose === 'notification').map((e) => e.agency)).toEqual([AUTHORITY]);
  });
});

describe('Tencent SMS: the secondary-contact template', () => {
  let fake: FakeTencentSms;
  const [EXPOSURE_TEMPLATE, SECONDARY_TEMPLATE] = TEST_TENCENT_ACCOUNT.templateIds as [string, string];
  const sender = (over: Partial<TencentSmsOptions> = {}) =>
    new TencentSmsSender({
      baseUrl: fake.baseUrl,
      secretId: TEST_TENCENT_ACCOUNT.secretId,
      secretKey: TEST_TENCENT_ACCOUNT.secretKey,
      appId: TEST_TENCENT_ACCOUNT.appId,
      signName: TEST_TENCENT_ACCOUNT.signName,
      region: 'ap-guangzhou',
      exposureTemplateId: EXPOSURE_TEMPLATE,
      otpTemplateId: 'otp-unused',
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
      ...over,
    });

  beforeAll(async () => {
    fake = await startFakeTencentSms();
  });
  afterAll(() => fake.close());

  it('sends degree 2 with TENCENT_SMS_SECONDARY_TEMPLATE_ID, degree 1 (or none) with the exposure template', async () => {
    const s = sender({ secondaryTemplateId: SECONDARY_TEMPLATE });
    await s.send('13800138000', { ...SAMPLE_EXPOSURE, degree: 2 });
    await s.send('13800138001', SAMPLE_EXPOSURE);
    await s.send('13800138002', { ...SAMPLE_EXPOSURE, degree: 1 });
    await s.close();
    expect(fake.sent.map((m) => [m.phone, m.templateId, m.params])).toEqual([
      ['+8613800138000', SECONDARY_TEMPLATE, ['2026-11-21 08:30', '粤B12345', '2026-12-05']],
      ['+8613800138001', EXPOSURE_TEMPLATE, ['2026-11-21 08:30', '粤B12345', '2026-12-05']],
      ['+8613800138002', EXPOSURE_TEMPLATE, ['2026-11-21 08:30', '粤B12345', '2026-12-05']],
    ]);
  });

  it('without a secondary template a degree-2 SMS fails for good, never sent with the exposure text', async () => {
    const before = fake.sent.length;
    const s = sender();
    expect(await deliveryFailure(s.send('13800138003', { ...SAMPLE_EXPOSURE, degree: 2 }))).toEqual({
      message: 'Tencent SMS: no secondary-contact template (TENCENT_SMS_SECONDARY_TEMPLATE_ID)',
      retryable: false,
    });
    await s.close();
    expect(fake.sent.length).toBe(before);
  });
});
