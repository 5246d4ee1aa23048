import { createContext, type AppContext } from '@ridetrace/server/context';
import { Keyring, resolveMasterKeys } from '@ridetrace/server/crypto';
import { DevSuperAppLogin } from '@ridetrace/server/adapters/super-app';
import { withConfiguredDatabase } from './db.js';

/**
 * The server's context for scripts that work on the database directly (import, posters, purge, keys):
 * same config, same keys, no HTTP. Prints the error and sets a non-zero exit code on failure.
 */
export async function withContext(fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  await withConfiguredDatabase(async (config, database) => {
    const masterKeys = resolveMasterKeys(config, (m) => console.error(m));
    const ctx = createContext({
      config,
      db: database.db,
      keyring: await Keyring.load(database.db, masterKeys),
      superApp: new DevSuperAppLogin(),
      now: () => new Date(),
    });
    await fn(ctx);
  });
}
