/**
 * The server keeps its database connections: a new backend's first trace pays for its catalog caches and the
 * trace statements' plans, and officials trace now and then, so connections closed when idle would make most
 * traces cold.
 */
import { createDb, loadConfig, poolOf } from '@ridetrace/server';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { useTestDatabase } from '../support/fixtures.js';

const database = useTestDatabase();

it('the server keeps as many connections as its pool holds, unless DB_POOL_MIN says fewer', () => {
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  expect(loadConfig(env)).toMatchObject({ dbPoolSize: 10, dbPoolMin: 10 });
  expect(loadConfig({ ...env, DB_POOL_SIZE: '4' })).toMatchObject({ dbPoolSize: 4, dbPoolMin: 4 });
  expect(loadConfig({ ...env, DB_POOL_MIN: '2' })).toMatchObject({ dbPoolSize: 10, dbPoolMin: 2 });
  // Never more than the pool holds.
  expect(loadConfig({ ...env, DB_POOL_SIZE: '4', DB_POOL_MIN: '50' })).toMatchObject({ dbPoolMin: 4 });
});

it('connections above the floor close after idling; those within it stay, on the same backends', async () => {
  const db = createDb({ connectionString: database.url, max: 3, min: 2, idleTimeoutMillis: 100 });
  try {
    const pool = poolOf(db)!;
    /** The backends of `n` queries run at once (each holds its connection 50 ms, so each takes its own). */
    const backendsOf = (n: number) =>
      Promise.all(
        Array.from({ length: n }, async () => {
          const r = await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(db);
          return r.rows[0]!.pid;
        }),
      );
    const backends = await backendsOf(3);
    expect(new Set(backends).size).toBe(3);
    expect(pool.totalCount).toBe(3);

    await new Promise((r) => setTimeout(r, 600));
    expect(pool.totalCount).toBe(2);
    expect(pool.idleCount).toBe(2);
    const after = await backendsOf(2);
    // The kept connections are two of the first three backends: nothing was reopened.
    expect(after.every((pid) => backends.includes(pid))).toBe(true);
    expect(pool.totalCount).toBe(2);
  } finally {
    await db.destroy();
  }
});
