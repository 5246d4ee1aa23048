import {
  type Config,
  type Db,
  loadConfig,
  migrateDatabase,
  openDatabase,
  type OpenDatabase,
} from '@ridetrace/server';

/**
 * Runs `fn` on the configured database (migrated first, unless `migrate: false`) and closes it; prints the error
 * and sets a non-zero exit code on failure.
 */
export async function withDatabase(
  fn: (db: Db, url: string) => Promise<void>,
  opts: { migrate?: boolean } = {},
): Promise<void> {
  await withConfiguredDatabase((_config, database) => fn(database.db, database.url), opts);
}

/** withDatabase for callers that also need the config it was opened with (context.ts). */
export async function withConfiguredDatabase(
  fn: (config: Config, database: OpenDatabase) => Promise<void>,
  opts: { migrate?: boolean } = {},
): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config, (m) => console.error(m));
  try {
    if (opts.migrate !== false) await migrateDatabase(database.url);
    await fn(config, database);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await database.close();
  }
}
