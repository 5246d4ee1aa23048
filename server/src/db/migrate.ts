import { Migrator, sql, type Kysely } from 'kysely';
import { createDb } from './index.js';
import { migrations } from './migrations/index.js';

/** Runs every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(
      `migration ${failed?.migrationName ?? '?'} failed: ${String((error as Error).message ?? error)}`,
      {
        cause: error,
      },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Migrates the database at `url` on a connection of its own, without the app's statement timeouts. Processes and
 * servers starting together take turns on an advisory lock held on a second connection for the whole run: Kysely
 * locks the migrations themselves, this covers creating its bookkeeping tables on a fresh database too.
 */
export async function migrateDatabase(url: string): Promise<string[]> {
  const lock = createDb({ connectionString: url, max: 1, statementTimeoutMillis: 0 });
  const db = createDb({ connectionString: url, max: 1, statementTimeoutMillis: 0 });
  try {
    return await lock.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(hashtext('ridetrace.migrate'))`.execute(conn);
      try {
        return await migrateToLatest(db);
      } finally {
        await sql`select pg_advisory_unlock(hashtext('ridetrace.migrate'))`.execute(conn);
      }
    });
  } finally {
    await db.destroy();
    await lock.destroy();
  }
}
