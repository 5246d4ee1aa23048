import { createContext, type AppContext } from '@ridetrace/server/context';
import { loadConfig } from '@ridetrace/server/config';
import { Keyring, resolveMasterKeys } from '@ridetrace/server/crypto';
import { migrateDatabase } from '@ridetrace/server/db/migrate';
import { openDatabase } from '@ridetrace/server/db/open';
import { DevSuperAppLogin } from '@ridetrace/server/adapters/super-app';

/**
 * The server's context for scripts that work on the database directly (import, posters, purge, keys):
 * same config, same keys, no HTTP. Prints the error and sets a non-zero exit code on failure.
 */
export async function withContext(fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config, (m) => console.error(m));
  try {
    await migrateDatabase(database.url);
    const masterKeys = resolveMasterKeys(config, (m) => console.error(m));
    const ctx = createContext({
      config,
      db: database.db,
      keyring: await Keyring.load(database.db, masterKeys),
      superApp: new DevSuperAppLogin(),
      now: () => new Date(),
    });
    await fn(ctx);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await database.close();
  }
}
