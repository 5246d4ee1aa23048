import { BENCH_TIMING_HEADER, poolOf } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestApp, useWorld } from '../support/fixtures.js';
import {
  confirmedPassenger,
  createCarrier,
  createTestApp,
  seedWorld,
  type TestApp,
} from '../support/test-app.js';

/** Busies every connection of the app's pool for `seconds`; resolves once they are taken, with their end. */
async function holdPool(t: TestApp, seconds: number): Promise<{ released: Promise<unknown> }> {
  const size = poolOf(t.db)!.options.max;
  const hold = Promise.all(
    Array.from({ length: size }, () => sql`select pg_sleep(${seconds})`.execute(t.db)),
  );
  await new Promise((r) => setTimeout(r, 50));
  // Wrapped: an async function's promise would wait for a returned promise.
  return { released: hold };
}

describe('load shedding on a saturated connection pool', () => {
  const t = useTestApp({
    DB_POOL_SIZE: '1',
    SHED_MAX_DB_WAITING: '2',
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  });

  it('answers 503 overloaded with Retry-After instead of queueing, never 500; the rest are served', async () => {
    const auth = await confirmedPassenger(t, 'busy');
    // Hold every connection of the pool, so requests queue for one.
    const { released: hold } = await holdPool(t, 0.7);
    const replies = [];
    for (let i = 0; i < 8; i++) {
      replies.push(
        t
          .http()
          .get('/v1/passengers/me')
          .set('authorization', auth)
          .then((r) => r),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await hold;
    const done = await Promise.all(replies);
    const statuses = done.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const shed = done.filter((r) => r.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) {
      expect(r.body.error.code).toBe('overloaded');
      expect(r.headers['retry-after']).toBe('1');
    }
    // Once the burst is over, everything is served again.
    await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
  });
});

describe('load shedding on requests in flight (bulkhead)', () => {
  const t = useTestApp({
    SHED_MAX_IN_FLIGHT: '3',
    SHED_MAX_DB_WAITING: '0',
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    CORS_ORIGINS: 'http://127.0.0.1:10086',
  });

  it('beyond the limit answers 503 overloaded + Retry-After at once; the ones in flight are served', async () => {
    const auth = await confirmedPassenger(t, 'bulkhead');
    // Hold every connection of the pool, so the requests stay in flight while they wait for one.
    const { released: hold } = await holdPool(t, 0.5);
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 8 }, () =>
        t
          .http()
          .get('/v1/passengers/me')
          .set('authorization', auth)
          .set('origin', 'http://127.0.0.1:10086')
          .then((r) => ({ r, ms: Date.now() - started })),
      ),
    );
    await hold;
    const served = replies.filter((x) => x.r.status === 200);
    const shed = replies.filter((x) => x.r.status === 503);
    expect(served.length + shed.length).toBe(8);
    expect(served).toHaveLength(3);
    for (const { r, ms } of shed) {
      expect(r.body.error.code).toBe('overloaded');
      expect(r.body.error.message).toEqual(expect.any(String));
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      // The h5 mini-program in a browser reads the refusal, not a CORS failure.
      expect(r.headers['access-control-allow-origin']).toBe('http://127.0.0.1:10086');
      // Refused at once, not after waiting for the connection.
      expect(ms).toBeLessThan(Math.min(...served.map((x) => x.ms)));
    }
    // The slots are given back: everything is served again.
    await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
    await t.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
  });
});

