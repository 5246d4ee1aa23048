import { createDb, isDatabaseUnavailable, isQueryTimeout, poolOf } from '@ridetrace/server';
import { sql } from 'kysely';
import net from 'node:net';
import pg from 'pg';
import { expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';

const { t, w } = useWorld();

it('a query cancelled by the statement timeout answers 503 service_unavailable, not 500', async () => {
  const locker = new pg.Client({ connectionString: t.url });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('lock table carriers in access exclusive mode');
    const res = await t.http().get('/v1/carriers').set('authorization', w.tokens.operator);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
  } finally {
    await locker.query('rollback');
    await locker.end();
  }
  await t.http().get('/v1/carriers').set('authorization', w.tokens.operator).expect(200);
});

/**
 * A TCP proxy to the test database that can go silent (forwards nothing more in either direction, like a
 * network partition or a frozen server) and come back.
 */
async function silentableProxy(target: string) {
  const url = new URL(target);
  let silent = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(url.port), url.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => void (silent || upstream.write(d)));
    upstream.on('data', (d) => void (silent || client.write(d)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(target);
  proxied.port = String((server.address() as net.AddressInfo).port);
  proxied.hostname = '127.0.0.1';
  return {
    url: proxied.toString(),
    setSilent: (v: boolean) => void (silent = v),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

it('a query on a connection that goes silent fails with the read timeout; the pool drops that connection', async () => {
  const proxy = await silentableProxy(t.url);
  const db = createDb({ connectionString: proxy.url, max: 2, queryTimeoutMillis: 300 });
  const pool = poolOf(db)!;
  try {
    // Two connections, for a raw pool query (the hot paths) and a Kysely one (everything else) at once.
    await Promise.all([pool.query('select pg_sleep(0.05)'), sql`select pg_sleep(0.05)`.execute(db)]);
    expect(pool.totalCount).toBe(2);
    proxy.setSilent(true);
    const started = performance.now();
    const failures = await Promise.allSettled([pool.query('select 2'), sql`select 3`.execute(db)]);
    for (const f of failures) {
      expect(f.status).toBe('rejected');
      const err = (f as PromiseRejectedResult).reason as Error;
      expect(isQueryTimeout(err) && isDatabaseUnavailable(err), err.message).toBe(true);
    }
    // Failed by the read timeout (not at once); a hang would run into the test's own timeout.
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    proxy.setSilent(false);
    // The silent connections are gone: a new one answers.
    expect((await pool.query('select 4 as x')).rows).toEqual([{ x: 4 }]);
    expect(pool.totalCount).toBe(1);
  } finally {
    await db.destroy();
    await proxy.close();
  }
});

it('an idle connection is not dropped by the read timeout, and a slow answer within it is fine', async () => {
  const db = createDb({ connectionString: t.url, max: 1, queryTimeoutMillis: 300 });
  const pool = poolOf(db)!;
  try {
    const backend = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await new Promise((resolve) => setTimeout(resolve, 700));
    await pool.query('select pg_sleep(0.2)');
    expect((await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid).toBe(backend);
  } finally {
    await db.destroy();
  }
});
