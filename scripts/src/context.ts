import { DevSuperAppLogin, loadContext, resolveMasterKeys, type AppContext } from '@ridetrace/server';
import { withConfiguredDatabase } from './db.js';

/**
 * The server's context for scripts that work on the database directly (import, posters, purge, keys):
 * same config, same keys, no HTTP. Prints the error and sets a non-zero exit code on failure.
 */
export async function withContext(fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  await withConfiguredDatabase(async (config, database) => {
    const ctx = await loadContext({
      config,
      db: database.db,
      masterKeys: resolveMasterKeys(config, (m) => console.error(m)),
      superApp: new DevSuperAppLogin(),
      now: () => new Date(),
    });
    await fn(ctx);
  });
}
