import { createClient } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useNotifyWorld } from '../support/fixtures.js';
import {
  grantReveal,
  createStaffedCarrier,
  expectError,
  notifyCase,
  openCase,
  passengerIdOf,
  registerManualRide,
  scanRide,
  seedPersonRegisteredTwice,
  waitFor,
} from '../support/flows.js';
import { clientToken, confirmedPassenger, type TestApp, type World } from '../support/test-app.js';

const MIN = 60_000;
const DAY = 86_400_000;
const SMS_API_KEY = 'sms-key-for-notify-tests';

interface NotificationItem {
  id: string;
  caseId: string;
  personId: string;
  channel: 'app' | 'sms';
  state: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
}
interface CaseNotifications {
  items: NotificationItem[];
  summary: Record<string, number>;
}

interface Person {
  name: string;
  phone: string;
  personId: string;
  boardedAt: string;
  /** App users only. */
  user?: string;
  auth?: string;
}

interface Scenario {
  caseId: string;
  caseNumber: string;
  reason: string;
  carrierId: number;
  plate: string;
  infectiousTo: string;
  subject: Person;
  apps: Person[];
  riders: Person[];
  stranger: Person;
}

let counter = 0;
const nextPhone = () => `137${String(++counter).padStart(8, '0')}`;
const APP_NAMES = ['李小红', '赵子龙', '孙尚香', '周公瑾'];
const RIDER_NAMES = ['刘阿婆', '陈老伯', '黄大叔'];

/**
 * One bus, a case subject (app user) who boarded 20 minutes ago, app users and manual riders boarding the
 * given minutes ago (offline scans: boardedAt exact), a stranger 3 hours ago (outside the window), and an
 * open case on the subject.
 */
async function scenario(
  t: TestApp,
  w: World,
  opts: { apps?: number[]; riders?: number[] } = {},
): Promise<Scenario> {
  const k = ++counter;
  const plate = `粤B${String(k).padStart(5, '0')}`;
  const { carrier, code } = await createStaffedCarrier(t, w, {
    kind: 'bus',
    plate,
    route: '36路',
    city: '深圳',
  });
  const now = Date.now();
  const ago = (minutes: number) => new Date(now - minutes * MIN).toISOString();

  const appUser = async (user: string, name: string, boardedAt: string): Promise<Person> => {
    const phone = nextPhone();
    const auth = await confirmedPassenger(t, user, { name, phone });
    const ride = await scanRide(t, auth, code.url, boardedAt);
    expect(ride.boardedAt).toBe(boardedAt);
    return { name, phone, personId: await passengerIdOf(t, auth), boardedAt, user, auth };
  };

  const subject = await appUser(`n${k}-case`, '王大明', ago(20));
  const apps: Person[] = [];
  for (const [i, m] of (opts.apps ?? []).entries()) {
    apps.push(await appUser(`n${k}-app${i}`, APP_NAMES[i % APP_NAMES.length]!, ago(m)));
  }
  const riders: Person[] = [];
  for (const [i, m] of (opts.riders ?? []).entries()) {
    const name = RIDER_NAMES[i % RIDER_NAMES.length]!;
    const phone = nextPhone();
    const boardedAt = ago(m);
    const res = await registerManualRide(t, w, carrier.id, { name, phone, boardedAt });
    expect(res.rider.matched).toBe(false);
    riders.push({ name, phone, personId: '', boardedAt });
  }
  const stranger = await appUser(`n${k}-stranger`, '钱多多', ago(180));

  const caseNumber = `C-${k}`;
  const reason = `positive PCR ${k}`;
  const infectiousTo = ago(1);
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: subject.phone },
    infectiousFrom: ago(24 * 60),
    infectiousTo,
    caseNumber,
    reason,
  });
  expect(c.status).toBe(201);

  // Manual riders have no token: their person ids come from the (revealed) exposure list.
  await grantReveal(t, w.tokens.official, c.body.id);
  const ex = await t
    .http()
    .get(`/v1/cases/${c.body.id}/exposures?limit=100&reveal=true`)
    .set('authorization', w.tokens.official)
    .expect(200);
  expect(ex.body.total).toBe(apps.length + riders.length);
  for (const r of riders) {
    const item = (ex.body.items as { personId: string; phone: string }[]).find((i) => i.phone === r.phone);
    expect(item).toBeDefined();
    r.personId = item!.personId;
  }
  return {
    caseId: c.body.id as string,
    caseNumber,
    reason,
    carrierId: carrier.id,
    plate,
    infectiousTo,
    subject,
    apps,
    riders,
    stranger,
  };
}

