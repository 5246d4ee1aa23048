/**
 * Four-eyes reveal: unmasked identities of a case need a grant for that case, asked for by one official and
 * approved by another with reveal:approve; grants end, refusals stick, nobody approves their own request.
 */
import { maskName, maskPhone, type ExposurePage, type RevealRequest } from '@ridetrace/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import {
  enrolOfficial,
  expectError,
  openCase,
  seedCaseWithContact,
  signInOfficial,
} from '../support/flows.js';
import { confirmedPassenger, type TestApp } from '../support/test-app.js';

const HOUR = 3_600_000;

async function personAuth(t: TestApp, adminToken: string, roles: string[], name: string) {
  const e = await enrolOfficial(t, adminToken, roles, { name, agency: '深圳市疾病预防控制中心' });
  return { id: e.official.id, auth: `Bearer ${(await signInOfficial(t, e)).accessToken}` };
}

const exposures = (t: TestApp, auth: string, caseId: string, q = '') =>
  t.http().get(`/v1/cases/${caseId}/exposures${q}`).set('authorization', auth);
const askReveal = (t: TestApp, auth: string, caseId: string, reason = '流调需要联系密接者') =>
  t.http().post(`/v1/cases/${caseId}/reveal-requests`).set('authorization', auth).send({ reason });
const decide = (t: TestApp, auth: string, id: string, decision: 'approve' | 'refuse', note?: string) =>
  t
    .http()
    .post(`/v1/reveal-requests/${id}/${decision}`)
    .set('authorization', auth)
    .send(note ? { note } : {});

const SUBJECT = { user: 'reveal-subject', name: '张小三', phone: '13800005678' };
const CONTACT = { user: 'reveal-contact', name: '欧阳娜娜', phone: '13900001234' };

