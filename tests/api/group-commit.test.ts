import { rideBatcherOf } from '@ridetrace/server';
import { type NewRide, RideBatcher } from '@ridetrace/server/testing';
import { sql } from 'kysely';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { confirmedPassenger, createCarrier } from '../support/test-app.js';
import { passengerIdOf } from '../support/flows.js';
import { functionStatement, genericPlan, parentOf } from '../support/plans.js';

// One batch in flight at a time, so concurrent scans must share INSERTs.
const { t, w } = useWorld({ RIDES_BATCH_IN_FLIGHT: '1', RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '1000' });
/** A live passenger for the rides written through the batcher directly. */
let riderId: string;
beforeAll(async () => {
  riderId = await passengerIdOf(t, await confirmedPassenger(t, 'gc-rider'));
});

/** A ride row as the scan route builds it, for the batcher directly (random keys, the live test passenger). */
function newRide(carrierId: number, over: Partial<NewRide> = {}): NewRide {
  return {
    id: randomUUID(),
    passengerId: riderId,
    carrierId,
    generation: null,
    boardedAt: new Date(),
    passengerKey: randomBytes(32),
    passengerSealed: randomBytes(40),
    source: 'scan',
    late: false,
    receivedAt: new Date(),
    registeredBy: null,
    requestKey: randomBytes(32),
    neighbourKeys: [],
    switchWindowSeconds: 120,
    repeatWindowSeconds: 300,
    ...over,
  };
}

/** A carrier of its own and a batcher with one batch in flight (the test's rides queue behind it). */
async function carrierAndBatcher(kind: 'bus' | 'taxi', plate: string, maxQueueMs = 10_000) {
  const { carrier } = await createCarrier(t, w.tokens.operator, { kind, plate, city: '深圳' });
  return { carrier, batcher: new RideBatcher(t.db, { maxBatch: 10, maxInFlight: 1, maxQueueMs }) };
}

it('concurrent scans share INSERT statements, and every 201 ride is committed', async () => {
  // Each passenger scans six different carriers (the same carrier again would be a repeat scan).
  const codes = await Promise.all(
    Array.from(
      { length: 6 },
      async (_, i) =>
        (await createCarrier(t, w.tokens.operator, { kind: 'bus', plate: `粤B-GCS${i}`, city: '深圳' })).code,
    ),
  );
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => confirmedPassenger(t, `gc${i}`)));
  const before = { ...rideBatcherOf(t.app.ctx).stats };
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      t
        .http()
        .post('/v1/rides')
        .set('authorization', tokens[i % 10]!)
        .send({ code: codes[Math.floor(i / 10)]!.url, clientRideId: randomUUID() }),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(Array(60).fill(201));
  const batches = rideBatcherOf(t.app.ctx).stats.batches - before.batches;
  const rides = rideBatcherOf(t.app.ctx).stats.rides - before.rides;
  expect(rides).toBe(60);
  expect(batches).toBeLessThan(60);
  const ids = results.map((r) => r.body.ride.id as string);
  const stored = await t.db.selectFrom('rides').select('id').where('id', 'in', ids).execute();
  expect(stored).toHaveLength(60);
});

it('a failing ride in a batch fails alone; the others of its batch are written', async () => {
  const { carrier, batcher } = await carrierAndBatcher('taxi', '粤B-GC001');
  const ride = (over: Partial<NewRide> = {}) => newRide(carrier.id, over);
  // Hold the only slot so the next three are queued into one batch.
  const first = batcher.insert(ride());
  const good1 = batcher.insert(ride());
  const bad = batcher.insert(ride({ source: 'bogus' as NewRide['source'] })); // violates the check constraint
  const good2 = batcher.insert(ride());
  const [r0, r1, r2, r3] = await Promise.allSettled([first, good1, bad, good2]);
  expect(r0.status).toBe('fulfilled');
  expect(r1).toMatchObject({ status: 'fulfilled', value: { carrier_id: carrier.id } });
  expect(r2.status).toBe('rejected');
  expect(String((r2 as PromiseRejectedResult).reason)).toMatch(/check constraint/);
  expect(r3).toMatchObject({ status: 'fulfilled', value: { carrier_id: carrier.id } });
  expect(batcher.stats.batches).toBe(2);
});

it('a batch stores every field exactly as given: quoted text, milliseconds, sealed values of any length', async () => {
  const { carrier, batcher } = await carrierAndBatcher('bus', '粤B-GC005');
  const hostile = ['a"b\\c', '{x,y}', 'NULL', '', '张三 "\\\\" ,}', null];
  const second = Math.floor(Date.now() / 1000) * 1000;
  const rides = hostile.map((registeredBy, i) =>
    newRide(carrier.id, {
      registeredBy,
      boardedAt: new Date(second - 60_000 + i * 111 + 1),
      receivedAt: new Date(second + 999 - i),
      passengerSealed: randomBytes(20 + i * 7),
      neighbourKeys: i % 2 ? [randomBytes(32), randomBytes(32)] : [],
    }),
  );
  const inserted = await Promise.all(rides.map((r) => batcher.insert(r)));
  expect(inserted.every((r) => r !== undefined)).toBe(true);
  const stored = await t.db
    .selectFrom('rides')
    .select(['id', 'registered_by', 'boarded_at', 'received_at', 'passenger_sealed', 'passenger_key'])
    .where(
      'id',
      'in',
      rides.map((r) => r.id),
    )
    .execute();
  const byId = new Map(stored.map((r) => [r.id, r]));
  for (const r of rides) {
    const row = byId.get(r.id)!;
    expect(row.registered_by).toBe(r.registeredBy);
    expect(row.boarded_at.getTime()).toBe(r.boardedAt.getTime());
    expect(row.received_at.getTime()).toBe(r.receivedAt.getTime());
    expect(Buffer.compare(row.passenger_sealed, r.passengerSealed)).toBe(0);
    expect(Buffer.compare(row.passenger_key, r.passengerKey)).toBe(0);
  }
  const requests = await t.db
    .selectFrom('ride_requests')
    .select(['ride_id', 'request_key'])
    .where(
      'ride_id',
      'in',
      rides.map((r) => r.id),
    )
    .execute();
  for (const q of requests) {
    expect(Buffer.compare(q.request_key, rides.find((r) => r.id === q.ride_id)!.requestKey)).toBe(0);
  }
  expect(requests).toHaveLength(rides.length);
});

