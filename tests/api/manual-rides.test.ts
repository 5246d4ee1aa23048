import { isValidIdNumber } from '@ridetrace/shared';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { expectError, withCheckChar } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const { t, w } = useWorld();
let carrierId: number;
let unboundCarrierId: number;

beforeAll(async () => {
  carrierId = (await createCarrier(t, w.tokens.operator)).carrier.id;
  unboundCarrierId = (
    await createCarrier(t, w.tokens.operator, { kind: 'taxi', plate: '粤B00001', city: '深圳' })
  ).carrier.id;
  const bound = await t
    .http()
    .post(`/v1/carriers/${carrierId}/staff`)
    .set('authorization', w.tokens.operator)
    .send({ clientId: w.staff.clientId });
  expect(bound.status).toBe(200);
  expect(bound.body.staff).toContain(w.staff.clientId);
});

const register = (body: Record<string, unknown>, token = w.tokens.staff, id = carrierId) =>
  t.http().post(`/v1/carriers/${id}/manual-rides`).set('authorization', token).send(body);

async function passengerCount(kind?: 'app' | 'manual'): Promise<number> {
  const r = kind
    ? await sql<{ n: number }>`select count(*)::int as n from passengers where kind = ${kind}`.execute(t.db)
    : await sql<{ n: number }>`select count(*)::int as n from passengers`.execute(t.db);
  return r.rows[0]!.n;
}

