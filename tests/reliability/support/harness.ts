import {
  createClient,
  createDb,
  createOperator,
  type Db,
  freePort,
  type RunningPostgres,
} from '@ridetrace/server';
import { RideTraceClient } from '@ridetrace/sdk';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFakeSuperApp, type FakeSuperApp } from '../../support/fake-super-app.js';
import type { Cleanup } from '../../support/fixtures.js';
import { createDatabase, startTestPostgres } from '../../support/postgres.js';
import { REPO_ROOT } from '../../support/run-cli.js';
import { testServerEnv } from '../../support/test-env.js';

/**
 * Reliability harness: a real embedded Postgres started by the test, and the real server as a child process
 * (`node --import tsx server/src/main.ts`, cwd the workspace root) that the test can SIGKILL and restart. The
 * clusters, databases, login provider and server settings are those of the API tests (tests/support).
 */

// tsx belongs to the server package, not the root, and `--import` resolves from the cwd: pass its file URL.
const TSX_LOADER = pathToFileURL(
  createRequire(path.join(REPO_ROOT, 'server/package.json')).resolve('tsx'),
).href;

const UNLIMITED = '1000000000';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Postgres {
  pg: RunningPostgres;
  /** Parent directory of the cluster (`<dir>/pg`). */
  dir: string;
  port: number;
  /** Stops the cluster and deletes its directory. */
  destroy(): Promise<void>;
}

/**
 * An embedded Postgres in a fresh temp directory. `persistent: true` keeps the data directory on stop (so the
 * cluster can be started again on it); destroy() removes it either way.
 */
export async function startPostgres(opts: { persistent?: boolean } = {}): Promise<Postgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ridetrace-rel-'));
  // mkdtemp makes it 0700: as root, user postgres could not enter it (and the launcher would move elsewhere).
  await chmod(dir, 0o755);
  const port = await freePort();
  const postgres: Postgres = {
    // The tests crash the server, never Postgres (stop() is a clean fast shutdown, SIGSTOP loses nothing).
    pg: await startTestPostgres({ dir, port, persistent: opts.persistent ?? false }),
    dir,
    port,
    // Stops the cluster running now (restartPostgres may have replaced the first one).
    destroy: async () => {
      await postgres.pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return postgres;
}

/** Starts Postgres again on a kept data directory and the same port. */
export async function restartPostgres(p: Postgres): Promise<RunningPostgres> {
  p.pg = await startTestPostgres({ dir: p.dir, port: p.port, persistent: true });
  return p.pg;
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** stdout and stderr of the process (the last 200 kB). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends the signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Environment of a server process: development mode, the test servers' settings (master key, `superApp` as the
 * login provider, no shedding) and no rate limits.
 */
function serverEnv(superApp: FakeSuperApp, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: os.tmpdir(),
    LANG: 'C.UTF-8',
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...testServerEnv(superApp),
    RATE_LIMIT_PER_IP_PER_MINUTE: UNLIMITED,
    RATE_LIMIT_PER_PASSENGER_PER_MINUTE: UNLIMITED,
    RATE_LIMIT_LOGIN_PER_MINUTE: UNLIMITED,
    // The load rescans the same few carriers within seconds and counts one ride per acknowledged scan.
    RIDES_REPEAT_MINUTES: '0',
    ...env,
  };
}

/**
 * Starts `node --import tsx server/src/main.ts` and waits until GET /ready answers 200. `env` must hold
 * DATABASE_URL; PORT is chosen here unless given (a restart passes the same port).
 */
