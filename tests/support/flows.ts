/** Steps and checks that many API tests share: requests that set a scene, polling, error replies. */
import * as OTPAuth from 'otpauth';
import { ERROR_CODES } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { expect } from 'vitest';
import { startFakeGateway, type FakeGateway } from './fake-notify.js';
import {
  confirmedPassenger,
  createCarrier,
  createTestApp,
  seedWorld,
  type TestApp,
  type World,
} from './test-app.js';

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * The reply is the API error `code` with `status`, in the one error shape: a JSON body of exactly
 * { error: { code, message } }, the code one of shared's stable codes, the message a human sentence. Bodies of
 * routes that answer binary (PNG, SVG) are parsed as JSON.
 */
export function expectError(res: Response, status: number, code: string) {
  const body = (Buffer.isBuffer(res.body) ? parseJson(res.body) : res.body) as {
    error?: { code?: unknown; message?: unknown };
  } | null;
  expect({ status: res.status, code: body?.error?.code }).toEqual({ status, code });
  expect(ERROR_CODES).toContain(code);
  expect(Object.keys(body!)).toEqual(['error']);
  // Only a refused CSV carries more: its row problems.
  const extra = code === 'csv_rows_invalid' ? ['problemCount', 'problems'] : [];
  expect(Object.keys(body!.error!).sort()).toEqual(['code', 'message', ...extra]);
  expect(body!.error!.message).toEqual(expect.stringMatching(/\S/));
  expect(res.headers['content-type']).toMatch(/^application\/json/);
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
}

/** GB 11643-1999: appends the check character of a resident ID number to its first 17 digits. */
export function withCheckChar(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = Array.from(first17).reduce((s, d, i) => s + Number(d) * weights[i]!, 0);
  return `${first17}${'10X98765432'[sum % 11]}`;
}

/** Polls `read` every 50 ms until `done` holds (at most ~`timeoutMs`); returns the last value read. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

/**
 * A test app and its world whose notification worker sends to fake super-app message and SMS gateways;
 * `t.close()` stops the gateways too.
 */
export async function createNotifyTestApp(
  env: Record<string, string> = {},
  message: { failFirst?: number } = {},
): Promise<{ t: TestApp; w: World; msg: FakeGateway; sms: FakeGateway }> {
  const msg = await startFakeGateway('message', message);
  const sms = await startFakeGateway('sms');
  const app = await createTestApp({ MESSAGE_BASE_URL: msg.baseUrl, SMS_BASE_URL: sms.baseUrl, ...env });
  const t: TestApp = {
    ...app,
    close: async () => {
      await app.close();
      await msg.close();
      await sms.close();
    },
  };
  return { t, w: await seedWorld(t), msg, sms };
}

/** The passenger's pseudonymous id (GET /v1/passengers/me). */
export async function passengerIdOf(t: TestApp, auth: string): Promise<string> {
  const me = await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
  return me.body.id as string;
}

/**
 * A scan of the carrier code `url` (201 expected). A `scannedAt` more than 120 s old is an offline scan: the ride
 * boards exactly then.
 */
export async function scanRide(
  t: TestApp,
  auth: string,
  url: string,
  scannedAt?: string,
): Promise<{ id: string; boardedAt: string }> {
  const res = await t
    .http()
    .post('/v1/rides')
    .set('authorization', auth)
    .send({ code: url, clientRideId: randomUUID(), ...(scannedAt ? { scannedAt } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.ride as { id: string; boardedAt: string };
}

/** A carrier of `w.operator` (createCarrier) with `w.staff` bound to it, so the staff can register riders. */
export async function createStaffedCarrier(
  t: TestApp,
  w: World,
  body?: Parameters<typeof createCarrier>[2],
): Promise<Awaited<ReturnType<typeof createCarrier>>> {
  const created = await createCarrier(t, w.tokens.operator, body);
  await t
    .http()
    .post(`/v1/carriers/${created.carrier.id}/staff`)
    .set('authorization', w.tokens.operator)
    .send({ clientId: w.staff.clientId })
    .expect(200);
  return created;
}

/** `w.staff` registers a rider without the app (201 expected); the reply body. */
export async function registerManualRide(
  t: TestApp,
  w: World,
  carrierId: number,
  rider: { name: string; phone: string; idNumber?: string; boardedAt: string },
): Promise<{ ride: { id: string; source: string; boardedAt: string }; rider: { matched: boolean } }> {
  const res = await t
    .http()
    .post(`/v1/carriers/${carrierId}/manual-rides`)
    .set('authorization', w.tokens.staff)
    .send(rider);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { ride: { id: string; source: string; boardedAt: string }; rider: { matched: boolean } };
}

export interface CaseBody {
  subject: Record<string, string | undefined>;
  caseNumber: string;
  reason: string;
  /** ISO times; by default the last 24 hours up to now. */
  infectiousFrom?: string;
  infectiousTo?: string;
}

/** POST /v1/cases as `token`; the request, for the caller's status checks. */
export function openCase(t: TestApp, token: string, body: CaseBody) {
  const now = Date.now();
  return t
    .http()
    .post('/v1/cases')
    .set('authorization', token)
    .send({
      subject: body.subject,
      infectiousFrom: body.infectiousFrom ?? new Date(now - DAY).toISOString(),
      infectiousTo: body.infectiousTo ?? new Date(now).toISOString(),
      caseNumber: body.caseNumber,
      reason: body.reason,
    });
}

/**
 * A reveal grant for `token` on the case: POST /v1/cases/:id/reveal-requests, approved at once under
 * REVEAL_APPROVAL=single (the test default). True when granted; with `allowForbidden`, false for a token without
 * trace:reveal.
 */
export async function grantReveal(
  t: TestApp,
  token: string,
  caseId: string,
  o: { allowForbidden?: boolean } = {},
): Promise<boolean> {
  const res = await t
    .http()
    .post(`/v1/cases/${caseId}/reveal-requests`)
    .set('authorization', token)
    .send({ reason: 'test: contact the exposed persons' });
  if (o.allowForbidden && res.status === 403 && res.body?.error?.code === 'forbidden') return false;
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
  expect(res.body.state).toBe('approved');
  return true;
}

/** POST /v1/cases/:id/notify as `token`; the request, for the caller's status checks. */
export function notifyCase(t: TestApp, token: string, caseId: string) {
  return t.http().post(`/v1/cases/${caseId}/notify`).set('authorization', token);
}

interface Identity {
  name: string;
  phone: string;
}

const identityOf = ({ name, phone }: Identity): Identity => ({ name, phone });

/**
 * The smallest trace: the subject and a contact (confirmed passengers) ride the default carrier now, and the
 * official opens a case on the subject's phone over the last 24 hours.
 */
export async function seedCaseWithContact(
  t: TestApp,
  w: World,
  o: {
    subject: Identity & { user: string };
    contact: Identity & { user: string };
    caseNumber: string;
    reason: string;
  },
) {
  const { code } = await createCarrier(t, w.tokens.operator);
  const subjectAuth = await confirmedPassenger(t, o.subject.user, identityOf(o.subject));
  const contactAuth = await confirmedPassenger(t, o.contact.user, identityOf(o.contact));
  const subjectRide = await scanRide(t, subjectAuth, code.url);
  await scanRide(t, contactAuth, code.url);
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: o.subject.phone },
    caseNumber: o.caseNumber,
    reason: o.reason,
  }).expect(201);
  return { code, subjectAuth, contactAuth, subjectRideId: subjectRide.id, caseId: c.body.id as string };
}