async function caseNotifications(t: TestApp, w: World, caseId: string): Promise<CaseNotifications> {
  const res = await t.http().get(`/v1/cases/${caseId}/notifications`).set('authorization', w.tokens.official);
  expect(res.status).toBe(200);
  return res.body as CaseNotifications;
}

async function notificationRows(t: TestApp, caseId: string) {
  const r = await sql<{ passenger_id: string; channel: string; n: number }>`
    select passenger_id, min(channel) as channel, count(*)::int as n
    from notifications where case_id = ${caseId}::uuid group by passenger_id`.execute(t.db);
  return r.rows;
}

/** Strings that must never reach an exposed person: they identify the case. */
function caseSecrets(s: Scenario): string[] {
  return [s.caseId, s.caseNumber, s.reason, s.subject.name, s.subject.phone, s.subject.personId];
}

describe('notify with working gateways', () => {
  const { t, w, msg, sms } = useNotifyWorld({ SMS_API_KEY, NOTIFY_BACKOFF_BASE_MS: '20' });

  it('queues exactly one notification per exposed person; a repeat call queues none', async () => {
    const s = await scenario(t, w, { apps: [15, 45], riders: [18] });
    const first = await notifyCase(t, w.tokens.official, s.caseId);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      caseId: s.caseId,
      degree: 1,
      exposed: 3,
      queued: 3,
      alreadyQueued: 0,
      byDegree: {
        1: { exposed: 3, queued: 3, alreadyQueued: 0 },
        2: { exposed: 0, queued: 0, alreadyQueued: 0 },
      },
    });

    const exposed = [...s.apps, ...s.riders].map((p) => p.personId).sort();
    const rows = await notificationRows(t, s.caseId);
    expect(rows.map((r) => r.passenger_id).sort()).toEqual(exposed);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // App users start on the super-app message, manual riders on SMS.
    const channelOf = new Map(rows.map((r) => [r.passenger_id, r.channel]));
    for (const a of s.apps) expect(channelOf.get(a.personId)).toBe('app');
    for (const r of s.riders) expect(channelOf.get(r.personId)).toBe('sms');
    expect(channelOf.has(s.subject.personId)).toBe(false);
    expect(channelOf.has(s.stranger.personId)).toBe(false);

    const again = await notifyCase(t, w.tokens.official, s.caseId);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      caseId: s.caseId,
      degree: 1,
      exposed: 3,
      queued: 0,
      alreadyQueued: 3,
      byDegree: {
        1: { exposed: 3, queued: 0, alreadyQueued: 3 },
        2: { exposed: 0, queued: 0, alreadyQueued: 0 },
      },
    });
    const after = await notificationRows(t, s.caseId);
    expect(after).toHaveLength(3);
    expect(after.every((r) => r.n === 1)).toBe(true);
  });

  it('two concurrent notify calls still give one notification per person', async () => {
    const s = await scenario(t, w, { apps: [12, 25], riders: [16] });
    const [a, b] = await Promise.all([
      notifyCase(t, w.tokens.official, s.caseId),
      notifyCase(t, w.tokens.official, s.caseId),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.exposed).toBe(3);
    expect(b.body.exposed).toBe(3);
    expect(a.body.queued + b.body.queued).toBe(3);
    expect(a.body.alreadyQueued + b.body.alreadyQueued).toBe(3);

    const rows = await notificationRows(t, s.caseId);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    const marks = await sql<{ n: number }>`
      select count(*)::int as n from exposure_marks where case_id = ${s.caseId}::uuid`.execute(t.db);
    expect(marks.rows[0]!.n).toBe(3);
  });

  it('a person registered twice (manual rider, later app user with the same phone) is notified once', async () => {
    const k = ++counter;
    const { caseId, manual, appAuth } = await seedPersonRegisteredTwice(t, w, {
      carrier: { kind: 'taxi', plate: `粤B${String(k).padStart(5, '0')}`, city: '深圳' },
      subject: { user: `twice${k}-case`, name: '王大明', phone: nextPhone() },
      person: { user: `twice${k}-app`, name: '吴用', phone: nextPhone() },
      manualMinutesAgo: 19,
      appRideMinutesAgo: 18,
      caseNumber: `C-${k}`,
      reason: 'positive',
    });
    expect(manual.rider.matched).toBe(false);

    const res = await notifyCase(t, w.tokens.official, caseId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ exposed: 1, queued: 1, alreadyQueued: 0 });
    const rows = await notificationRows(t, caseId);
    expect(rows).toHaveLength(1);
    // The app registration is preferred: the person is reached by super-app message.
    expect(rows[0]!.channel).toBe('app');
    // Both registrations of the person are marked (yellow).
    const marks = await sql<{ n: number }>`
      select count(*)::int as n from exposure_marks where case_id = ${caseId}::uuid`.execute(t.db);
    expect(marks.rows[0]!.n).toBe(2);
    const status = await t.http().get('/v1/passengers/me/status').set('authorization', appAuth).expect(200);
    expect(status.body.colour).toBe('yellow');
  });

  it('a person who has the app but rode only as a manual rider is reached by super-app message', async () => {
    // docs/api.md: registrations with one phone are one person, sent a super-app message when they have the app.
    const k = ++counter;
    const { caseId, appAuth } = await seedPersonRegisteredTwice(t, w, {
      carrier: { kind: 'bus', plate: `粤B${String(k).padStart(5, '0')}`, city: '深圳' },
      subject: { user: `appman${k}-case`, name: '王大明', phone: nextPhone() },
      person: { user: `appman${k}-app`, name: '吴用', phone: nextPhone() },
      manualMinutesAgo: 15,
      caseNumber: `C-${k}`,
      reason: 'positive',
    });
    await notifyCase(t, w.tokens.official, caseId).expect(200);
    const state = await waitFor(
      () => caseNotifications(t, w, caseId),
      (v) => v.summary.sent === 1,
    );
    expect(state.items).toHaveLength(1);
    expect(state.items[0]!.channel).toBe('app');
    expect(msg.received.filter((r) => r.body.touser === `o_appman${k}-app`)).toHaveLength(1);
    const inbox = await t
      .http()
      .get('/v1/passengers/me/notifications')
      .set('authorization', appAuth)
      .expect(200);
    expect(inbox.body.items).toHaveLength(1);
  });

  it('delivers a super-app message to app users and an SMS to manual riders, naming no case', async () => {
    const s = await scenario(t, w, { apps: [14], riders: [17] });
    const app = s.apps[0]!;
    const rider = s.riders[0]!;
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);

    const state = await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.summary.sent === 2,
    );
    expect(state.summary).toEqual({ queued: 0, sending: 0, sent: 2, delivered: 0, failed: 0 });
    for (const item of state.items) {
      expect(item).toMatchObject({ caseId: s.caseId, state: 'sent', attempts: 1, lastError: null });
      expect(item.sentAt).not.toBeNull();
    }
    const byPerson = new Map(state.items.map((i) => [i.personId, i]));
    expect(byPerson.get(app.personId)?.channel).toBe('app');
    expect(byPerson.get(rider.personId)?.channel).toBe('sms');

    // The app user: one super-app message to their openid, no SMS.
    const messages = msg.received.filter((r) => r.body.touser === `o_${app.user}`);
    expect(messages).toHaveLength(1);
    const m = messages[0]!;
    expect(m.path).toBe('/cgi-bin/message/subscribe/send');
    expect(m.body).toMatchObject({
      touser: `o_${app.user}`,
      template_id: 'ridetrace_exposure',
      miniprogram_state: 'formal',
    });
    expect(m.accessToken).toMatch(/\S/);
    expect(JSON.stringify(m)).not.toContain('test-app-secret');
    expect(JSON.stringify(m.body)).toContain(s.plate);
    for (const secret of caseSecrets(s)) expect(JSON.stringify(m.body)).not.toContain(secret);
    expect(sms.received.filter((r) => r.body.phone === app.phone)).toHaveLength(0);

    // The manual rider: one SMS to their phone, with the gateway API key.
    const texts = sms.received.filter((r) => r.body.phone === rider.phone);
    expect(texts).toHaveLength(1);
    const text = texts[0]!;
    expect(text.path).toBe('/sms/send');
    expect(text.headers.authorization).toBe(`Bearer ${SMS_API_KEY}`);
    expect(JSON.stringify(text.body)).toContain(s.plate);
    for (const secret of caseSecrets(s)) expect(JSON.stringify(text.body)).not.toContain(secret);
    // Nobody else was contacted about this case.
    expect(msg.received.filter((r) => r.body.touser === `o_${s.subject.user}`)).toHaveLength(0);
    expect(msg.received.filter((r) => r.body.touser === `o_${s.stranger.user}`)).toHaveLength(0);
  });

  it("lists the exposure in the exposed passenger's inbox without naming the case", async () => {
    const s = await scenario(t, w, { apps: [15, 45] });
    const [close, possible] = s.apps as [Person, Person];
    const inbox = (auth: string) =>
      t.http().get('/v1/passengers/me/notifications').set('authorization', auth).expect(200);

    // Nothing before the official notifies.
    expect((await inbox(close.auth!)).body).toEqual({ items: [] });
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);

    const observeUntil = new Date(Date.parse(s.infectiousTo) + 14 * DAY).toISOString();
    const res = await inbox(close.auth!);
    expect(res.body.items).toHaveLength(1);
    const item = res.body.items[0];
    expect(Object.keys(item).sort()).toEqual([
      'advice',
      'createdAt',
      'exposure',
      'id',
      'kind',
      'observeUntil',
    ]);
    expect(item).toMatchObject({
      kind: 'exposure',
      exposure: {
        carrier: { id: s.carrierId, kind: 'bus', plate: s.plate, route: '36路', city: '深圳' },
        boardedAt: close.boardedAt,
        level: 'close',
      },
      observeUntil,
    });
    expect(Object.keys(item.exposure).sort()).toEqual(['boardedAt', 'carrier', 'level']);
    expect(Object.keys(item.advice).sort()).toEqual(['en', 'zh-CN']);
    expect(item.advice['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
    expect(item.advice.en).toMatch(/[a-z]{3,}/i);
    for (const secret of caseSecrets(s)) expect(JSON.stringify(res.body)).not.toContain(secret);

    const other = await inbox(possible.auth!);
    expect(other.body.items).toHaveLength(1);
    expect(other.body.items[0].exposure).toMatchObject({ boardedAt: possible.boardedAt, level: 'possible' });
    expect(other.body.items[0].observeUntil).toBe(observeUntil);

    // Neither the stranger nor the case subject has an exposure.
    expect((await inbox(s.stranger.auth!)).body).toEqual({ items: [] });
    expect((await inbox(s.subject.auth!)).body).toEqual({ items: [] });
  });

  it('refuses a closed case (409), an unknown case (404), and callers without trace:notify (403)', async () => {
    const closed = await scenario(t, w, { apps: [15] });
    await t
      .http()
      .post(`/v1/cases/${closed.caseId}/close`)
      .set('authorization', w.tokens.official)
      .send({ reason: 'recovered' })
      .expect(200);
    expectError(await notifyCase(t, w.tokens.official, closed.caseId), 409, 'case_closed');
    expect(await notificationRows(t, closed.caseId)).toHaveLength(0);

    expectError(await notifyCase(t, w.tokens.official, randomUUID()), 404, 'case_not_found');
    expectError(await notifyCase(t, w.tokens.official, 'not-a-uuid'), 400, 'validation_failed');

    const open = await scenario(t, w, { apps: [15] });
    const reader = await createClient(t.db, { name: 'r', role: 'official', scopes: ['trace:read'] });
    const readerToken = await clientToken(t, reader);
    expectError(await notifyCase(t, readerToken, open.caseId), 403, 'forbidden');
    // A full official asking for a token without trace:notify is refused too.
    const narrowed = await clientToken(t, w.official, 'trace:read trace:reveal');
    expectError(await notifyCase(t, narrowed, open.caseId), 403, 'forbidden');
    for (const token of [open.apps[0]!.auth!, w.tokens.staff, w.tokens.operator, w.tokens.admin]) {
      expectError(await notifyCase(t, token, open.caseId), 403, 'forbidden');
    }
    expectError(await t.http().post(`/v1/cases/${open.caseId}/notify`), 401, 'auth_required');
    expect(await notificationRows(t, open.caseId)).toHaveLength(0);

    // The delivery view: officials (trace:read) only.
    const view = await t
      .http()
      .get(`/v1/cases/${open.caseId}/notifications`)
      .set('authorization', readerToken);
    expect(view.status).toBe(200);
    expect(view.body).toEqual({
      items: [],
      summary: { queued: 0, sending: 0, sent: 0, delivered: 0, failed: 0 },
    });
    for (const token of [open.apps[0]!.auth!, w.tokens.staff, w.tokens.operator, w.tokens.admin]) {
      expectError(
        await t.http().get(`/v1/cases/${open.caseId}/notifications`).set('authorization', token),
        403,
        'forbidden',
      );
    }
    expectError(await t.http().get(`/v1/cases/${open.caseId}/notifications`), 401, 'auth_required');
    // Passengers' own inbox is for passengers only.
    expectError(
      await t.http().get('/v1/passengers/me/notifications').set('authorization', w.tokens.official),
      403,
      'forbidden',
    );
  });
  it('GET /v1/cases/:id/notifications of an unknown case → 404 case_not_found, like every other case route', async () => {
    const id = randomUUID();
    // The other case routes answer 404 for an unknown id ...
    expectError(
      await t.http().get(`/v1/cases/${id}`).set('authorization', w.tokens.official),
      404,
      'case_not_found',
    );
    // ... and this route documents 404 in its schema too.
    expectError(
      await t.http().get(`/v1/cases/${id}/notifications`).set('authorization', w.tokens.official),
      404,
      'case_not_found',
    );
  });
});

