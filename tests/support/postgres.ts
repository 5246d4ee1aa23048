/** Real Postgres for tests: embedded clusters that nothing needs to survive, and databases created on them. */
import { createDb, type RunningPostgres, startEmbeddedPostgres, withDatabase } from '@ridetrace/server';
import { sql } from 'kysely';

/** A test cluster is thrown away, never recovered after a machine crash: no fsync. */
export const TEST_PG_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

/**
 * An embedded Postgres in `<dir>/pg`. `persistent: true` keeps the data directory on stop, so the cluster can be
 * started again on it (same `dir` and `port`).
 */
export function startTestPostgres(opts: {
  dir: string;
  port?: number;
  persistent?: boolean;
}): Promise<RunningPostgres> {
  return startEmbeddedPostgres({
    dir: opts.dir,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    persistent: opts.persistent ?? false,
    settings: TEST_PG_SETTINGS,
  });
}

/** Runs `fn` on a one-connection pool to the cluster's maintenance database (`adminUrl`). */
async function asAdmin(adminUrl: string, fn: (admin: ReturnType<typeof createDb>) => Promise<unknown>) {
  const admin = createDb({ connectionString: adminUrl, max: 1 });
  try {
    await fn(admin);
  } finally {
    await admin.destroy();
  }
}

/** Creates database `name` (empty, or a copy of `template`) on the cluster of `adminUrl`; its connection string. */
export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<string> {
  await asAdmin(adminUrl, (admin) =>
    (template
      ? sql`create database ${sql.id(name)} template ${sql.id(template)}`
      : sql`create database ${sql.id(name)}`
    ).execute(admin),
  );
  return withDatabase(adminUrl, name);
}

/** Drops the databases, ending their connections. */
export async function dropDatabases(adminUrl: string, names: string[]): Promise<void> {
  await asAdmin(adminUrl, async (admin) => {
    for (const name of names) await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
  });
}
