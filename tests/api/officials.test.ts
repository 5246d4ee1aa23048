/**
 * Officials are people: accounts with password + TOTP, short-lived tokens with single-use refresh, lock-out,
 * sign-out and disabling that end a session at once, scopes by role, and audit entries that name the person.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import {
  grantReveal,
  enrolOfficial,
  expectError,
  openCase,
  scanRide,
  signInOfficial,
  totpOf,
  type OfficialEnrolment,
} from '../support/flows.js';
import { cliEnv, confirmedPassenger, createCarrier } from '../support/test-app.js';

const { t, w } = useWorld({ OFFICIAL_MAX_FAILED_SIGN_INS: '3', OFFICIAL_LOCK_MINUTES: '10' });

type Enrolment = OfficialEnrolment;

let seq = 0;
const enrol = (roles: string[], over: Record<string, unknown> = {}) =>
  enrolOfficial(t, w.tokens.admin, roles, {
    username: `official${++seq}`,
    name: '李卫国',
    agency: '深圳市疾病预防控制中心',
    ...over,
  });
const totp = totpOf;
const signIn = (body: Record<string, unknown>) => t.http().post('/v1/auth/official').send(body);
const signedIn = (e: Enrolment, step = 0) => signInOfficial(t, e, step);

const bearer = (token: string) => `Bearer ${token}`;

describe('sign-in', () => {
  it('password + TOTP give a token of at most 15 minutes with the roles’ scopes, and who-am-I', async () => {
    const e = await enrol(['tracer', 'notifier']);
    expect(e.otpauthUri).toMatch(/^otpauth:\/\/totp\/RideTrace:official\d+\?/);
    const s = await signedIn(e);
    expect(s.expiresIn).toBeLessThanOrEqual(900);
    const me = await t.http().get('/v1/officials/me').set('authorization', bearer(s.accessToken));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      username: e.official.username,
      name: '李卫国',
      agency: '深圳市疾病预防控制中心',
      jurisdiction: [],
      roles: ['tracer', 'notifier'],
    });
    expect([...me.body.scopes].sort()).toEqual(['case:write', 'trace:notify', 'trace:read', 'trace:reveal']);
  });

  it('unknown user, wrong password, wrong code and a replayed code all answer the same 401', async () => {
    const e = await enrol(['auditor']);
    const answers = [
      await signIn({ username: 'nobody-here', password: e.password, totp: totp(e) }),
      await signIn({ username: e.official.username, password: `${e.password}x`, totp: totp(e) }),
      await signIn({ username: e.official.username, password: e.password, totp: '000000' }),
    ];
    for (const res of answers) expectError(res, 401, 'sign_in_failed');
    expect(new Set(answers.map((r) => JSON.stringify(r.body))).size).toBe(1);
    // One good sign-in resets the count; its code can never be used again.
    const code = totp(e);
    expect((await signIn({ username: e.official.username, password: e.password, totp: code })).status).toBe(
      200,
    );
    expectError(
      await signIn({ username: e.official.username, password: e.password, totp: code }),
      401,
      'sign_in_failed',
    );
  });

  it('repeated failures lock the account (429 sign_in_locked with Retry-After), even for the right credentials', async () => {
    const e = await enrol(['auditor']);
    for (let i = 0; i < 2; i++)
      expectError(
        await signIn({ username: e.official.username, password: 'wrong', totp: totp(e) }),
        401,
        'sign_in_failed',
      );
    const third = await signIn({ username: e.official.username, password: 'wrong', totp: totp(e) });
    expectError(third, 429, 'sign_in_locked');
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(500);
    expectError(
      await signIn({ username: e.official.username, password: e.password, totp: totp(e) }),
      429,
      'sign_in_locked',
    );
    // After the lock time the right credentials work again.
    t.clock.offsetMs = 11 * 60_000;
    try {
      const res = await signIn({ username: e.official.username, password: e.password, totp: totp(e, 22) });
      expect(res.status).toBe(200);
    } finally {
      t.clock.offsetMs = 0;
    }
  });

  it('refresh tokens are single use; sign-out ends the access and refresh tokens at once', async () => {
    const e = await enrol(['notifier']);
    const s = await signedIn(e);
    const refreshed = await t.http().post('/v1/auth/official/refresh').send({ refreshToken: s.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(s.refreshToken);
    expectError(
      await t.http().post('/v1/auth/official/refresh').send({ refreshToken: s.refreshToken }),
      401,
      'refresh_invalid',
    );
    const auth = bearer(refreshed.body.accessToken);
    expect((await t.http().get('/v1/cases').set('authorization', auth)).status).toBe(200);
    expect((await t.http().post('/v1/auth/official/logout').set('authorization', auth)).status).toBe(204);
    expectError(await t.http().get('/v1/cases').set('authorization', auth), 401, 'token_invalid');
    expectError(
      await t.http().post('/v1/auth/official/refresh').send({ refreshToken: refreshed.body.refreshToken }),
      401,
      'refresh_invalid',
    );
  });

  it('disabling an account ends its sessions at once; reset gives new credentials and re-enables it', async () => {
    const e = await enrol(['notifier']);
    const s = await signedIn(e);
    const disabled = await t
      .http()
      .post(`/v1/admin/officials/${e.official.id}/disable`)
      .set('authorization', w.tokens.admin);
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabledAt).not.toBeNull();
    expectError(
      await t.http().get('/v1/cases').set('authorization', bearer(s.accessToken)),
      401,
      'token_invalid',
    );
    expectError(
      await signIn({ username: e.official.username, password: e.password, totp: totp(e, 1) }),
      401,
      'sign_in_failed',
    );
    const reset = await t
      .http()
      .post(`/v1/admin/officials/${e.official.id}/reset`)
      .set('authorization', w.tokens.admin);
    expect(reset.status).toBe(200);
    expect(reset.body.password).not.toBe(e.password);
    expect(reset.body.otpauthUri).not.toBe(e.otpauthUri);
    await signedIn(reset.body as Enrolment);
  });

  it('usernames are unique (case-insensitive): 409 username_taken; unknown ids 404', async () => {
    const e = await enrol(['auditor']);
    const again = await t
      .http()
      .post('/v1/admin/officials')
      .set('authorization', w.tokens.admin)
      .send({ username: e.official.username.toUpperCase(), name: '重名', agency: 'x', roles: ['auditor'] });
    expectError(again, 409, 'username_taken');
    expectError(
      await t.http().post(`/v1/admin/officials/${randomUUID()}/disable`).set('authorization', w.tokens.admin),
      404,
      'official_not_found',
    );
  });
});

describe('scopes by role', () => {
  it('a notifier reads but cannot open or close cases; an auditor reads only the audit; a tracer opens', async () => {
    const notifier = bearer((await signedIn(await enrol(['notifier']))).accessToken);
    const auditor = bearer((await signedIn(await enrol(['auditor']))).accessToken);
    const tracer = bearer((await signedIn(await enrol(['tracer']))).accessToken);
    const body = {
      subject: { phone: '13000000000' },
      infectiousFrom: new Date(Date.now() - 3600_000).toISOString(),
      infectiousTo: new Date().toISOString(),
      caseNumber: 'ROLE-1',
      reason: 'role test',
    };
    expectError(await t.http().post('/v1/cases').set('authorization', notifier).send(body), 403, 'forbidden');
    expectError(
      await t.http().post(`/v1/cases/${randomUUID()}/close`).set('authorization', notifier),
      403,
      'forbidden',
    );
    expect((await t.http().get('/v1/cases').set('authorization', notifier)).status).toBe(200);
    expectError(await t.http().get('/v1/cases').set('authorization', auditor), 403, 'forbidden');
    expect((await t.http().get('/v1/audit').set('authorization', auditor)).status).toBe(200);
    // Past authorisation: no registered person has this phone.
    expectError(
      await t.http().post('/v1/cases').set('authorization', tracer).send(body),
      404,
      'case_subject_unknown',
    );
    expectError(await t.http().get('/v1/admin/officials').set('authorization', tracer), 403, 'forbidden');
  });

  it('the audit names the person (name, agency) for every action, and the system for machine clients', async () => {
    const e = await enrol(['tracer', 'notifier']);
    const auth = bearer((await signedIn(e)).accessToken);
    const { code } = await createCarrier(t, w.tokens.operator);
    const subject = await confirmedPassenger(t, 'audit-person-subject', {
      name: '王五',
      phone: '13512340001',
    });
    const contact = await confirmedPassenger(t, 'audit-person-contact', {
      name: '赵六',
      phone: '13512340002',
    });
    await scanRide(t, subject, code.url);
    await scanRide(t, contact, code.url);
    const opened = await openCase(t, auth, {
      subject: { phone: '13512340001' },
      caseNumber: 'P-1',
      reason: 'test',
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.id as string;
    await grantReveal(t, auth, caseId);
    await t.http().get(`/v1/cases/${caseId}/exposures?reveal=true`).set('authorization', auth).expect(200);
    await t.http().get(`/v1/cases/${caseId}`).set('authorization', w.tokens.official).expect(200);
    const log = await t.http().get(`/v1/audit?caseId=${caseId}`).set('authorization', w.tokens.admin);
    const entries = log.body.items as {
      actor: string;
      actorKind: string;
      actorName: string;
      actorAgency: string | null;
      action: string;
    }[];
    const byPerson = entries.filter((x) => x.actor === e.official.id);
    expect(byPerson.map((x) => x.action)).toEqual(['case.open', 'reveal.grant', 'exposures.reveal']);
    for (const x of byPerson)
      expect(x).toMatchObject({
        actorKind: 'person',
        actorName: '李卫国',
        actorAgency: '深圳市疾病预防控制中心',
      });
    expect(entries.find((x) => x.actor === w.official.clientId)).toMatchObject({
      action: 'case.read',
      actorKind: 'system',
      actorName: w.official.name,
      actorAgency: null,
    });
  });
});

describe('pnpm cli officials', () => {
  it('create prints the password and the TOTP URI with a terminal QR; the official can sign in with them', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      'pnpm',
      [
        '--silent',
        'cli',
        'officials',
        'create',
        '--username',
        'cli-official',
        '--name',
        '赵敏',
        '--agency',
        '某区疾控',
        '--roles',
        'tracer',
        '--jurisdiction',
        '深圳,东莞',
      ],
      { env: cliEnv(t), cwd: process.cwd() },
    );
    const password = /password:\s+(\S+)/.exec(stdout)![1]!;
    const otpauthUri = /TOTP URI:\s+(\S+)/.exec(stdout)![1]!;
    expect(stdout).toMatch(/▄|█/); // the QR
    const e = { official: { username: 'cli-official' }, password, otpauthUri } as Enrolment;
    const s = await signedIn(e);
    const me = await t.http().get('/v1/officials/me').set('authorization', bearer(s.accessToken));
    expect(me.body).toMatchObject({ name: '赵敏', jurisdiction: ['深圳', '东莞'], roles: ['tracer'] });
    const { stdout: listed } = await run('pnpm', ['--silent', 'cli', 'officials', 'list'], {
      env: cliEnv(t),
      cwd: process.cwd(),
    });
    expect(listed).toContain('cli-official\t赵敏\t某区疾控\ttracer\t深圳,东莞\tactive');
  });
});