describe('dual approval (REVEAL_APPROVAL=dual)', () => {
  const { t, w } = useWorld({
    REVEAL_APPROVAL: 'dual',
    REVEAL_GRANT_HOURS: '1',
    OFFICIAL_SESSION_HOURS: '48',
  });
  let tracer: { id: string; auth: string };
  let supervisor: { id: string; auth: string };
  let other: { id: string; auth: string };
  let caseId: string;
  let secondCase: string;

  beforeAll(async () => {
    tracer = await personAuth(t, w.tokens.admin, ['tracer'], '李卫国');
    supervisor = await personAuth(t, w.tokens.admin, ['supervisor'], '王主任');
    other = await personAuth(t, w.tokens.admin, ['supervisor'], '赵科长');
    ({ caseId } = await seedCaseWithContact(t, w, {
      subject: SUBJECT,
      contact: CONTACT,
      caseNumber: 'RV-1',
      reason: 'test',
    }));
    await confirmedPassenger(t, 'reveal-subject-2', { name: '孙二', phone: '13700001111' });
    secondCase = (
      await openCase(t, w.tokens.official, {
        subject: { phone: '13700001111' },
        caseNumber: 'RV-2',
        reason: 'test',
      }).expect(201)
    ).body.id as string;
  });

  it('reads are masked by default; ?reveal=true without a grant is 403 reveal_grant_required', async () => {
    const page = (await exposures(t, tracer.auth, caseId).expect(200)).body as ExposurePage;
    expect(page.revealed).toBe(false);
    expect(page.items[0]).toMatchObject({ name: maskName(CONTACT.name), phone: maskPhone(CONTACT.phone) });
    expectError(await exposures(t, tracer.auth, caseId, '?reveal=true'), 403, 'reveal_grant_required');
    expectError(
      await t.http().get(`/v1/cases/${caseId}?reveal=true`).set('authorization', tracer.auth),
      403,
      'reveal_grant_required',
    );
    expectError(
      await t.http().get(`/v1/cases/${caseId}/exposures.csv?reveal=true`).set('authorization', tracer.auth),
      403,
      'reveal_grant_required',
    );
  });

  it('a request waits for another official; asking again answers the same request', async () => {
    const first = await askReveal(t, tracer.auth, caseId);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const req = first.body as RevealRequest;
    expect(req).toMatchObject({
      caseId,
      caseNumber: 'RV-1',
      state: 'pending',
      selfGranted: false,
      reason: '流调需要联系密接者',
      requestedBy: { id: tracer.id, kind: 'person', name: '李卫国', agency: '深圳市疾病预防控制中心' },
      decidedBy: null,
    });
    const again = await askReveal(t, tracer.auth, caseId, 'another reason');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(req.id);
    const waiting = await exposures(t, tracer.auth, caseId, '?reveal=true');
    expectError(waiting, 403, 'reveal_grant_required');
    expect(waiting.body.error.message).toMatch(/waiting/);

    // The approvers' inbox lists it; the requester sees only their own requests.
    const inbox = await t
      .http()
      .get('/v1/reveal-requests?state=pending')
      .set('authorization', supervisor.auth)
      .expect(200);
    expect((inbox.body.items as RevealRequest[]).map((r) => r.id)).toContain(req.id);
    const mine = await t.http().get('/v1/reveal-requests').set('authorization', tracer.auth).expect(200);
    expect((mine.body.items as RevealRequest[]).every((r) => r.requestedBy.id === tracer.id)).toBe(true);
    await t.http().get(`/v1/reveal-requests/${req.id}`).set('authorization', supervisor.auth).expect(200);
  });

  it('nobody approves their own request; a tracer and a machine client cannot approve at all', async () => {
    const own = (await askReveal(t, supervisor.auth, secondCase)).body as RevealRequest;
    expectError(await decide(t, supervisor.auth, own.id, 'approve'), 403, 'approval_by_requester');
    expectError(await decide(t, supervisor.auth, own.id, 'refuse'), 403, 'approval_by_requester');
    const pending = (await askReveal(t, tracer.auth, caseId)).body as RevealRequest;
    expectError(await decide(t, tracer.auth, pending.id, 'approve'), 403, 'forbidden');
    expectError(await decide(t, w.tokens.official, pending.id, 'approve'), 403, 'forbidden');
    const notifier = await personAuth(t, w.tokens.admin, ['notifier'], '钱通知');
    expectError(await askReveal(t, notifier.auth, caseId), 403, 'forbidden');
    expectError(
      await decide(t, supervisor.auth, '00000000-0000-4000-8000-000000000000', 'approve'),
      404,
      'reveal_request_not_found',
    );
  });

  it('approved by another: reveal works for that case only, for that official only, then the grant ends', async () => {
    const pending = (await askReveal(t, tracer.auth, caseId)).body as RevealRequest;
    const approved = await decide(t, supervisor.auth, pending.id, 'approve', '同意');
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({
      state: 'approved',
      note: '同意',
      decidedBy: { id: supervisor.id, kind: 'person', name: '王主任' },
    });
    const ends = Date.parse(approved.body.expiresAt) - Date.now();
    expect(ends).toBeGreaterThan(0.9 * HOUR);
    expect(ends).toBeLessThanOrEqual(HOUR + 60_000);
    expectError(await decide(t, other.auth, pending.id, 'approve'), 409, 'reveal_request_decided');

    const page = (await exposures(t, tracer.auth, caseId, '?reveal=true').expect(200)).body as ExposurePage;
    expect(page.revealed).toBe(true);
    expect(page.items[0]).toMatchObject({ name: CONTACT.name, phone: CONTACT.phone });
    const c = await t
      .http()
      .get(`/v1/cases/${caseId}?reveal=true`)
      .set('authorization', tracer.auth)
      .expect(200);
    expect(c.body.subject).toMatchObject({ name: SUBJECT.name, phone: SUBJECT.phone });
    const csv = await t
      .http()
      .get(`/v1/cases/${caseId}/exposures.csv?reveal=true`)
      .set('authorization', tracer.auth)
      .expect(200);
    expect(csv.text).toContain(CONTACT.phone);
    // Masked unless asked, even with a grant.
    expect(((await exposures(t, tracer.auth, caseId).expect(200)).body as ExposurePage).revealed).toBe(false);
    // Not another case, not another official.
    expectError(await exposures(t, tracer.auth, secondCase, '?reveal=true'), 403, 'reveal_grant_required');
    expectError(await exposures(t, other.auth, caseId, '?reveal=true'), 403, 'reveal_grant_required');

    // The audit names requester, approver and the unmasked read with its grant.
    const log = await t
      .http()
      .get(`/v1/audit?caseId=${caseId}&limit=200`)
      .set('authorization', w.tokens.admin);
    const entries = log.body.items as { actor: string; action: string; detail: string | null }[];
    expect(entries.filter((e) => e.action === 'reveal.request').map((e) => e.actor)).toContain(tracer.id);
    const approval = entries.find((e) => e.action === 'reveal.approve');
    expect(approval?.actor).toBe(supervisor.id);
    const reveal = entries.find((e) => e.action === 'exposures.reveal' && e.actor === tracer.id);
    expect(JSON.parse(reveal!.detail!)).toMatchObject({ grant: pending.id });

    t.clock.offsetMs += 2 * HOUR;
    try {
      expectError(await exposures(t, tracer.auth, caseId, '?reveal=true'), 403, 'reveal_grant_expired');
      const listed = await t
        .http()
        .get(`/v1/reveal-requests/${pending.id}`)
        .set('authorization', tracer.auth)
        .expect(200);
      expect(listed.body.state).toBe('expired');
    } finally {
      t.clock.offsetMs -= 2 * HOUR;
    }
  });

  it('a refusal sticks until the official asks again; a request nobody decided lapses', async () => {
    const asked = (await askReveal(t, tracer.auth, secondCase)).body as RevealRequest;
    const refused = await decide(t, other.auth, asked.id, 'refuse', '理由不足');
    expect(refused.body).toMatchObject({ state: 'refused', note: '理由不足' });
    expectError(await exposures(t, tracer.auth, secondCase, '?reveal=true'), 403, 'reveal_request_refused');
    expectError(await decide(t, other.auth, asked.id, 'approve'), 409, 'reveal_request_decided');

    const fresh = await askReveal(t, tracer.auth, secondCase, '补充说明');
    expect(fresh.status).toBe(201);
    t.clock.offsetMs += 2 * HOUR;
    try {
      expectError(await decide(t, other.auth, fresh.body.id, 'approve'), 409, 'reveal_request_expired');
    } finally {
      t.clock.offsetMs -= 2 * HOUR;
    }
  });

  it('closed cases take no requests, and their pending requests cannot be approved', async () => {
    await confirmedPassenger(t, 'reveal-closed', { name: '周三', phone: '13600002222' });
    const c = await openCase(t, w.tokens.official, {
      subject: { phone: '13600002222' },
      caseNumber: 'RV-3',
      reason: 'test',
    }).expect(201);
    const pending = (await askReveal(t, tracer.auth, c.body.id).expect(201)).body as RevealRequest;
    await t.http().post(`/v1/cases/${c.body.id}/close`).set('authorization', w.tokens.official).expect(200);
    expectError(await askReveal(t, other.auth, c.body.id), 409, 'case_closed');
    expectError(await decide(t, supervisor.auth, pending.id, 'approve'), 409, 'case_closed');
    // Refusing still closes the request out.
    const refused = (await decide(t, supervisor.auth, pending.id, 'refuse').expect(200))
      .body as RevealRequest;
    expect(refused.state).toBe('refused');
  });
});

