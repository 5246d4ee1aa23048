import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../support/fixtures.js';
import { countRides, ridesPresent, scan, sleep, startStack } from './support/harness.js';

/**
 * kill -9 under load: 20 passengers scan at full speed with fresh clientRideIds, remembering every ride
 * acknowledged with 201; the server is SIGKILLed with requests in flight and started again on the same database.
 * Expected: every acknowledged ride is in the table, and each unacknowledged request, retried with the same
 * clientRideId, ends in exactly one ride (201: it never committed; 200: it committed but the answer was lost).
 */

const CLIENTS = 20;
const ROUNDS = 3;
/** Acknowledged rides per round before the kill. */
const ACKED_BEFORE_KILL = 400;

interface Client {
  token: string;
  /** clientRideId → ride id, for every 201/200. */
  acked: Map<string, string>;
  /** clientRideIds whose request failed or was cut off. */
  unacked: string[];
  /** Statuses other than 200/201 (none expected: load shedding is off). */
  unexpected: string[];
}

const cleanup = useCleanup();

describe('kill -9 of the server under scan load', () => {
  it(`loses no acknowledged ride, and retries create each ride exactly once (${ROUNDS} kills)`, async () => {
    const stack = await startStack(cleanup, { database: 'rt_kill9', passengers: CLIENTS });
    const { db, world } = stack;
    let server = stack.server;
    const clients: Client[] = world.passengers.map((token) => ({
      token,
      acked: new Map(),
      unacked: [],
      unexpected: [],
    }));
    const ackedCount = () => clients.reduce((n, c) => n + c.acked.size, 0);

    for (let round = 1; round <= ROUNDS; round++) {
      let stop = false;
      let inFlight = 0;
      const before = ackedCount();
      const target = before + ACKED_BEFORE_KILL;
      const started = performance.now();
      const url = server.url;
      const load = clients.map(async (c) => {
        while (!stop) {
          const id = randomUUID();
          inFlight++;
          try {
            const r = await scan(url, c.token, world.code, id);
            if ((r.status === 201 || r.status === 200) && r.rideId) c.acked.set(id, r.rideId);
            else {
              c.unacked.push(id);
              c.unexpected.push(`${r.status} ${r.code ?? ''}`);
            }
          } catch {
            c.unacked.push(id);
          } finally {
            inFlight--;
          }
        }
      });
      const deadline = Date.now() + 60_000;
      while (ackedCount() < target && Date.now() < deadline) await sleep(5);
      // A random moment within the next 100 ms, so the kill lands anywhere in a request's life.
      await sleep(Math.random() * 100);
      stop = true;
      const rate = ((ackedCount() - before) / (performance.now() - started)) * 1000;
      const killed = server.kill('SIGKILL'); // the signal is sent at once
      const cutOff = inFlight;
      const exit = await killed;
      await Promise.all(load);
      expect(exit.signal).toBe('SIGKILL');

      server = await stack.restartServer();
      console.log(
        `round ${round}: ${rate.toFixed(0)} rides/s acknowledged, killed with ${cutOff} requests in flight; ` +
          `acknowledged so far ${ackedCount()}, ` +
          `unacknowledged ${clients.reduce((n, c) => n + c.unacked.length, 0)}`,
      );
    }

    // 1. Every ride acknowledged with 201 (or 200) is in the table.
    const acked = clients.flatMap((c) => [...c.acked.values()]);
    const present = await ridesPresent(db, acked);
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    expect(clients.flatMap((c) => c.unexpected)).toEqual([]);

    // 2. As a real client would, each retries its unacknowledged requests with the same clientRideId.
    const outcomes = new Map<number, number>();
    const retried = new Map<string, string>();
    const failures: string[] = [];
    await Promise.all(
      clients.map(async (c) => {
        for (const id of c.unacked) {
          let reply;
          for (let attempt = 0; attempt < 5 && !reply; attempt++) {
            reply = await scan(server.url, c.token, world.code, id).catch(() => undefined);
            if (!reply) await sleep(200);
          }
          if (!reply || !(reply.status === 201 || reply.status === 200) || !reply.rideId) {
            failures.push(`${id}: ${reply ? `${reply.status} ${reply.code ?? ''}` : 'network error'}`);
            continue;
          }
          outcomes.set(reply.status, (outcomes.get(reply.status) ?? 0) + 1);
          retried.set(id, reply.rideId);
        }
      }),
    );
    expect(failures).toEqual([]);

    // 3. One ride per distinct clientRideId: no duplicate, none lost.
    const distinct = new Set(clients.flatMap((c) => [...c.acked.keys(), ...c.unacked]));
    const rides = await countRides(db);
    const requests = await db
      .selectFrom('ride_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect({ rides, requests: Number(requests.n) }).toEqual({
      rides: distinct.size,
      requests: distinct.size,
    });
    expect(new Set([...acked, ...retried.values()]).size).toBe(distinct.size);

    // 4. An acknowledged ride, sent again after the restarts, is the same ride (200).
    const sample = clients.flatMap((c) =>
      [...c.acked.entries()].slice(0, 3).map(([id, ride]) => ({ c, id, ride })),
    );
    for (const { c, id, ride } of sample) {
      const again = await scan(server.url, c.token, world.code, id);
      expect({ status: again.status, ride: again.rideId }).toEqual({ status: 200, ride });
    }

    console.log(
      `kill -9: ${ROUNDS} kills; ${acked.length} rides acknowledged, all present; ` +
        `${retried.size} unacknowledged requests retried: ${outcomes.get(201) ?? 0} × 201 (never committed), ` +
        `${outcomes.get(200) ?? 0} × 200 (committed, answer lost); rides in the table ${rides} = ` +
        `distinct clientRideIds ${distinct.size}`,
    );
  });
});
