import { isValidIdNumber } from '@ridetrace/shared';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { expectError, withCheckChar } from '../support/flows.js';
import {
  confirmedPassenger,
  createCarrier,
  passengerToken,
  type TestApp,
  type World,
} from '../support/test-app.js';

/** The same ID number with a different (wrong) check character. */
function withWrongCheckChar(valid: string): string {
  const last = valid.slice(-1);
  return `${valid.slice(0, -1)}${last === '0' ? '1' : '0'}`;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

let plateSeq = 0;
/** A new carrier with a unique plate. */
async function newCarrier(t: TestApp, w: World) {
  plateSeq += 1;
  return createCarrier(t, w.tokens.operator, {
    kind: 'bus',
    plate: `粤B${String(10000 + plateSeq)}`,
    route: `${plateSeq}路`,
    city: '深圳',
  });
}

describe('rides (default bounds)', () => {
  const { t, w } = useWorld();
  let carrierA: Awaited<ReturnType<typeof newCarrier>>;
  let carrierB: Awaited<ReturnType<typeof newCarrier>>;

  beforeAll(async () => {
    carrierA = await newCarrier(t, w);
    carrierB = await newCarrier(t, w);
  });
  afterEach(() => {
    t.clock.offsetMs = 0;
  });

  const scan = (auth: string, body: Record<string, unknown>) =>
    t.http().post('/v1/rides').set('authorization', auth).send(body);

  const serverNow = () => Date.now() + t.clock.offsetMs;

  async function flaggedOf(rideId: string): Promise<boolean> {
    const r = await sql<{ flagged: boolean }>`select flagged from rides where id = ${rideId}::uuid`.execute(
      t.db,
    );
    expect(r.rows).toHaveLength(1);
    return r.rows[0]!.flagged;
  }

  describe('idempotency (clientRideId)', () => {
    it('the same clientRideId twice: 201 then 200 with the same ride', async () => {
      const auth = await confirmedPassenger(t, 'idem-1');
      const clientRideId = randomUUID();
      const first = await scan(auth, { code: carrierA.code.url, clientRideId });
      expect(first.status).toBe(201);
      expect(first.body.result).toBe('registered');
      const second = await scan(auth, { code: carrierA.code.url, clientRideId });
      expect(second.status).toBe(200);
      expect(second.body.result).toBe('registered');
      expect(second.body.ride.id).toBe(first.body.ride.id);
      expect(second.body.ride.boardedAt).toBe(first.body.ride.boardedAt);

      // The same clientRideId on another carrier is refused.
      const other = await scan(auth, { code: carrierB.code.url, clientRideId });
      expectError(other, 409, 'client_ride_id_reused');
    });

    it('the same clientRideId from another passenger is another ride', async () => {
      const p = await confirmedPassenger(t, 'idem-2', { name: '孙八', phone: '13500001111' });
      const q = await confirmedPassenger(t, 'idem-3', { name: '周九', phone: '13500002222' });
      const clientRideId = randomUUID();
      const first = await scan(p, { code: carrierA.code.url, clientRideId });
      const second = await scan(q, { code: carrierB.code.url, clientRideId });
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.body.ride.id).not.toBe(first.body.ride.id);
    });

    it('20 concurrent scans with one clientRideId record exactly one ride', async () => {
      const auth = await confirmedPassenger(t, 'idem-concurrent');
      const clientRideId = randomUUID();
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => scan(auth, { code: carrierA.code.token, clientRideId })),
      );
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(19);
      const ids = new Set(replies.map((r) => r.body.ride?.id as string));
      expect(ids.size).toBe(1);
      const [rideId] = [...ids];
      const rows = await sql<{
        n: string;
      }>`select count(*)::text as n from rides where id = ${rideId!}::uuid`.execute(t.db);
      expect(rows.rows[0]!.n).toBe('1');
    });
  });

  describe('offline and late scans', () => {
    let auth: string;
    beforeAll(async () => {
      auth = await confirmedPassenger(t, 'offline-1');
    });

    it('scannedAt 10 minutes ago: offline, late, boardedAt = scannedAt', async () => {
      const scannedAt = new Date(serverNow() - 10 * MIN).toISOString();
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt });
      expect(res.status).toBe(201);
      expect(res.body.ride).toMatchObject({ source: 'offline', late: true });
      expect(new Date(res.body.ride.boardedAt).getTime()).toBe(new Date(scannedAt).getTime());
      expect(Math.abs(new Date(res.body.ride.receivedAt).getTime() - serverNow())).toBeLessThan(10_000);
    });

    it('scannedAt 30 s ago: a live scan at server time', async () => {
      const scannedAt = new Date(serverNow() - 30_000).toISOString();
      const before = serverNow();
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt });
      const after = serverNow();
      expect(res.status).toBe(201);
      expect(res.body.ride).toMatchObject({ source: 'scan', late: false });
      const boarded = new Date(res.body.ride.boardedAt).getTime();
      expect(boarded).toBeGreaterThanOrEqual(before - 1000);
      expect(boarded).toBeLessThanOrEqual(after + 1000);
      expect(boarded).not.toBe(new Date(scannedAt).getTime());
    });

    it('scannedAt 23 h ago is accepted', async () => {
      const scannedAt = new Date(serverNow() - 23 * HOUR).toISOString();
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt });
      expect(res.status).toBe(201);
      expect(res.body.ride).toMatchObject({ source: 'offline', late: true });
      expect(new Date(res.body.ride.boardedAt).getTime()).toBe(new Date(scannedAt).getTime());
    });

    it('scannedAt 25 h ago → 400 scan_too_old', async () => {
      const scannedAt = new Date(serverNow() - 25 * HOUR).toISOString();
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt });
      expectError(res, 400, 'scan_too_old');
    });

    it('scannedAt 10 minutes in the future → 400 scan_time_in_future', async () => {
      const scannedAt = new Date(serverNow() + 10 * MIN).toISOString();
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt });
      expectError(res, 400, 'scan_time_in_future');
    });

    it('scannedAt 1 minute in the future (within the clock skew) is accepted as a live scan', async () => {
      const scannedAt = new Date(serverNow() + MIN).toISOString();
      const res = await scan(await confirmedPassenger(t, 'skew-1'), {
        code: carrierA.code.url,
        clientRideId: randomUUID(),
        scannedAt,
      });
      expect(res.status).toBe(201);
      expect(res.body.ride).toMatchObject({ source: 'scan', late: false });
      expect(Math.abs(new Date(res.body.ride.boardedAt).getTime() - serverNow())).toBeLessThan(10_000);
    });
  });

  describe('carrier-switch flag', () => {
    it('a ride on another carrier within 120 s is flagged; the same carrier again is not', async () => {
      const auth = await confirmedPassenger(t, 'switch-1');
      const onA = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID() });
      expect(onA.status).toBe(201);
      expect(onA.body.ride).not.toHaveProperty('flagged');
      expect(await flaggedOf(onA.body.ride.id)).toBe(false);

      // The same carrier again within the repeat window is the same ride, never a switch.
      const againA = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID() });
      expect(againA.status).toBe(200);
      expect(againA.body).toMatchObject({ repeat: true, ride: { id: onA.body.ride.id } });
      expect(await flaggedOf(onA.body.ride.id)).toBe(false);

      const onB = await scan(auth, { code: carrierB.code.url, clientRideId: randomUUID() });
      expect(onB.status).toBe(201);
      expect(onB.body.ride).not.toHaveProperty('flagged');
      expect(await flaggedOf(onB.body.ride.id)).toBe(true);
    });

    it('a ride on another carrier more than 120 s later is not flagged', async () => {
      const auth = await confirmedPassenger(t, 'switch-2');
      const onA = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID() });
      expect(onA.status).toBe(201);
      t.clock.offsetMs = 150_000;
      const onB = await scan(auth, { code: carrierB.code.url, clientRideId: randomUUID() });
      expect(onB.status).toBe(201);
      expect(
        new Date(onB.body.ride.boardedAt).getTime() - new Date(onA.body.ride.boardedAt).getTime(),
      ).toBeGreaterThan(120_000);
      expect(await flaggedOf(onA.body.ride.id)).toBe(false);
      expect(await flaggedOf(onB.body.ride.id)).toBe(false);
    });

    it('a ride on the other side of UTC midnight is seen by the flag', async () => {
      const auth = await confirmedPassenger(t, 'switch-midnight');
      const midnight = new Date();
      midnight.setUTCHours(0, 0, 0, 0);
      t.clock.offsetMs = midnight.getTime() + HOUR - Date.now(); // server time: 01:00 UTC today
      const before = await scan(auth, {
        code: carrierA.code.url,
        clientRideId: randomUUID(),
        scannedAt: new Date(midnight.getTime() - 30_000).toISOString(),
      });
      const after = await scan(auth, {
        code: carrierB.code.url,
        clientRideId: randomUUID(),
        scannedAt: new Date(midnight.getTime() + 30_000).toISOString(),
      });
      expect([before.status, after.status]).toEqual([201, 201]);
      expect(after.body.ride).toMatchObject({ source: 'offline', late: true });
      expect(await flaggedOf(before.body.ride.id)).toBe(false);
      expect(await flaggedOf(after.body.ride.id)).toBe(true);
    });

    it("another passenger's ride on another carrier does not flag", async () => {
      const p = await confirmedPassenger(t, 'switch-3', { name: '李四', phone: '13700001111' });
      const q = await confirmedPassenger(t, 'switch-4', { name: '王五', phone: '13700002222' });
      const onA = await scan(p, { code: carrierA.code.url, clientRideId: randomUUID() });
      const onB = await scan(q, { code: carrierB.code.url, clientRideId: randomUUID() });
      expect([onA.status, onB.status]).toEqual([201, 201]);
      expect(await flaggedOf(onB.body.ride.id)).toBe(false);

      // An offline scan sent 5 minutes later, scanned 60 s before the ride on A, on another carrier: flagged.
      t.clock.offsetMs = 5 * MIN;
      const late = await scan(p, {
        code: carrierB.code.url,
        clientRideId: randomUUID(),
        scannedAt: new Date(Date.parse(onA.body.ride.boardedAt) - 60_000).toISOString(),
      });
      expect(late.status).toBe(201);
      expect(late.body.ride).toMatchObject({ source: 'offline', late: true });
      expect(Date.parse(late.body.ride.boardedAt)).toBe(Date.parse(onA.body.ride.boardedAt) - 60_000);
      expect(await flaggedOf(late.body.ride.id)).toBe(true);
    });
  });

  describe('first-time flow', () => {
    it("an unconfirmed passenger's scan of a revoked code → 410 code_revoked, not a preview", async () => {
      const c = await newCarrier(t, w);
      const reissued = await t
        .http()
        .post(`/v1/carriers/${c.carrier.id}/code`)
        .set('authorization', w.tokens.operator);
      expect(reissued.status).toBe(201);
      expect(reissued.body.generation).toBeGreaterThan(c.code.generation);

      const auth = await passengerToken(t, 'first-revoked');
      const res = await scan(auth, { code: c.code.url, clientRideId: randomUUID() });
      expectError(res, 410, 'code_revoked');
      expect(res.body).not.toHaveProperty('preview');

      // The new poster works (preview for the unconfirmed passenger).
      const fresh = await scan(auth, { code: reissued.body.url, clientRideId: randomUUID() });
      expect(fresh.status).toBe(202);
      expect(fresh.body.result).toBe('confirmation_required');
    });

    describe('confirm', () => {
      let auth: string;
      beforeAll(async () => {
        auth = await passengerToken(t, 'first-confirm');
      });
      const confirm = (body: Record<string, unknown>) =>
        t.http().post('/v1/passengers/me/confirm').set('authorization', auth).send(body);

      it('an outdated consentVersion → 409 consent_version_outdated', async () => {
        const res = await confirm({ name: '张三丰', phone: '13812345678', consentVersion: '2000-01' });
        expectError(res, 409, 'consent_version_outdated');
      });

      it('an invalid phone or name → 400 validation_failed', async () => {
        const cv = t.config.consentVersion;
        for (const body of [
          { name: '张三丰', phone: '12345', consentVersion: cv },
          { name: '张三丰', phone: '23812345678', consentVersion: cv },
          { name: '张三丰', phone: '1381234567a', consentVersion: cv },
          { name: '', phone: '13812345678', consentVersion: cv },
          { name: 'Robert1', phone: '13812345678', consentVersion: cv },
          { name: '<script>', phone: '13812345678', consentVersion: cv },
          { name: '张'.repeat(41), phone: '13812345678', consentVersion: cv },
        ]) {
          const res = await confirm(body);
          expectError(res, 400, 'validation_failed');
        }
      });

      it('an idNumber with a wrong check character → 400 validation_failed', async () => {
        const valid = withCheckChar('11010519491231002');
        const wrong = withWrongCheckChar(valid);
        expect(isValidIdNumber(wrong)).toBe(false);
        const res = await confirm({
          name: '张三丰',
          phone: '13812345678',
          idNumber: wrong,
          consentVersion: t.config.consentVersion,
        });
        expectError(res, 400, 'validation_failed');
        const me = await t.http().get('/v1/passengers/me').set('authorization', auth);
        expect(me.status).toBe(200);
        expect(me.body.confirmed).toBe(false);
      });

      it('a valid 18-character ID number is accepted; without a pending scan the ride is null', async () => {
        const valid = withCheckChar('44030519900101123');
        expect(isValidIdNumber(valid)).toBe(true);
        const res = await confirm({
          name: '张三丰',
          phone: '13812345678',
          idNumber: valid,
          consentVersion: t.config.consentVersion,
        });
        expect(res.status).toBe(200);
        expect(res.body.passenger).toMatchObject({
          confirmed: true,
          name: '张*丰',
          phone: '138****5678',
          hasIdNumber: true,
          consentVersion: t.config.consentVersion,
        });
        expect(res.body.ride).toBeNull();
        expect(JSON.stringify(res.body)).not.toContain(valid);
      });
    });

    it('an ID number with a lower-case x check character is accepted', async () => {
      // Find 17 digits whose check character is X.
      let first17 = '';
      for (let i = 0; i < 1000; i++) {
        first17 = `11010519900101${String(1000 + i).slice(1)}`;
        if (withCheckChar(first17).endsWith('X')) break;
      }
      const valid = withCheckChar(first17).toLowerCase();
      expect(valid.endsWith('x')).toBe(true);
      const auth = await passengerToken(t, 'first-x');
      const res = await t.http().post('/v1/passengers/me/confirm').set('authorization', auth).send({
        name: 'Li Lei',
        phone: '13812340000',
        idNumber: valid,
        consentVersion: t.config.consentVersion,
      });
      expect(res.status).toBe(200);
      expect(res.body.passenger.hasIdNumber).toBe(true);
    });

    it('a passenger whose stored consent is outdated gets 202 with a preview of their masked identity', async () => {
      const confirmed = await confirmedPassenger(t, 'first-outdated', {
        name: '张三丰',
        phone: '13812345678',
      });
      const me = await t.http().get('/v1/passengers/me').set('authorization', confirmed);
      expect(me.status).toBe(200);
      await t.db
        .updateTable('passengers')
        .set({ consent_version: 'old' })
        .where('id', '=', me.body.id)
        .execute();

      // A new login reflects the outdated consent.
      const auth = await passengerToken(t, 'first-outdated');
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID() });
      expect(res.status).toBe(202);
      expect(res.body.result).toBe('confirmation_required');
      expect(res.body.preview.passenger).toEqual({ name: '张*丰', phone: '138****5678' });
      expect(res.body.preview.consentVersion).toBe(t.config.consentVersion);
      expect(res.body.preview.carrier.id).toBe(carrierA.carrier.id);

      // Confirming again registers the pending scan.
      const again = await t
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({ name: '张三丰', phone: '13812345678', consentVersion: t.config.consentVersion });
      expect(again.status).toBe(200);
      expect(again.body.ride?.carrier.id).toBe(carrierA.carrier.id);
    });
  });

  describe('GET /v1/passengers/me/rides', () => {
    let mine: string;
    let theirs: string;
    const myRideIds: string[] = [];
    let theirRideId: string;
    let oldRideId: string;

    beforeAll(async () => {
      mine = await confirmedPassenger(t, 'history-1', { name: '赵六', phone: '13600001111' });
      theirs = await confirmedPassenger(t, 'history-2', { name: '钱七', phone: '13600002222' });
      // Oldest first: 23 h, 30 min and 10 min ago, then a live scan.
      for (const [ageMs, code] of [
        [23 * HOUR, carrierA.code.url],
        [30 * MIN, carrierB.code.url],
        [10 * MIN, carrierA.code.url],
        [0, carrierB.code.token],
      ] as const) {
        const body: Record<string, unknown> = { code, clientRideId: randomUUID() };
        if (ageMs > 0) body.scannedAt = new Date(Date.now() - ageMs).toISOString();
        const res = await scan(mine, body);
        expect(res.status).toBe(201);
        myRideIds.push(res.body.ride.id);
      }
      oldRideId = myRideIds[0]!;
      const other = await scan(theirs, { code: carrierA.code.url, clientRideId: randomUUID() });
      expect(other.status).toBe(201);
      theirRideId = other.body.ride.id;
    });

    const history = (auth: string, query = '') =>
      t.http().get(`/v1/passengers/me/rides${query}`).set('authorization', auth);

    it('lists own rides newest first, never another passenger’s', async () => {
      const res = await history(mine);
      expect(res.status).toBe(200);
      const ids = (res.body.items as { id: string }[]).map((r) => r.id);
      expect(ids).toEqual([...myRideIds].reverse());
      expect(ids).not.toContain(theirRideId);
      const times = (res.body.items as { boardedAt: string }[]).map((r) => Date.parse(r.boardedAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);

      const other = await history(theirs);
      expect(other.status).toBe(200);
      expect((other.body.items as { id: string }[]).map((r) => r.id)).toEqual([theirRideId]);
    });

    it('days must be 1..28', async () => {
      for (const q of ['?days=0', '?days=29', '?days=-1', '?days=abc', '?days=1.5', '?other=1']) {
        const res = await history(mine, q);
        expectError(res, 400, 'validation_failed');
      }
      for (const q of ['?days=1', '?days=28']) {
        const res = await history(mine, q);
        expect(res.status).toBe(200);
      }
    });

    it('rides older than `days` are excluded', async () => {
      const now = await history(mine, '?days=1');
      expect(now.status).toBe(200);
      expect((now.body.items as { id: string }[]).map((r) => r.id)).toContain(oldRideId);

      t.clock.offsetMs = 2 * HOUR; // the 23-h-old ride is now 25 h old
      const later = await history(mine, '?days=1');
      expect(later.status).toBe(200);
      const ids = (later.body.items as { id: string }[]).map((r) => r.id);
      expect(ids).not.toContain(oldRideId);
      expect(ids).toEqual(myRideIds.slice(1).reverse());

      const wider = await history(mine, '?days=2');
      expect(wider.status).toBe(200);
      expect((wider.body.items as { id: string }[]).map((r) => r.id)).toContain(oldRideId);
    });

    it('needs a passenger token', async () => {
      expectError(await t.http().get('/v1/passengers/me/rides'), 401, 'auth_required');
      expectError(await history(w.tokens.staff), 403, 'forbidden');
    });
  });

  describe('request validation', () => {
    let auth: string;
    beforeAll(async () => {
      auth = await confirmedPassenger(t, 'validation-1');
    });

    it('unknown body fields → 400 validation_failed', async () => {
      const res = await scan(auth, { code: carrierA.code.url, clientRideId: randomUUID(), flagged: false });
      expectError(res, 400, 'validation_failed');
    });

    it('a clientRideId that is not a uuid → 400 validation_failed', async () => {
      for (const clientRideId of ['abc', '', '12345678-1234-1234-1234-1234567890zz', 42]) {
        const res = await scan(auth, { code: carrierA.code.url, clientRideId });
        expectError(res, 400, 'validation_failed');
      }
      const missing = await scan(auth, { code: carrierA.code.url });
      expectError(missing, 400, 'validation_failed');
    });

    it('wrong types → 400 validation_failed', async () => {
      for (const body of [
        { code: 12345, clientRideId: randomUUID() },
        { code: [carrierA.code.token], clientRideId: randomUUID() },
        { code: null, clientRideId: randomUUID() },
        { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt: 1700000000000 },
        { code: carrierA.code.url, clientRideId: randomUUID(), scannedAt: 'yesterday' },
        { code: '', clientRideId: randomUUID() },
      ]) {
        const res = await scan(auth, body);
        expectError(res, 400, 'validation_failed');
      }
    });

    it('an empty body or malformed JSON → 400', async () => {
      const none = await t.http().post('/v1/rides').set('authorization', auth);
      expect(none.status).toBe(400);
      expect(['malformed_json', 'validation_failed']).toContain(none.body.error?.code);

      const empty = await t
        .http()
        .post('/v1/rides')
        .set('authorization', auth)
        .set('content-type', 'application/json')
        .send('');
      expect(empty.status).toBe(400);
      expect(['malformed_json', 'validation_failed']).toContain(empty.body.error?.code);

      const broken = await t
        .http()
        .post('/v1/rides')
        .set('authorization', auth)
        .set('content-type', 'application/json')
        .send('{"code": "x", ');
      expectError(broken, 400, 'malformed_json');

      const array = await t
        .http()
        .post('/v1/rides')
        .set('authorization', auth)
        .set('content-type', 'application/json')
        .send('[]');
      expectError(array, 400, 'validation_failed');
    });

    it('no ride is stored by a refused request', async () => {
      const clientRideId = randomUUID();
      const bad = await scan(auth, { code: carrierA.code.url, clientRideId, extra: 1 });
      expectError(bad, 400, 'validation_failed');
      const good = await scan(auth, { code: carrierA.code.url, clientRideId });
      expect(good.status).toBe(201);
    });
  });
});