it('two rides with one request key in the same moment give one ride', async () => {
  const { carrier, batcher } = await carrierAndBatcher('taxi', '粤B-GC002');
  const requestKey = randomBytes(32);
  const base = newRide(carrier.id, { requestKey });
  const [a, b] = await Promise.all([
    batcher.insert({ ...base, id: randomUUID() }),
    batcher.insert({ ...base, id: randomUUID() }),
  ]);
  expect([a, b].filter((x) => x !== undefined)).toHaveLength(1);
});

it('two scans of one carrier by one passenger in the same moment give one ride and one repeat', async () => {
  const { carrier, batcher } = await carrierAndBatcher('taxi', '粤B-GC006');
  const passengerKey = randomBytes(32);
  const at = new Date();
  const rides = [0, 1, 2].map((i) =>
    newRide(carrier.id, {
      passengerKey,
      neighbourKeys: [passengerKey],
      boardedAt: new Date(at.getTime() + i),
    }),
  );
  const results = await Promise.all(rides.map((r) => batcher.insert(r)));
  // The second and third wait for a later batch, where the first one is committed.
  expect(batcher.stats.batches).toBe(3);
  expect(results[0]).toMatchObject({ id: rides[0]!.id, carrier_id: carrier.id });
  for (const r of results.slice(1))
    expect(r).toMatchObject({ repeatOf: { id: rides[0]!.id, carrierId: carrier.id, boardedAt: at } });
  const stored = await t.db
    .selectFrom('rides')
    .select('id')
    .where('passenger_key', '=', passengerKey)
    .execute();
  expect(stored.map((r) => r.id)).toEqual([rides[0]!.id]);
});

it('rides queued behind a stuck batch are refused with 503 after the queue bound, and never written', async () => {
  const { carrier, batcher } = await carrierAndBatcher('taxi', '粤B-GC003', 200);
  const ride = () => newRide(carrier.id);
  let release!: () => void;
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  // Another transaction holds ride_requests, so the first batch hangs like on a stuck database.
  const holder = t.db.transaction().execute(async (trx) => {
    await sql`lock table ride_requests in access exclusive mode`.execute(trx);
    locked();
    await new Promise<void>((r) => (release = r));
  });
  await isLocked;
  const stuck = ride();
  const queued = [ride(), ride(), ride()];
  const first = batcher.insert(stuck);
  const waiting = queued.map((r) => batcher.insert(r));
  const refused = await Promise.allSettled(waiting);
  for (const r of refused) {
    expect(r.status).toBe('rejected');
    expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'service_unavailable', status: 503 });
  }
  expect(batcher.stats.expired).toBe(3);
  release();
  await holder;
  await expect(first).resolves.toMatchObject({ id: stuck.id });
  const written = await t.db
    .selectFrom('rides')
    .select('id')
    .where(
      'id',
      'in',
      [stuck, ...queued].map((r) => r.id),
    )
    .execute();
  expect(written.map((r) => r.id)).toEqual([stuck.id]);
  expect(batcher.stats.batches).toBe(1);
});

it('the ride insert has a fixed generic plan that probes each ride’s passenger, with or without statistics', async () => {
  // The function's one statement, planned as the function plans it: generic.
  const { statement, config } = await functionStatement(t.db, 'insert_rides');
  expect(config).toEqual(['plan_cache_mode=force_generic_plan']);
  for (const analyse of [false, true]) {
    if (analyse) await sql`analyze passengers`.execute(t.db);
    const lines = await genericPlan(t.db, statement);
    const scans = lines.flatMap((l, i) => (/ on passengers /.test(l) ? [i] : []));
    expect(scans).toHaveLength(1);
    // A per-ride subplan, never a join of the passengers table against the batch.
    expect(parentOf(lines, scans[0]!)).toMatch(/^SubPlan/);
    // The carrier-switch and repeat lookups probe the (passenger_key, boarded_at) index; never the whole window.
    const rideScans = lines.filter((l) => / on rides_\d{8} /.test(l));
    expect(rideScans.length).toBeGreaterThan(0);
    for (const l of rideScans)
      expect(l).toMatch(/Index Scan using rides_\d{8}_passenger_key_boarded_at_idx /);
  }
  // And it writes: one ride through the function.
  const { carrier, batcher } = await carrierAndBatcher('bus', '粤B-GC004');
  const ride = newRide(carrier.id);
  await expect(batcher.insert(ride)).resolves.toMatchObject({ id: ride.id, carrier_id: carrier.id });
});
