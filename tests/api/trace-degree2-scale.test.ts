/**
 * Degree 2 at scale: a case with hundreds of close degree-1 contacts on crowded buses (below the documented limit of
 * TRACE_MAX_DEGREE1_FOR_DEGREE2) is a valid trace, so it answers 200, JSON and CSV, never 5xx, also while another
 * one runs and passengers scan. The contacts and their fellow riders are written with bulk SQL (the ride rows as
 * the server writes them: the day's blind index of the passenger, the id sealed with the day key).
 */
import { bulk, hmac, seal } from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionStatement, genericPlan } from '../support/plans.js';
import { BASE, HOUR, MIN, useTraceKit, type Person, type Vehicle } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

/** Close degree-1 contacts of the subject (all on its bus within 9 minutes). */
const CONTACTS = 620;
/** Riders of the contacts' later buses who are not contacts themselves: the degree-2 people. */
const CROWD = 1500;
const LATER_BUSES = 10;

interface Ride {
  passengerId: string;
  carrierId: number;
  atMs: number;
}

/** Passengers without identity or link secret (their id is what their rides are indexed by). */
async function insertPassengers(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await sql`insert into passengers (id, kind) select unnest(${ids}::uuid[]), 'app'`.execute(t.db);
  return ids;
}

async function insertRides(rides: Ride[]): Promise<void> {
  const ctx = t.app.ctx;
  const rows = { id: [] as string[], carrier: [] as number[], at: [] as string[], key: [] as string[] };
  const sealed: string[] = [];
  for (const r of rides) {
    const at = new Date(r.atMs);
    const day = ctx.rideDays.of(at);
    await bulk.ensureRidePartition(t.db, day, ctx.rideDays.bounds(day));
    const key = await ctx.keyring.dayKey(t.db, day);
    const id = randomUUID();
    rows.id.push(id);
    rows.carrier.push(r.carrierId);
    rows.at.push(at.toISOString());
    rows.key.push(`\\x${hmac(key.index, r.passengerId).toString('hex')}`);
    sealed.push(`\\x${seal(key.seal, r.passengerId, `rides/passenger/${id}`).toString('hex')}`);
  }
  await sql`
    insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, received_at)
    select id, carrier_id, boarded_at, passenger_key, passenger_sealed, 'offline', boarded_at
    from unnest(${rows.id}::uuid[], ${rows.carrier}::int[], ${rows.at}::timestamptz[], ${rows.key}::bytea[],
      ${sealed}::bytea[]) as r(id, carrier_id, boarded_at, passenger_key, passenger_sealed)`.execute(t.db);
}

let caseId = '';
let scanner: Person;
let bus: Vehicle;

beforeAll(async () => {
  const first = await k.vehicle('bus');
  const later = await Promise.all(Array.from({ length: LATER_BUSES }, () => k.vehicle('bus')));
  const s = await k.person();
  scanner = await k.person();
  bus = first;
  await k.ride(s, first, 0);
  const contacts = await insertPassengers(CONTACTS);
  const crowd = await insertPassengers(CROWD);
  const rides: Ride[] = [];
  // Every contact rode the subject's bus within 9 minutes of it, then one of the later buses, with the crowd.
  contacts.forEach((p, i) => {
    rides.push({ passengerId: p, carrierId: first.id, atMs: BASE + ((i % 19) - 9) * MIN });
    rides.push({ passengerId: p, carrierId: later[i % LATER_BUSES]!.id, atMs: BASE + HOUR + (i % 60) * MIN });
  });
  crowd.forEach((p, j) => {
    rides.push({
      passengerId: p,
      carrierId: later[j % LATER_BUSES]!.id,
      atMs: BASE + HOUR + ((j % 90) - 15) * MIN,
    });
  });
  await insertRides(rides);
  caseId = (await k.openCase({ phone: s.phone }, -HOUR, 30 * MIN)).id;
}, 60_000);

const read = (path: string) =>
  t.http().get(`/v1/cases/${caseId}/${path}`).set('authorization', w.tokens.official).buffer(true);

describe('degree 2 with hundreds of close degree-1 contacts on crowded buses', () => {
  it('answers 200 with every degree-2 person, as JSON and as CSV', async () => {
    const json = await read('exposures?degree=2&limit=200');
    expect(json.status, JSON.stringify(json.body).slice(0, 300)).toBe(200);
    expect(json.body).toMatchObject({ degree: 2, caseRides: 1, total: CONTACTS + CROWD });
    const items = json.body.items as { degree: number; level: string }[];
    expect(items.slice(0, 10).every((i) => i.degree === 1 && i.level === 'close')).toBe(true);
    const tail = await read(`exposures?degree=2&limit=200&cursor=${CONTACTS + CROWD - 5}`);
    expect(tail.status).toBe(200);
    expect((tail.body.items as { degree: number }[]).every((i) => i.degree === 2)).toBe(true);

    const csv = await read('exposures.csv?degree=2');
    expect(csv.status, csv.text.slice(0, 300)).toBe(200);
    // A header, then at least one line per person.
    expect(csv.text.trim().split('\n').length).toBeGreaterThan(CONTACTS + CROWD);
  }, 30_000);

  it('two at once, while passengers scan: nothing answers 5xx', async () => {
    const scans = Array.from({ length: 10 }, (_, i) =>
      t
        .http()
        .post('/v1/rides')
        .set('authorization', scanner.auth)
        .send({
          code: bus.code,
          clientRideId: randomUUID(),
          scannedAt: new Date(BASE + 2 * HOUR + i * MIN).toISOString(),
        }),
    );
    const replies = await Promise.all([read('exposures?degree=2'), read('exposures.csv?degree=2'), ...scans]);
    const statuses = replies.map((r) => r.status);
    expect(statuses.slice(0, 2), replies[0]!.text.slice(0, 200)).toEqual([200, 200]);
    // 201 for a new ride, 200 for a repeat of one just registered: never 5xx (nor 503 overloaded).
    for (const r of replies.slice(2)) expect([200, 201], r.text).toContain(r.status);
  }, 30_000);
});

it("degree 2's query (trace_day_rides) has a fixed generic plan of index probes and a hashed anti-join", async () => {
  const { statement, config } = await functionStatement(t.db, 'trace_day_rides');
  expect(config).toEqual(['plan_cache_mode=force_generic_plan']);
  const lines = await genericPlan(t.db, statement);
  const rideScans = lines.filter((l) => / on rides_\d{8} /.test(l));
  expect(rideScans.length).toBeGreaterThan(0);
  for (const l of rideScans)
    expect(l).toMatch(/Index (Only )?Scan using rides_\d{8}_(passenger_key_boarded_at_idx|pkey) /);
  expect(lines.some((l) => l.includes('hashed SubPlan'))).toBe(true);
});
