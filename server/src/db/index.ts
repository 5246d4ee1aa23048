import {
  sql,
  Kysely,
  PostgresDialect,
  type PostgresCursor,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';
import { watchedClient } from './watched-client.js';

export type Db = Kysely<Database>;
export type { Database } from './tables.js';

// Dates come back as Date, bigint counts as JS numbers (our counts stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// `date` columns stay 'YYYY-MM-DD' strings: no time-zone shift.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface DbOptions {
  connectionString: string;
  max?: number;
  /**
   * Connections kept however long they idle (default 0: every idle one closes after 30 s). A Postgres backend's
   * first trace pays for its catalog caches and the trace statements' plans, several times a warm trace; officials
   * trace now and then, so a server keeps its connections.
   */
  min?: number;
  /** How long a connection above `min` may idle before it is closed (default 30 s). */
  idleTimeoutMillis?: number;
  /** Fail fast when the database is unreachable instead of hanging a request. */
  connectionTimeoutMillis?: number;
  statementTimeoutMillis?: number;
  /**
   * Client-side bound: a query fails when its connection has received nothing for this long (a hung or
   * partitioned database cannot hold a request longer than this). 0: unbounded.
   */
  queryTimeoutMillis?: number;
}

const pools = new WeakMap<Db, pg.Pool>();

/** The pg pool behind a Db created here (for load shedding on its wait queue). */
export function poolOf(db: Db): pg.Pool | undefined {
  return pools.get(db);
}

/**
 * The pool as Kysely sees it, with every checkout and query through pg's callback API. Through pg's promise API
 * (what Kysely calls), V8's young-generation collections keep query results alive and promote them, which makes
 * scavenges several times longer; the callback API does not.
 */
function callbackPool(pool: pg.Pool): PostgresPool {
  const checkout = () =>
    new Promise<pg.PoolClient>((resolve, reject) =>
      pool.connect((err, client) => (err || !client ? reject(err) : resolve(client))),
    );
  return {
    connect: async (): Promise<PostgresPoolClient> => {
      const client = await checkout();
      function query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query<R>(
        sqlOrCursor: string | PostgresCursor<R>,
        parameters?: readonly unknown[],
      ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
        if (typeof sqlOrCursor !== 'string') {
          return client.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
        }
        return new Promise((resolve, reject) =>
          client.query(sqlOrCursor, parameters as unknown[], (err, res) =>
            err ? reject(err) : resolve(res as unknown as PostgresQueryResult<R>),
          ),
        );
      }
      return { query, release: () => client.release() };
    },
    end: () => pool.end(),
  };
}

export function createDb(opts: DbOptions): Db {
  const readTimeout = opts.queryTimeoutMillis ?? (opts.statementTimeoutMillis === 0 ? 0 : 3_500);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    min: opts.min ?? 0,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 3000,
    idleTimeoutMillis: opts.idleTimeoutMillis ?? 30_000,
    statement_timeout: opts.statementTimeoutMillis ?? 3_000,
    // statement_timeout 0 disables the read timeout too (migrations, bulk loads). Not pg's query_timeout: see
    // watched-client.ts.
    ...(readTimeout > 0 ? { Client: watchedClient(readTimeout) } : {}),
    keepAlive: true,
    application_name: 'ridetrace',
    // Every query here is a short, index-driven OLTP query: parallel workers only add their start-up time.
    options: '-c max_parallel_workers_per_gather=0',
  });
  // A client losing its connection (database restart) must not crash the process: idle clients report on the
  // pool, checked-out ones on themselves; the failing query already rejects with the error.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: callbackPool(pool) }),
  });
  pools.set(db, pool);
  return db;
}

/** Whether the database answers a trivial query within `timeoutMs` (readiness probes). */
export async function databaseAnswers(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