describe('rides with RIDES_MAX_LATE_SECONDS=3600 (offline bound, pending scans)', () => {
  const { t, w } = useWorld({ RIDES_MAX_LATE_SECONDS: '3600' });
  afterEach(() => {
    t.clock.offsetMs = 0;
  });

  const scan = (auth: string, body: Record<string, unknown>) =>
    t.http().post('/v1/rides').set('authorization', auth).send(body);
  const confirm = (auth: string) =>
    t
      .http()
      .post('/v1/passengers/me/confirm')
      .set('authorization', auth)
      .send({ name: '张三丰', phone: '13812345678', consentVersion: t.config.consentVersion });

  it('a scan retried after confirmation registered it → 200 with the same ride', async () => {
    const { carrier, code } = await newCarrier(t, w);
    const auth = await passengerToken(t, 'pending-retry');
    const clientRideId = randomUUID();
    expect((await scan(auth, { code: code.url, clientRideId })).status).toBe(202);
    const confirmed = await confirm(auth);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.ride.carrier.id).toBe(carrier.id);
    const retry = await scan(`Bearer ${confirmed.body.accessToken}`, { code: code.url, clientRideId });
    expect(retry.status).toBe(200);
    expect(retry.body.ride.id).toBe(confirmed.body.ride.id);
  });

  it('a pending scan whose code was revoked meanwhile is dropped; the confirmation stands', async () => {
    const { carrier, code } = await newCarrier(t, w);
    const auth = await passengerToken(t, 'pending-revoked');
    expect((await scan(auth, { code: code.url, clientRideId: randomUUID() })).status).toBe(202);
    await t
      .http()
      .post(`/v1/carriers/${carrier.id}/code`)
      .set('authorization', w.tokens.operator)
      .expect(201);
    const confirmed = await confirm(auth);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.passenger.confirmed).toBe(true);
    expect(confirmed.body.ride).toBeNull();
  });

  it('a pending scan older than the offline window is dropped at confirmation', async () => {
    const { code } = await newCarrier(t, w);
    const auth = await passengerToken(t, 'pending-stale');
    expect((await scan(auth, { code: code.url, clientRideId: randomUUID() })).status).toBe(202);
    t.clock.offsetMs = 2 * HOUR;
    const confirmed = await confirm(auth);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.passenger.confirmed).toBe(true);
    expect(confirmed.body.ride).toBeNull();
    const mine = await t
      .http()
      .get('/v1/passengers/me/rides')
      .set('authorization', `Bearer ${confirmed.body.accessToken}`);
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([]);
  });

  it('2 h ago → 400 scan_too_old, 30 min ago → 201 offline', async () => {
    const { code } = await newCarrier(t, w);
    const auth = await confirmedPassenger(t, 'bounds-1');
    const tooOld = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({
        code: code.url,
        clientRideId: randomUUID(),
        scannedAt: new Date(Date.now() - 2 * HOUR).toISOString(),
      });
    expectError(tooOld, 400, 'scan_too_old');

    const ok = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({
        code: code.url,
        clientRideId: randomUUID(),
        scannedAt: new Date(Date.now() - 30 * MIN).toISOString(),
      });
    expect(ok.status).toBe(201);
    expect(ok.body.ride).toMatchObject({ source: 'offline', late: true });
  });
});
