import {
  type AppContext,
  createDb,
  type Db,
  DevSuperAppLogin,
  loadConfig,
  loadContext,
  migrateToLatest,
  resolveMasterKeys,
} from '@ridetrace/server';

export interface BenchContext {
  ctx: AppContext;
  close(): Promise<void>;
}

/**
 * The server's context on a given database and master key, built like scripts/src/context.ts (same config
 * loader, same Keyring), for work done directly on the database: loading, purging, queueing notifications.
 */
export async function benchContext(
  databaseUrl: string,
  masterKey: string,
  opts: { migrate?: boolean; poolSize?: number; env?: Record<string, string> } = {},
): Promise<BenchContext> {
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: databaseUrl,
    // `id:base64,…` (several keys, the active one last) or a single base64 key.
    ...(masterKey.includes(':') ? { RIDETRACE_MASTER_KEYS: masterKey } : { RIDETRACE_MASTER_KEY: masterKey }),
    LOG_LEVEL: 'warn',
    ...opts.env,
  });
  const db: Db = createDb({
    connectionString: databaseUrl,
    max: opts.poolSize ?? 4,
    // Bulk work (index builds, attaching partitions) runs longer than the app's 10 s statement limit.
    statementTimeoutMillis: 0,
  });
  if (opts.migrate) await migrateToLatest(db);
  const ctx = await loadContext({
    config,
    db,
    masterKeys: resolveMasterKeys(config, (m) => console.error(m)),
    superApp: new DevSuperAppLogin(),
    now: () => new Date(),
  });
  return { ctx, close: () => db.destroy() };
}
