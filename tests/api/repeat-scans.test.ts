import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { createStaffedCarrier, scanRide } from '../support/flows.js';
import { confirmedPassenger, createCarrier, type TestApp, type World } from '../support/test-app.js';

const MIN = 60_000;

let plateSeq = 0;
async function newCarrier(t: TestApp, w: World) {
  plateSeq += 1;
  return createCarrier(t, w.tokens.operator, { kind: 'bus', plate: `粤B-RP${plateSeq}`, city: '深圳' });
}

function scan(t: TestApp, auth: string, url: string, extra: Record<string, unknown> = {}) {
  return t
    .http()
    .post('/v1/rides')
    .set('authorization', auth)
    .send({ code: url, clientRideId: randomUUID(), ...extra });
}

async function ridesOf(t: TestApp, auth: string): Promise<{ id: string; carrier: { id: number } }[]> {
  const res = await t.http().get('/v1/passengers/me/rides').set('authorization', auth).expect(200);
  return res.body.items;
}

describe('repeat scans (RIDES_REPEAT_MINUTES default 5)', () => {
  const { t, w } = useWorld({ RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '1000' });

  it('scanning the same carrier again within the window answers 200 with the earlier ride', async () => {
    const { code } = await newCarrier(t, w);
    const auth = await confirmedPassenger(t, 'rp-again');
    const first = await scanRide(t, auth, code.url);
    const clientRideId = randomUUID();
    const again = await scan(t, auth, code.url, { clientRideId });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ result: 'registered', repeat: true, ride: { id: first.id } });
    // A retry of the repeat (same clientRideId) names the same ride, also after the window.
    t.clock.offsetMs = 30 * MIN;
    try {
      const retry = await scan(t, auth, code.url, { clientRideId });
      expect(retry.status).toBe(200);
      expect(retry.body.ride.id).toBe(first.id);
      expect(retry.body.repeat).toBeUndefined();
    } finally {
      t.clock.offsetMs = 0;
    }
    expect((await ridesOf(t, auth)).map((r) => r.id)).toEqual([first.id]);
  });

  it('a scan after the window, another carrier, or another passenger is a new ride', async () => {
    const a = await newCarrier(t, w);
    const b = await newCarrier(t, w);
    const auth = await confirmedPassenger(t, 'rp-new');
    const other = await confirmedPassenger(t, 'rp-other');
    const first = await scanRide(t, auth, a.code.url);
    const onB = await scanRide(t, auth, b.code.url);
    const otherPassenger = await scanRide(t, other, a.code.url);
    t.clock.offsetMs = 5 * MIN + 1000;
    try {
      const later = await scanRide(t, auth, a.code.url);
      expect(new Set([first.id, onB.id, otherPassenger.id, later.id]).size).toBe(4);
    } finally {
      t.clock.offsetMs = 0;
    }
  });

  it('an offline scan within the window of a ride (before or after it) is the same ride', async () => {
    const { code } = await newCarrier(t, w);
    const auth = await confirmedPassenger(t, 'rp-offline');
    const now = Date.now();
    // Uploaded late: boarded 20 minutes ago, offline.
    const offline = await scanRide(t, auth, code.url, new Date(now - 20 * MIN).toISOString());
    const near = await scan(t, auth, code.url, { scannedAt: new Date(now - 17 * MIN).toISOString() });
    expect(near.status).toBe(200);
    expect(near.body).toMatchObject({ repeat: true, ride: { id: offline.id, source: 'offline' } });
    // An earlier offline scan within the window of that ride: the same ride too.
    const before = await scan(t, auth, code.url, { scannedAt: new Date(now - 24 * MIN).toISOString() });
    expect(before.status).toBe(200);
    expect(before.body.ride.id).toBe(offline.id);
    const far = await scan(t, auth, code.url, { scannedAt: new Date(now - 26 * MIN).toISOString() });
    expect(far.status).toBe(201);
  });

  it('a burst of taps on one code registers one ride; every answer names it', async () => {
    const { code } = await newCarrier(t, w);
    const auth = await confirmedPassenger(t, 'rp-burst');
    const results = await Promise.all(Array.from({ length: 6 }, () => scan(t, auth, code.url)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const ids = new Set(results.map((r) => r.body.ride.id));
    expect(ids.size).toBe(1);
    expect(await ridesOf(t, auth)).toHaveLength(1);
  });

  it('staff registering the same rider on the same carrier twice in the window get the first ride', async () => {
    const { carrier } = await createStaffedCarrier(t, w, { kind: 'bus', plate: '粤B-RPS1', city: '深圳' });
    const rider = {
      name: '王小明',
      phone: '13912340001',
      boardedAt: new Date(Date.now() - 2 * MIN).toISOString(),
    };
    const register = () =>
      t
        .http()
        .post(`/v1/carriers/${carrier.id}/manual-rides`)
        .set('authorization', w.tokens.staff)
        .send(rider);
    const first = await register();
    expect(first.status).toBe(201);
    const again = await register();
    expect(again.status).toBe(200);
    expect(again.body.ride.id).toBe(first.body.ride.id);
  });
});

describe('repeat scans turned off (RIDES_REPEAT_MINUTES=0)', () => {
  const { t, w } = useWorld({ RIDES_REPEAT_MINUTES: '0' });

  it('every scan is a ride of its own', async () => {
    const { code } = await newCarrier(t, w);
    const auth = await confirmedPassenger(t, 'rp-off');
    const a = await scanRide(t, auth, code.url);
    const b = await scanRide(t, auth, code.url);
    expect(a.id).not.toBe(b.id);
    expect(await ridesOf(t, auth)).toHaveLength(2);
  });
});