describe('notify retries', () => {
  // Long enough backoff to observe the failing state between attempts.
  const { t, w, msg, sms } = useNotifyWorld({ SMS_API_KEY, NOTIFY_BACKOFF_BASE_MS: '300' }, { failFirst: 2 });

  it('retries a failing message gateway and ends sent after 3 attempts', async () => {
    const s = await scenario(t, w, { apps: [15] });
    const app = s.apps[0]!;
    await notifyCase(t, w.tokens.official, s.caseId).expect(200);

    const failing = await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.items[0]?.state === 'queued' && v.items[0].lastError !== null,
    );
    expect(failing.items).toHaveLength(1);
    expect(failing.items[0]).toMatchObject({
      personId: app.personId,
      channel: 'app',
      state: 'queued',
      lastError: 'message API status 500',
      sentAt: null,
    });
    expect(failing.items[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(failing.items[0]!.attempts).toBeLessThanOrEqual(2);
    expect(failing.summary).toEqual({ queued: 1, sending: 0, sent: 0, delivered: 0, failed: 0 });

    const done = await waitFor(
      () => caseNotifications(t, w, s.caseId),
      (v) => v.items[0]?.state === 'sent',
    );
    expect(done.items[0]).toMatchObject({
      personId: app.personId,
      channel: 'app',
      state: 'sent',
      attempts: 3,
      lastError: null,
    });
    expect(done.items[0]!.sentAt).not.toBeNull();
    expect(done.summary).toEqual({ queued: 0, sending: 0, sent: 1, delivered: 0, failed: 0 });
    expect(msg.calls).toBe(3);
    expect(msg.received).toHaveLength(1);
    expect(msg.received[0]!.body.touser).toBe(`o_${app.user}`);
    expect(sms.calls).toBe(0);
  });
});

describe('notify final failure and fallback (NOTIFY_MAX_ATTEMPTS 2)', () => {
  const { t, w, msg, sms } = useNotifyWorld({
    SMS_API_KEY,
    NOTIFY_MAX_ATTEMPTS: '2',
    NOTIFY_BACKOFF_BASE_MS: '20',
  });

  const settled = (v: CaseNotifications) =>
    v.items.length > 0 && v.items.every((i) => i.state === 'sent' || i.state === 'failed');

  it('a manual rider whose SMS gateway keeps failing ends failed after the last attempt', async () => {
    sms.failFirst = sms.calls + 1_000_000;
    try {
      const s = await scenario(t, w, { riders: [15] });
      const callsBefore = sms.calls;
      await notifyCase(t, w.tokens.official, s.caseId).expect(200);
      const v = await waitFor(() => caseNotifications(t, w, s.caseId), settled);
      expect(v.items).toHaveLength(1);
      expect(v.items[0]).toMatchObject({
        personId: s.riders[0]!.personId,
        channel: 'sms',
        state: 'failed',
        attempts: 2,
        lastError: 'SMS gateway status 500',
        sentAt: null,
      });
      expect(v.summary).toEqual({ queued: 0, sending: 0, sent: 0, delivered: 0, failed: 1 });
      expect(sms.calls - callsBefore).toBe(2);
      expect(sms.received.filter((r) => r.body.phone === s.riders[0]!.phone)).toHaveLength(0);
    } finally {
      sms.failFirst = 0;
    }
  });

  it('a manual rider whose SMS is refused permanently ends failed without retrying', async () => {
    sms.rejectAll = true;
    try {
      const s = await scenario(t, w, { riders: [15] });
      const callsBefore = sms.calls;
      await notifyCase(t, w.tokens.official, s.caseId).expect(200);
      const v = await waitFor(() => caseNotifications(t, w, s.caseId), settled);
      expect(v.items[0]).toMatchObject({
        channel: 'sms',
        state: 'failed',
        attempts: 1,
        lastError: 'SMS gateway status 400',
      });
      expect(sms.calls - callsBefore).toBe(1);
    } finally {
      sms.rejectAll = false;
    }
  });

  it('an app user whose super-app refuses messages (errcode 43101) falls back to SMS and gets it', async () => {
    msg.rejectAll = true;
    try {
      const s = await scenario(t, w, { apps: [15] });
      const app = s.apps[0]!;
      const msgBefore = msg.calls;
      await notifyCase(t, w.tokens.official, s.caseId).expect(200);
      const v = await waitFor(() => caseNotifications(t, w, s.caseId), settled);
      expect(v.items[0]).toMatchObject({
        personId: app.personId,
        channel: 'sms',
        state: 'sent',
        attempts: 1,
        lastError: null,
      });
      expect(v.summary).toEqual({ queued: 0, sending: 0, sent: 1, delivered: 0, failed: 0 });
      // A refusal is permanent: one message attempt, no retry.
      expect(msg.calls - msgBefore).toBe(1);
      expect(msg.received.filter((r) => r.body.touser === `o_${app.user}`)).toHaveLength(0);
      const texts = sms.received.filter((r) => r.body.phone === app.phone);
      expect(texts).toHaveLength(1);
      expect(texts[0]!.headers.authorization).toBe(`Bearer ${SMS_API_KEY}`);
      for (const secret of caseSecrets(s)) expect(JSON.stringify(texts[0]!.body)).not.toContain(secret);
    } finally {
      msg.rejectAll = false;
    }
  });

  it('an app user whose message gateway keeps failing falls back to SMS after the last attempt', async () => {
    msg.failFirst = msg.calls + 1_000_000;
    try {
      const s = await scenario(t, w, { apps: [15] });
      const app = s.apps[0]!;
      const msgBefore = msg.calls;
      await notifyCase(t, w.tokens.official, s.caseId).expect(200);
      const v = await waitFor(() => caseNotifications(t, w, s.caseId), settled);
      expect(v.items[0]).toMatchObject({ channel: 'sms', state: 'sent', attempts: 1 });
      expect(msg.calls - msgBefore).toBe(2);
      expect(sms.received.filter((r) => r.body.phone === app.phone)).toHaveLength(1);
    } finally {
      msg.failFirst = 0;
    }
  });

  it('an app user refused on both channels ends failed on SMS', async () => {
    msg.rejectAll = true;
    sms.rejectAll = true;
    try {
      const s = await scenario(t, w, { apps: [15] });
      await notifyCase(t, w.tokens.official, s.caseId).expect(200);
      const v = await waitFor(() => caseNotifications(t, w, s.caseId), settled);
      expect(v.items[0]).toMatchObject({
        channel: 'sms',
        state: 'failed',
        lastError: 'SMS gateway status 400',
      });
      expect(v.summary).toEqual({ queued: 0, sending: 0, sent: 0, delivered: 0, failed: 1 });
    } finally {
      msg.rejectAll = false;
      sms.rejectAll = false;
    }
  });
});