async function startServer(superApp: FakeSuperApp, env: Record<string, string>): Promise<ServerProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', TSX_LOADER, 'server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: serverEnv(superApp, { ...env, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const server: ServerProcess = {
    url,
    port,
    pid: child.pid!,
    output: () => out,
    exited,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (gone) throw new Error(`the server exited during start:\n${out}`);
    if (Date.now() > deadline) {
      await server.kill('SIGKILL');
      throw new Error(`the server did not get ready in 90 s:\n${out}`);
    }
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    if (res?.status === 200) return server;
    await sleep(100);
  }
}

export interface World {
  carrierId: number;
  /** The carrier's code as scanned (URL). */
  code: string;
  /** Bearer tokens (without "Bearer ") of confirmed passengers. */
  passengers: string[];
}

/**
 * An operator and its client (directly in the database), a carrier and its code (over HTTP), and `n` confirmed
 * passengers (login through the fake super-app and confirmation over HTTP, with the SDK).
 */
async function prepareWorld(db: Db, url: string, n: number): Promise<World> {
  await createOperator(db, 'rel-bus', 'Reliability Bus Co.');
  const client = await createClient(db, { name: 'rel ops', role: 'operator', operatorId: 'rel-bus' });
  const operator = new RideTraceClient({ baseUrl: url });
  await operator.loginClient(client.clientId, client.clientSecret);
  const carrier = await operator.createCarrier({
    kind: 'bus',
    plate: '粤B90001',
    route: '1路',
    city: '深圳',
  });
  const code = await operator.currentCode(carrier.id);
  // Through the SDK: it retries a request shed while the fresh server's event loop still lags (JIT, first GCs).
  const consent = await new RideTraceClient({ baseUrl: url }).consent();
  const passengers: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = new RideTraceClient({ baseUrl: url });
    await p.loginPassenger(`ok:rel-passenger-${i}`);
    await p.confirm({
      name: '张三',
      phone: `139${String(i).padStart(8, '0')}`,
      consentVersion: consent.version,
    });
    passengers.push(p.accessToken!);
  }
  return { carrierId: carrier.id, code: code.url, passengers };
}

export interface ScanReply {
  status: number;
  /** The error code, for error replies. */
  code?: string;
  rideId?: string;
  retryAfter?: string | null;
  ms: number;
}

/** One scan over HTTP; a network failure (connection refused or reset) rejects. */
export async function scan(
  url: string,
  token: string,
  code: string,
  clientRideId: string,
  timeoutMs = 30_000,
): Promise<ScanReply> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/rides`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ code, clientRideId }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json().catch(() => null)) as {
    ride?: { id: string };
    error?: { code: string };
  } | null;
  return {
    status: res.status,
    ...(body?.error ? { code: body.error.code } : {}),
    ...(body?.ride ? { rideId: body.ride.id } : {}),
    retryAfter: res.headers.get('retry-after'),
    ms: performance.now() - started,
  };
}

/** The rides among `ids` that are in the `rides` table. */
export async function ridesPresent(db: Db, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db
      .selectFrom('rides')
      .select('id')
      .where('id', 'in', ids.slice(i, i + 5000))
      .execute();
    for (const r of rows) found.add(r.id);
  }
  return found;
}

export async function countRides(db: Db): Promise<number> {
  const r = await db
    .selectFrom('rides')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

export interface Stack {
  pg: Postgres;
  /** Connection string of the server's database. */
  dbUrl: string;
  /** The server process running now: restartServer() replaces it. */
  readonly server: ServerProcess;
  /** A small pool on the server's database, for the test's own reads. */
  db: Db;
  world: World;
  /** Starts the server again on the same database and port (after a kill). */
  restartServer(): Promise<ServerProcess>;
}

/**
 * An embedded Postgres with an empty database `database`, the fake super-app, the server on them (`env` on top of
 * serverEnv) and a world of `passengers` confirmed passengers; `cleanup` undoes it all.
 */
export async function startStack(
  cleanup: Cleanup,
  opts: { database: string; passengers: number; persistent?: boolean; env?: Record<string, string> },
): Promise<Stack> {
  const pg = await startPostgres({ persistent: opts.persistent ?? false });
  cleanup.add(() => pg.destroy());
  const superApp = await startFakeSuperApp();
  cleanup.add(() => superApp.close());
  // Empty: the server migrates it when it starts.
  const dbUrl = await createDatabase(pg.pg.url, opts.database);
  const env = { DATABASE_URL: dbUrl, ...opts.env };
  let server = await startServer(superApp, env);
  cleanup.add(() => server.kill('SIGKILL'));
  const db = createDb({ connectionString: dbUrl, max: 2 });
  cleanup.add(() => db.destroy());
  const world = await prepareWorld(db, server.url, opts.passengers);
  return {
    pg,
    dbUrl,
    get server() {
      return server;
    },
    db,
    world,
    restartServer: async () => {
      server = await startServer(superApp, { ...env, PORT: String(server.port) });
      return server;
    },
  };
}