describe('POST /v1/carriers/:id/manual-rides', () => {
  it('bound staff registers a rider: 201, source manual, masked rider', async () => {
    const res = await register({ name: '刘德华', phone: '13911112222' });
    expect(res.status).toBe(201);
    expect(res.body.ride).toMatchObject({ source: 'manual', late: false, carrier: { id: carrierId } });
    expect(res.body.rider).toEqual({ matched: false, name: '刘*华', phone: '139****2222' });
    expect(JSON.stringify(res.body)).not.toContain('13911112222');
    expect(JSON.stringify(res.body)).not.toContain('刘德华');
    const row = await sql<{ registered_by: string | null; source: string }>`
      select registered_by, source from rides where id = ${res.body.ride.id}::uuid`.execute(t.db);
    expect(row.rows).toEqual([{ registered_by: w.staff.clientId, source: 'manual' }]);
  });

  it("the phone of a confirmed passenger matches: the ride is in that passenger's history", async () => {
    const auth = await confirmedPassenger(t, 'manual-known', { name: '张学友', phone: '13722223333' });
    const before = await passengerCount();
    // Another spelling of the same phone number.
    const res = await register({ name: '张学友', phone: '+86 137-2222-3333' });
    expect(res.status).toBe(201);
    expect(res.body.rider).toEqual({ matched: true, name: '张*友', phone: '137****3333' });
    expect(await passengerCount()).toBe(before);

    const mine = await t.http().get('/v1/passengers/me/rides').set('authorization', auth);
    expect(mine.status).toBe(200);
    const ride = (mine.body.items as { id: string; source: string }[]).find((r) => r.id === res.body.ride.id);
    expect(ride).toMatchObject({ source: 'manual', carrier: { id: carrierId } });
  });

  it('a new person becomes a manual passenger; the same person again matches it', async () => {
    const manualBefore = await passengerCount('manual');
    const first = await register({ name: '郭富城', phone: '13633334444' });
    expect(first.status).toBe(201);
    expect(first.body.rider).toEqual({ matched: false, name: '郭*城', phone: '136****4444' });
    expect(await passengerCount('manual')).toBe(manualBefore + 1);

    // Ten minutes earlier: the same carrier within RIDES_REPEAT_MINUTES would be the first ride again.
    const earlier = new Date(Date.now() - 10 * 60_000).toISOString();
    const again = await register({ name: '郭富城', phone: '136 3333 4444', boardedAt: earlier });
    expect(again.status).toBe(201);
    expect(again.body.ride.id).not.toBe(first.body.ride.id);
    expect(again.body.rider).toEqual({ matched: true, name: '郭*城', phone: '136****4444' });
    expect(await passengerCount('manual')).toBe(manualBefore + 1);
  });

  it('matches by ID number alone when the phone differs', async () => {
    const idNumber = withCheckChar('44030519800101987');
    expect(isValidIdNumber(idNumber)).toBe(true);
    const total = await passengerCount();
    const first = await register({ name: '黎明', phone: '13544445555', idNumber });
    expect(first.status).toBe(201);
    expect(first.body.rider.matched).toBe(false);
    expect(await passengerCount()).toBe(total + 1);

    const second = await register({
      name: '黎明',
      phone: '13566667777',
      idNumber: idNumber.toLowerCase(),
      boardedAt: new Date(Date.now() - 10 * 60_000).toISOString(),
    });
    expect(second.status).toBe(201);
    expect(second.body.rider).toEqual({ matched: true, name: '黎*', phone: '135****5555' });
    expect(await passengerCount()).toBe(total + 1);
  });

  it('an ID number with a wrong check character → 400 validation_failed, nothing stored', async () => {
    const valid = withCheckChar('44030519800101988');
    const wrong = `${valid.slice(0, -1)}${valid.endsWith('1') ? '2' : '1'}`;
    expect(isValidIdNumber(wrong)).toBe(false);
    const total = await passengerCount();
    const res = await register({ name: '周星驰', phone: '13588889999', idNumber: wrong });
    expectError(res, 400, 'validation_failed');
    expect(await passengerCount()).toBe(total);
  });

  it('staff not bound to the carrier → 403 carrier_not_bound', async () => {
    const res = await register({ name: '梁朝伟', phone: '13400001111' }, w.tokens.otherStaff);
    expectError(res, 403, 'carrier_not_bound');
    const elsewhere = await register(
      { name: '梁朝伟', phone: '13400001111' },
      w.tokens.staff,
      unboundCarrierId,
    );
    expectError(elsewhere, 403, 'carrier_not_bound');
  });

  it('a retired carrier → 409 carrier_retired; after unbinding → 403 carrier_not_bound', async () => {
    const { carrier } = await createCarrier(t, w.tokens.operator, {
      kind: 'ferry',
      plate: 'FERRY-7',
      city: '深圳',
    });
    const bind = await t
      .http()
      .post(`/v1/carriers/${carrier.id}/staff`)
      .set('authorization', w.tokens.operator)
      .send({ clientId: w.otherStaff.clientId });
    expect(bind.status).toBe(200);
    const ok = await register({ name: '梁朝伟', phone: '13400001111' }, w.tokens.otherStaff, carrier.id);
    expect(ok.status).toBe(201);

    const unbind = await t
      .http()
      .delete(`/v1/carriers/${carrier.id}/staff/${w.otherStaff.clientId}`)
      .set('authorization', w.tokens.operator);
    expect(unbind.status).toBe(200);
    const unbound = await register({ name: '梁朝伟', phone: '13400001111' }, w.tokens.otherStaff, carrier.id);
    expectError(unbound, 403, 'carrier_not_bound');

    await t
      .http()
      .post(`/v1/carriers/${carrier.id}/staff`)
      .set('authorization', w.tokens.operator)
      .send({ clientId: w.otherStaff.clientId })
      .expect(200);
    await t
      .http()
      .post(`/v1/carriers/${carrier.id}/retire`)
      .set('authorization', w.tokens.operator)
      .expect(200);
    const retired = await register({ name: '梁朝伟', phone: '13400001111' }, w.tokens.otherStaff, carrier.id);
    expectError(retired, 409, 'carrier_retired');
  });

  it('only staff tokens may register', async () => {
    const auth = await confirmedPassenger(t, 'manual-passenger', { name: '王菲', phone: '13400002222' });
    expectError(await register({ name: '梁朝伟', phone: '13400001111' }, auth), 403, 'forbidden');
    expectError(
      await register({ name: '梁朝伟', phone: '13400001111' }, w.tokens.operator),
      403,
      'forbidden',
    );
    const none = await t
      .http()
      .post(`/v1/carriers/${carrierId}/manual-rides`)
      .send({ name: '梁朝伟', phone: '13400001111' });
    expectError(none, 401, 'auth_required');
  });

  it('a retried clientRideId → 200 with the same ride', async () => {
    const clientRideId = randomUUID();
    const body = { name: '张曼玉', phone: '13311112222', clientRideId };
    const first = await register(body);
    expect(first.status).toBe(201);
    const retry = await register(body);
    expect(retry.status).toBe(200);
    expect(retry.body.ride.id).toBe(first.body.ride.id);
    expect(retry.body.ride.boardedAt).toBe(first.body.ride.boardedAt);
    expect(retry.body.rider).toMatchObject({ name: '张*玉', phone: '133****2222' });
    const rows = await sql<{
      n: number;
    }>`select count(*)::int as n from rides where id = ${first.body.ride.id}::uuid`.execute(t.db);
    expect(rows.rows[0]!.n).toBe(1);
  });

  it('boardedAt in the past is kept (late); too old → 400 scan_too_old; future → 400 scan_time_in_future', async () => {
    const boardedAt = new Date(Date.now() - 30 * MIN).toISOString();
    const late = await register({ name: '林青霞', phone: '13322223333', boardedAt });
    expect(late.status).toBe(201);
    expect(late.body.ride).toMatchObject({ source: 'manual', late: true });
    expect(Date.parse(late.body.ride.boardedAt)).toBe(Date.parse(boardedAt));

    const tooOld = await register({
      name: '林青霞',
      phone: '13322223333',
      boardedAt: new Date(Date.now() - 25 * HOUR).toISOString(),
    });
    expectError(tooOld, 400, 'scan_too_old');

    const future = await register({
      name: '林青霞',
      phone: '13322223333',
      boardedAt: new Date(Date.now() + 10 * MIN).toISOString(),
    });
    expectError(future, 400, 'scan_time_in_future');
  });

  it('invalid bodies → 400 validation_failed', async () => {
    for (const body of [
      {},
      { name: '林青霞' },
      { phone: '13322223333' },
      { name: '林青霞', phone: '123' },
      { name: 'R2D2', phone: '13322223333' },
      { name: '林青霞', phone: '13322223333', clientRideId: 'not-a-uuid' },
      { name: '林青霞', phone: '13322223333', boardedAt: 'now' },
      { name: '林青霞', phone: '13322223333', idNumber: '12345' },
      { name: '林青霞', phone: '13322223333', carrierId: 1 },
      { name: '林青霞', phone: 13322223333 },
    ]) {
      const res = await register(body);
      expectError(res, 400, 'validation_failed');
    }
  });
});