describe('single approval (REVEAL_APPROVAL=single)', () => {
  const { t, w } = useWorld({ REVEAL_APPROVAL: 'single' });

  it('an official with trace:reveal self-grants, audited as reveal.grant', async () => {
    const { caseId } = await seedCaseWithContact(t, w, {
      subject: { ...SUBJECT, user: 'single-subject' },
      contact: { ...CONTACT, user: 'single-contact' },
      caseNumber: 'RV-S',
      reason: 'test',
    });
    expectError(await exposures(t, w.tokens.official, caseId, '?reveal=true'), 403, 'reveal_grant_required');
    const granted = await askReveal(t, w.tokens.official, caseId);
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({
      state: 'approved',
      selfGranted: true,
      decidedBy: { id: w.official.clientId, kind: 'system' },
    });
    const page = (await exposures(t, w.tokens.official, caseId, '?reveal=true').expect(200))
      .body as ExposurePage;
    expect(page.items[0]).toMatchObject({ name: CONTACT.name });
    const log = await t.http().get(`/v1/audit?caseId=${caseId}`).set('authorization', w.tokens.admin);
    expect((log.body.items as { action: string }[]).map((e) => e.action)).toContain('reveal.grant');

    // Closing the case ends the grant; masked reads go on.
    await t.http().post(`/v1/cases/${caseId}/close`).set('authorization', w.tokens.official).expect(200);
    expectError(await exposures(t, w.tokens.official, caseId, '?reveal=true'), 409, 'case_closed');
    await exposures(t, w.tokens.official, caseId).expect(200);
  });
});