describe('load shedding on event-loop lag', () => {
  // Well above what other test files running beside this one can cause (their CPU delays this process's timers).
  const { t, w } = useWorld({ SHED_MAX_EVENT_LOOP_DELAY_MS: '300' });

  it('sheds with 503 overloaded while the loop lags, keeps /health up, and recovers', async () => {
    const { code } = await createCarrier(t, w.tokens.operator);
    const auth = await confirmedPassenger(t, 'laggy');
    // Keep the event loop saturated like a CPU-bound server: block 500 ms out of every 510 ms.
    const lag = setInterval(() => {
      const end = Date.now() + 500;
      while (Date.now() < end) {
        // busy
      }
    }, 10);
    let shed;
    try {
      await new Promise((r) => setTimeout(r, 700));
      shed = await t
        .http()
        .post('/v1/rides')
        .set('authorization', auth)
        .send({ code: code.url, clientRideId: randomUUID() });
    } finally {
      clearInterval(lag);
    }
    expect(shed.status).toBe(503);
    expect(shed.body.error.code).toBe('overloaded');
    expect(shed.headers['retry-after']).toBe('1');
    await t.http().get('/health').expect(200);
    let status = 503;
    for (let i = 0; i < 40 && status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (
        await t
          .http()
          .post('/v1/rides')
          .set('authorization', auth)
          .send({ code: code.url, clientRideId: randomUUID() })
      ).status;
    }
    expect(status).toBe(201);
  });
});

describe('event-loop pauses shorter than the limit', () => {
  // The limit leaves room for the delays other test files running beside this one cause.
  const t = useTestApp({ SHED_MAX_EVENT_LOOP_DELAY_MS: '400' });

  it('shed nothing: a 60–120 ms pause (a major GC, a big synchronous step) is not a lag of 400 ms', async () => {
    // An interval without event-loop samples must not count as infinite lag: thirty pauses, a request after each.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 60 + (i % 4) * 20));
      const end = performance.now() + 60 + (i % 4) * 20;
      while (performance.now() < end) {
        // busy
      }
      statuses.push((await t.http().get('/ready')).status);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});

describe('benchmark baselines', () => {
  it('exist only with BENCH_ROUTES=on, as does the Server-Timing header', async () => {
    const off = await createTestApp();
    const w = await seedWorld(off);
    const auth = await confirmedPassenger(off, 'nb');
    const { code } = await createCarrier(off, w.tokens.operator);
    const r = await off
      .http()
      .post('/v1/bench/nodb')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId: randomUUID() });
    expect(r.status).toBe(404);
    expect(r.headers['server-timing']).toBeUndefined();
    expect((await off.http().get('/health')).headers['server-timing']).toBeUndefined();
    await off.close();

    const on = await createTestApp({ BENCH_ROUTES: 'on' });
    const w2 = await seedWorld(on);
    const auth2 = await confirmedPassenger(on, 'nb');
    const c2 = await createCarrier(on, w2.tokens.operator);
    const nodb = await on
      .http()
      .post('/v1/bench/nodb')
      .set('authorization', auth2)
      .send({ code: c2.code.url, clientRideId: randomUUID() });
    expect(nodb.status).toBe(201);
    // Only for requests that ask for it: measuring costs CPU the throughput figures should not carry.
    expect(nodb.headers['server-timing']).toBeUndefined();
    const timed = await on
      .http()
      .post('/v1/bench/nodb')
      .set('authorization', auth2)
      .set(BENCH_TIMING_HEADER, '1')
      .send({ code: c2.code.url, clientRideId: randomUUID() });
    expect(timed.headers['server-timing']).toMatch(
      /^app;dur=\d+\.\d{2}, busy;dur=\d+\.\d{2}, cpu;dur=\d+\.\d{2}, gc;dur=\d+\.\d{2}, conn;desc="\d+ opened"$/,
    );
    expect(
      await on.db.selectFrom('rides').select('id').where('id', '=', nodb.body.ride.id).executeTakeFirst(),
    ).toBeUndefined();
    const one = await on
      .http()
      .post('/v1/bench/insert1')
      .set('authorization', auth2)
      .send({ code: c2.code.url, clientRideId: randomUUID() });
    expect(one.status).toBe(201);
    expect(
      await on.db.selectFrom('rides').select('id').where('id', '=', one.body.ride.id).executeTakeFirst(),
    ).toBeDefined();
    await on.close();
  });
});