/**
 * One person registered twice: `person` rides as a rider registered by staff, then confirms in the app with the
 * same phone (riding there too when `appRideMinutesAgo` is given). The case subject boarded 20 minutes ago; the
 * case (open, infectious from 10 hours to 1 minute ago) is on the subject's phone.
 */
export async function seedPersonRegisteredTwice(
  t: TestApp,
  w: World,
  o: {
    carrier: Parameters<typeof createCarrier>[2];
    subject: Identity & { user: string };
    person: Identity & { user: string };
    manualMinutesAgo: number;
    appRideMinutesAgo?: number;
    caseNumber: string;
    reason: string;
  },
) {
  const { carrier, code } = await createStaffedCarrier(t, w, o.carrier);
  const now = Date.now();
  const ago = (m: number) => new Date(now - m * MIN).toISOString();
  const subjectAuth = await confirmedPassenger(t, o.subject.user, identityOf(o.subject));
  await scanRide(t, subjectAuth, code.url, ago(20));
  const manual = await registerManualRide(t, w, carrier.id, {
    name: o.person.name,
    phone: o.person.phone,
    boardedAt: ago(o.manualMinutesAgo),
  });
  const appAuth = await confirmedPassenger(t, o.person.user, identityOf(o.person));
  if (o.appRideMinutesAgo !== undefined) await scanRide(t, appAuth, code.url, ago(o.appRideMinutesAgo));
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: o.subject.phone },
    infectiousFrom: ago(600),
    infectiousTo: ago(1),
    caseNumber: o.caseNumber,
    reason: o.reason,
  }).expect(201);
  return { caseId: c.body.id as string, manual, appAuth };
}

/** A new official account as the admin API answers it: the initial password and the TOTP enrolment, once. */
export interface OfficialEnrolment {
  official: { id: string; username: string; roles: string[]; scopes: string[] };
  password: string;
  otpauthUri: string;
}

/** POST /v1/admin/officials as `adminToken` (201 expected); a unique username unless `over` names one. */
export async function enrolOfficial(
  t: TestApp,
  adminToken: string,
  roles: string[],
  over: Record<string, unknown> = {},
): Promise<OfficialEnrolment> {
  const res = await t
    .http()
    .post('/v1/admin/officials')
    .set('authorization', adminToken)
    .send({
      username: `person-${randomUUID().slice(0, 8)}`,
      name: '测试官员',
      agency: '卫健委',
      roles,
      ...over,
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as OfficialEnrolment;
}

/** The authenticator app: the code of a time step (0: now, -1: the previous 30 s). */
export function totpOf(e: Pick<OfficialEnrolment, 'otpauthUri'>, step = 0): string {
  const parsed = OTPAuth.URI.parse(e.otpauthUri) as OTPAuth.TOTP;
  return parsed.generate({ timestamp: Date.now() + step * 30_000 });
}

/** POST /v1/auth/official with the enrolment's password and the TOTP code of `step` (200 expected): the tokens. */
export async function signInOfficial(
  t: TestApp,
  e: Pick<OfficialEnrolment, 'password' | 'otpauthUri'> & { official: { username: string } },
  step = 0,
): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
  const res = await t
    .http()
    .post('/v1/auth/official')
    .send({ username: e.official.username, password: e.password, totp: totpOf(e, step) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { accessToken: string; refreshToken: string; expiresIn: number };
}

/** An official person created through the admin API and signed in (password + TOTP): its authorization header. */
export async function officialPersonAuth(t: TestApp, adminToken: string, roles: string[]): Promise<string> {
  const e = await enrolOfficial(t, adminToken, roles);
  return `Bearer ${(await signInOfficial(t, e)).accessToken}`;
}
