import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { notifyCase, openCase, passengerIdOf, scanRide, withCheckChar } from '../support/flows.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';

const alice = { name: '欧阳娜娜', phone: '13900000031', idNumber: withCheckChar('11010119900307663') };
const bob = { name: '李四', phone: '13900000032' };
const carol = { name: '赵六', phone: '13900000033' };

// Not a load test: no load shedding while parallel test files share the CPU.
const { t, w } = useWorld({ NOTIFY_WORKER: 'off', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
let code: { url: string };
let aliceAuth: string;
let bobAuth: string;
let carolAuth: string;
let aliceId: string;
let bobId: string;
let aliceRides: string[];
let caseId: string;

async function scan(auth: string, scannedAt?: Date): Promise<string> {
  return (await scanRide(t, auth, code.url, scannedAt?.toISOString())).id;
}

/** A case over the last 24 hours. */
const openRightsCase = (subject: Record<string, string | undefined>, caseNumber: string) =>
  openCase(t, w.tokens.official, { subject, caseNumber, reason: 'rights test' });

async function countRides(ids: string[]): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from rides where id = any(${ids}::uuid[])`.execute(t.db);
  return r.rows[0]!.n;
}

beforeAll(async () => {
  ({ code } = await createCarrier(t, w.tokens.operator));
  aliceAuth = await confirmedPassenger(t, 'rights-alice', alice);
  bobAuth = await confirmedPassenger(t, 'rights-bob', bob);
  carolAuth = await confirmedPassenger(t, 'rights-carol', carol);
  aliceId = await passengerIdOf(t, aliceAuth);
  bobId = await passengerIdOf(t, bobAuth);
  // Carol (the case) rides with Alice and Bob; Alice also rode earlier, offline, on her own.
  await scan(carolAuth);
  aliceRides = [await scan(aliceAuth), await scan(aliceAuth, new Date(Date.now() - 3 * 3600_000))];
  await scan(bobAuth);
  const c = await openRightsCase({ phone: carol.phone }, 'RIGHTS-1');
  expect(c.status).toBe(201);
  caseId = c.body.id;
  const n = await notifyCase(t, w.tokens.official, caseId).expect(200);
  expect(n.body.exposed).toBe(2);
});

describe('right of access: GET /v1/passengers/me/export', () => {
  it("returns the passenger's own unmasked data, rides, status, notifications and retention", async () => {
    const res = await t.http().get('/v1/passengers/me/export').set('authorization', aliceAuth).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const e = res.body;
    expect(e.passenger).toMatchObject({
      id: aliceId,
      registration: 'app',
      name: alice.name,
      phone: alice.phone,
      idNumber: alice.idNumber,
      superAppLinked: true,
      consentVersion: t.config.consentVersion,
    });
    expect(e.passenger.consentedAt).toEqual(expect.any(String));
    expect(e.rides.map((r: { id: string }) => r.id).sort()).toEqual([...aliceRides].sort());
    expect(e.status).toMatchObject({ colour: 'yellow' });
    expect(e.notifications).toHaveLength(1);
    expect(e.retentionDays).toBe(28);
    expect(Date.parse(e.generatedAt)).not.toBeNaN();
  });

  it("another passenger's data never appears", async () => {
    const res = await t.http().get('/v1/passengers/me/export').set('authorization', aliceAuth).expect(200);
    const text = JSON.stringify(res.body);
    for (const v of [bob.name, bob.phone, bobId, carol.name, carol.phone]) expect(text).not.toContain(v);
    const bobs = await t.http().get('/v1/passengers/me/export').set('authorization', bobAuth).expect(200);
    expect(bobs.body.passenger).toMatchObject({
      id: bobId,
      name: bob.name,
      phone: bob.phone,
      idNumber: null,
    });
    expect(bobs.body.rides).toHaveLength(1);
    const bobText = JSON.stringify(bobs.body);
    for (const v of [alice.name, alice.phone, alice.idNumber, aliceId, ...aliceRides]) {
      expect(bobText).not.toContain(v);
    }
  });

  it('needs a passenger token', async () => {
    await t.http().get('/v1/passengers/me/export').expect(401);
    const r = await t.http().get('/v1/passengers/me/export').set('authorization', w.tokens.official);
    expect(r.status).toBe(403);
  });
});

describe('right to erasure: DELETE /v1/passengers/me', () => {
  let ridesBefore: number;

  beforeAll(async () => {
    const before = await t
      .http()
      .get(`/v1/cases/${caseId}/exposures`)
      .set('authorization', w.tokens.official);
    expect(before.body).toMatchObject({ total: 2, unlinkable: 0 });
    ridesBefore = (await sql<{ n: number }>`select count(*)::int as n from rides`.execute(t.db)).rows[0]!.n;
    expect(await countRides(aliceRides)).toBe(2);
  });

  it('204, then the profile and export are gone: her token is worth nothing (401 token_invalid)', async () => {
    const del = await t.http().delete('/v1/passengers/me').set('authorization', aliceAuth);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const me = await t.http().get('/v1/passengers/me').set('authorization', aliceAuth);
    expect({ status: me.status, code: me.body.error?.code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
    const ex = await t.http().get('/v1/passengers/me/export').set('authorization', aliceAuth);
    expect({ status: ex.status, code: ex.body.error?.code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
  });

  it('the row keeps only a tombstone: every sealed and index column is null, deleted_at is set', async () => {
    const row = await t.db
      .selectFrom('passengers')
      .selectAll()
      .where('id', '=', aliceId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      subject_index: null,
      dek_master_key_id: null,
      dek_wrapped: null,
      name_sealed: null,
      phone_sealed: null,
      id_number_sealed: null,
      phone_index: null,
      id_number_index: null,
      openid_sealed: null,
      pending_sealed: null,
      consent_version: null,
      consented_at: null,
    });
    expect(row.deleted_at).toBeInstanceOf(Date);
  });

  it('her rides stay (countable) but are unlinkable', async () => {
    expect(await countRides(aliceRides)).toBe(2);
    const total = (await sql<{ n: number }>`select count(*)::int as n from rides`.execute(t.db)).rows[0]!.n;
    expect(total).toBe(ridesBefore);
  });

  it('her token, still unexpired, can no longer register a ride: 401 token_invalid, nothing stored', async () => {
    const r = await t
      .http()
      .post('/v1/rides')
      .set('authorization', aliceAuth)
      .send({ code: code.url, clientRideId: randomUUID() });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 401, code: 'token_invalid' });
    const total = (await sql<{ n: number }>`select count(*)::int as n from rides`.execute(t.db)).rows[0]!.n;
    expect(total).toBe(ridesBefore);
  });

  it('a case naming the deleted person: 404 case_subject_unknown', async () => {
    for (const subject of [{ phone: alice.phone }, { idNumber: alice.idNumber }, { passengerId: aliceId }]) {
      const c = await openRightsCase(subject, 'RIGHTS-2');
      expect({ status: c.status, code: c.body.error?.code }).toEqual({
        status: 404,
        code: 'case_subject_unknown',
      });
    }
  });

  it('a case of someone who rode with her counts her as unlinkable and never lists her', async () => {
    for (const id of [caseId, (await openRightsCase({ phone: carol.phone }, 'RIGHTS-3')).body.id as string]) {
      const ex = await t
        .http()
        .get(`/v1/cases/${id}/exposures`)
        .set('authorization', w.tokens.official)
        .expect(200);
      expect(ex.body).toMatchObject({ total: 1, unlinkable: 1 });
      expect(ex.body.items.map((e: { personId: string }) => e.personId)).toEqual([bobId]);
      const csv = await t
        .http()
        .get(`/v1/cases/${id}/exposures.csv`)
        .set('authorization', w.tokens.official)
        .expect(200);
      expect(csv.text).not.toContain(aliceId);
      expect(csv.text).toContain(bobId);
    }
  });

  it('logging in again with the same super-app account starts a new, unconfirmed pseudonym', async () => {
    const login = await t
      .http()
      .post('/v1/auth/passenger')
      .send({ loginCode: 'ok:rights-alice' })
      .expect(200);
    expect(login.body.passenger.confirmed).toBe(false);
    expect(login.body.passenger.id).not.toBe(aliceId);
    const me = await t
      .http()
      .get('/v1/passengers/me')
      .set('authorization', `Bearer ${login.body.accessToken as string}`)
      .expect(200);
    expect(me.body).toMatchObject({ id: login.body.passenger.id, confirmed: false, name: null, phone: null });
    const rides = await t
      .http()
      .get('/v1/passengers/me/rides')
      .set('authorization', `Bearer ${login.body.accessToken as string}`)
      .expect(200);
    expect(rides.body.items).toEqual([]);
  });

  it('deleting twice: 401 token_invalid', async () => {
    const again = await t.http().delete('/v1/passengers/me').set('authorization', aliceAuth);
    expect({ status: again.status, code: again.body.error?.code }).toEqual({
      status: 401,
      code: 'token_invalid',
    });
  });
});
