import { type RunningPostgres, startEmbeddedPostgres } from '@ridetrace/server';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * Postgres settings of the benchmark cluster. Durability is real (fsync and synchronous_commit on, as in
 * production); the rest is ordinary sizing for a 24 GiB machine and a bulk load (fewer checkpoints, more memory
 * for index builds). WAL flush times are tracked (`track_wal_io_timing`) for the scan step's WAL figures.
 */
export const BENCH_PG_SETTINGS: Record<string, string> = {
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  shared_buffers: '2GB',
  max_wal_size: '8GB',
  checkpoint_timeout: '15min',
  maintenance_work_mem: '512MB',
  max_parallel_maintenance_workers: '1',
  wal_compression: 'off',
  track_wal_io_timing: 'on',
  // Falls back to 4 KiB pages when none are reserved (see reserveHugePages).
  huge_pages: 'try',
};

const NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';
/** shared_buffers plus room for Postgres' other shared memory, in MiB. */
const SHARED_MEMORY_MIB = 2048 + 200;

/**
 * Reserves enough 2 MiB huge pages for the cluster's shared memory (Linux, as root); returns how to give them
 * back. With 4 KiB pages a backend faults on each shared buffer it first touches, slowing traces on fresh
 * connections; huge pages are the usual setting for gigabytes of shared_buffers.
 */
function reserveHugePages(log: (m: string) => void): () => void {
  const noop = () => undefined;
  try {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    const pageMiB = field('Hugepagesize') / 1024;
    const total = field('HugePages_Total');
    // Reserved pages are counted free until a process touches them.
    const free = field('HugePages_Free') - field('HugePages_Rsvd');
    const need = Math.ceil(SHARED_MEMORY_MIB / pageMiB);
    if (!(pageMiB > 0) || free >= need) return noop;
    writeFileSync(NR_HUGEPAGES, String(total + need - free));
    const got = Number(readFileSync(NR_HUGEPAGES, 'utf8'));
    if (got < total + need - free) log(`huge pages: only ${got - total} of ${need - free} could be reserved`);
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      try {
        writeFileSync(NR_HUGEPAGES, String(total));
      } catch {
        // the pages stay reserved until the next boot or a manual reset
      }
    };
    process.once('exit', restore);
    return restore;
  } catch (err) {
    log(`huge pages not reserved (${(err as Error).message.split('\n')[0]}): Postgres uses 4 KiB pages`);
    return noop;
  }
}

export interface BenchPostgres {
  pg: RunningPostgres;
  /** Connection string of the `ridetrace` database. */
  url: string;
  stop(): Promise<void>;
}

/** A fresh embedded Postgres in a temp dir (deleted on stop) with a `ridetrace` database. */
export async function startBenchPostgres(log: (m: string) => void = () => undefined): Promise<BenchPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ridetrace-bench-'));
  chmodSync(dir, 0o755); // as root, Postgres runs as user postgres and must enter it
  const releaseHugePages = reserveHugePages(log);
  const running = await startEmbeddedPostgres({ dir, persistent: false, settings: BENCH_PG_SETTINGS, log });
  const admin = new pg.Client({ connectionString: running.url });
  await admin.connect();
  try {
    await admin.query('create database ridetrace');
  } finally {
    await admin.end();
  }
  return {
    pg: running,
    url: running.urlFor('ridetrace'),
    stop: async () => {
      await running.stop();
      releaseHugePages();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Server version and the settings that matter for the figures. */
export async function describePostgres(url: string): Promise<Record<string, string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const names = [
      'server_version',
      ...Object.keys(BENCH_PG_SETTINGS),
      'huge_pages_status',
      'wal_level',
      'max_connections',
    ];
    const r = await c.query<{ name: string; setting: string; unit: string | null }>(
      'select name, setting, unit from pg_settings where name = any($1)',
      [names],
    );
    const out: Record<string, string> = {};
    for (const row of r.rows) out[row.name] = row.unit ? `${row.setting} ${row.unit}` : row.setting;
    return out;
  } finally {
    await c.end();
  }
}
