import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { resolveMasterKeys } from './crypto/master-keys.js';
import { migrateToLatest } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import { loggerOptions } from './logging.js';
import { prepareRideDays } from './modules/rides/rides.service.js';

/** Process entry: config → database (embedded unless DATABASE_URL) → migrations → listen; closes gracefully. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  const log = pino(loggerOptions(config) as pino.LoggerOptions);
  const masterKeys = resolveMasterKeys(config, (m) => log.warn(m));
  const database = await openDatabase(config, (m) => log.info(m));
  const applied = await migrateToLatest(database.db);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const app = await buildApp({ config, db: database.db, masterKeys });
  const maintenance = setInterval(() => {
    prepareRideDays(app.ctx).catch((err: unknown) =>
      app.log.error({ err }, 'preparing ride partitions failed'),
    );
  }, 3600_000);
  maintenance.unref();

  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    clearInterval(maintenance);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const lines = [
    `RideTrace server listening on ${url}`,
    `API docs: ${url}/docs (OpenAPI JSON: ${url}/docs/json)`,
    `mode: ${config.mode}${config.mode === 'development' ? ' (dev mode: dev login "dev:<name>", generated master key; not for production)' : ''}`,
    `database: ${database.embedded ? `embedded Postgres under ${database.embedded.dataDir}` : 'DATABASE_URL'}`,
  ];
  for (const line of lines) console.log(line);
}

main().catch((err: unknown) => {
  console.error('failed to start:', err);
  process.exit(1);
});
