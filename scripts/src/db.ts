import { loadConfig } from '@ridetrace/server/config';
import type { Db } from '@ridetrace/server/db';
import { migrateDatabase } from '@ridetrace/server/db/migrate';
import { openDatabase } from '@ridetrace/server/db/open';

/**
 * Runs `fn` on the configured database (migrated first, unless `migrate: false`) and closes it; prints the error
 * and sets a non-zero exit code on failure.
 */
export async function withDatabase(
  fn: (db: Db, url: string) => Promise<void>,
  opts: { migrate?: boolean } = {},
): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config, (m) => console.error(m));
  try {
    if (opts.migrate !== false) await migrateDatabase(database.url);
    await fn(database.db, database.url);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await database.close();
  }
}
