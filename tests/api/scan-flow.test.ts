import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { createCarrier, passengerToken } from '../support/test-app.js';

const { t, w } = useWorld();

describe('scan → confirm → one-tap rides', () => {
  it('first scan asks for confirmation with a preview, confirm registers the pending ride, later scans are one tap', async () => {
    const { carrier, code } = await createCarrier(t, w.tokens.operator);
    const auth = await passengerToken(t, 'alice');

    const first = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId: randomUUID() });
    expect(first.status).toBe(202);
    expect(first.body.result).toBe('confirmation_required');
    expect(first.body.preview.carrier).toMatchObject({
      id: carrier.id,
      kind: 'bus',
      plate: '粤B12345',
      route: '36路',
    });
    expect(first.body.preview.passenger).toEqual({ name: null, phone: null });
    expect(first.body.preview.consentVersion).toBe(t.config.consentVersion);

    const confirm = await t
      .http()
      .post('/v1/passengers/me/confirm')
      .set('authorization', auth)
      .send({ name: '张三丰', phone: '138 1234 5678', consentVersion: t.config.consentVersion });
    expect(confirm.status).toBe(200);
    expect(confirm.body.passenger).toMatchObject({ confirmed: true, name: '张*丰', phone: '138****5678' });
    expect(confirm.body.ride.carrier.id).toBe(carrier.id);
    const confirmedAuth = `Bearer ${confirm.body.accessToken}`;

    // A rescan at the door is the ride just registered (repeat scan) …
    const rescan = await t
      .http()
      .post('/v1/rides')
      .set('authorization', confirmedAuth)
      .send({ code: code.token, clientRideId: randomUUID() });
    expect(rescan.status).toBe(200);
    expect(rescan.body).toMatchObject({ repeat: true, ride: { id: confirm.body.ride.id } });

    // … a later trip is one tap.
    t.clock.offsetMs = 20 * 60_000;
    const second = await t
      .http()
      .post('/v1/rides')
      .set('authorization', confirmedAuth)
      .send({ code: code.token, clientRideId: randomUUID() });
    expect(second.status).toBe(201);
    expect(second.body.ride).toMatchObject({ source: 'scan', late: false, carrier: { id: carrier.id } });

    // The old token (issued before confirmation) still works: the server reads the passenger once.
    t.clock.offsetMs = 40 * 60_000;
    const third = await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId: randomUUID() });
    t.clock.offsetMs = 0;
    expect(third.status).toBe(201);

    const mine = await t
      .http()
      .get('/v1/passengers/me/rides')
      .set('authorization', confirmedAuth)
      .expect(200);
    expect(mine.body.items).toHaveLength(3);
  });
});
