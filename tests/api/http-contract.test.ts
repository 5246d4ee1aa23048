import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { expectError, openCase } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const { t, w } = useWorld();
let first: number;
let second: number;
let rider: string;
let caseId: string;

beforeAll(async () => {
  first = (await createCarrier(t, w.tokens.operator)).carrier.id;
  const made = await createCarrier(t, w.tokens.operator, { kind: 'bus', plate: '粤B20002', city: '深圳' });
  second = made.carrier.id;
  rider = await confirmedPassenger(t, 'contract-rider');
  await t
    .http()
    .post('/v1/rides')
    .set('authorization', rider)
    .send({ code: made.code.url, clientRideId: randomUUID() })
    .expect(201);
  const c = await openCase(t, w.tokens.official, {
    subject: { phone: '13812345678' },
    caseNumber: 'C-CONTRACT',
    reason: 'contract test',
  });
  expect(c.status).toBe(201);
  caseId = c.body.id;
});

describe('numeric path ids are canonical decimals', () => {
  // Each of these would read as 1 or 2 under plain number coercion (`%20` is a space).
  const aliases = ['0x2', '0X2', '0b10', '0o2', '+2', '2.0', '02', '1e0', '%202', '2%20', '0', '-1', '1_0'];

  it.each(aliases)('GET /v1/carriers/%s is 400 validation_failed', async (id) => {
    const res = await t.http().get(`/v1/carriers/${id}`).set('authorization', w.tokens.operator);
    expectError(res, 400, 'validation_failed');
  });

  it('POST /v1/carriers/01/retire retires nothing', async () => {
    for (const id of ['01', `0x${second.toString(16)}`, `${second}.0`, `+${first}`]) {
      const res = await t.http().post(`/v1/carriers/${id}/retire`).set('authorization', w.tokens.operator);
      expectError(res, 400, 'validation_failed');
    }
    for (const id of [first, second]) {
      const res = await t
        .http()
        .get(`/v1/carriers/${id}`)
        .set('authorization', w.tokens.operator)
        .expect(200);
      expect(res.body.status).toBe('active');
    }
  });

  it('the canonical form still works, on every route with a numeric id', async () => {
    await t.http().get(`/v1/carriers/${second}`).set('authorization', w.tokens.operator).expect(200);
    await t.http().get(`/v1/carriers/${second}/staff`).set('authorization', w.tokens.operator).expect(200);
    const manual = await t
      .http()
      .post(`/v1/carriers/0${first}/manual-rides`)
      .set('authorization', w.tokens.staff)
      .send({ name: '李四', phone: '13900000000' });
    expectError(manual, 400, 'validation_failed');
  });
});

describe('optional bodies', () => {
  it('closing a case takes no body or a valid one, and refuses an invalid one', async () => {
    const other = await openCase(t, w.tokens.official, {
      subject: { phone: '13812345678' },
      caseNumber: 'C-CONTRACT-2',
      reason: 'contract test',
    });
    const close = () =>
      t.http().post(`/v1/cases/${other.body.id}/close`).set('authorization', w.tokens.official);
    expectError(await close().send({ bogus: 1 }), 400, 'validation_failed');
    expectError(await close().send({ reason: 7 }), 400, 'validation_failed');
    await close().send({ reason: 'recovered' }).expect(200);
  });
});

describe('security headers', () => {
  function expectNoSniff(res: Response) {
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  }

  it('every reply carries X-Content-Type-Options: nosniff (success, error, not found, docs, health)', async () => {
    expectNoSniff(await t.http().get('/health').expect(200));
    expectNoSniff(await t.http().get('/docs/json').expect(200));
    expectNoSniff(await t.http().get('/nowhere').expect(404));
    expectNoSniff(await t.http().get('/v1/passengers/me').expect(401));
    expectNoSniff(await t.http().get('/v1/passengers/me').set('authorization', rider).expect(200));
  });

  const passengerReads = [
    '/v1/passengers/me',
    '/v1/passengers/me/rides',
    '/v1/passengers/me/itinerary',
    '/v1/passengers/me/notifications',
    '/v1/passengers/me/status',
    '/v1/passengers/me/export',
  ];
  it.each(passengerReads)('GET %s (personal data) is Cache-Control: no-store', async (path) => {
    const res = await t.http().get(path).set('authorization', rider).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('official reads (cases, exposures, notifications, audit) are Cache-Control: no-store', async () => {
    for (const path of [
      '/v1/cases',
      `/v1/cases/${caseId}`,
      `/v1/cases/${caseId}/exposures`,
      `/v1/cases/${caseId}/exposures.csv`,
      `/v1/cases/${caseId}/notifications`,
    ]) {
      const res = await t.http().get(path).set('authorization', w.tokens.official);
      expect({ path, status: res.status, cache: res.headers['cache-control'] }).toEqual({
        path,
        status: 200,
        cache: 'no-store',
      });
    }
  });

  it('error replies of the API are not cached either', async () => {
    const res = await t.http().get('/v1/cases/not-a-uuid').set('authorization', w.tokens.official);
    expectError(res, 400, 'validation_failed');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
