import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { resolveMasterKeys } from './crypto/master-keys.js';
import { migrateDatabase } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import { loggerOptions } from './logging.js';
import { consoleBuilt } from './modules/console/console.routes.js';
import { listenMetrics, type MetricsListener } from './modules/metrics/metrics.listener.js';
import { metricsOf } from './modules/metrics/metrics.service.js';
import { PURGE_KINDS, purgeExpired } from './modules/retention/retention.service.js';
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
  const log = pino(loggerOptions(config));
  const masterKeys = resolveMasterKeys(config, (m) => log.warn(m));
  const database = await openDatabase(config, (m) => log.info(m));
  const applied = await migrateDatabase(database.url);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const app = await buildApp({ config, db: database.db, masterKeys });
  // Hourly: partitions and day keys ahead; retention purge (a no-op unless a day expired; one process at a time).
  const maintain = async () => {
    await prepareRideDays(app.ctx);
    const report = await purgeExpired(app.ctx);
    app.ctx.keyring.forgetDaysBefore(report.before);
    // Counts only (no ids): every kind of record that reached the end of its lifetime.
    const removed = Object.fromEntries(
      PURGE_KINDS.filter((k) => report.counts[k] > 0).map((k) => [k, report.counts[k]]),
    );
    if (report.days.length > 0 || Object.keys(removed).length > 0) {
      const { keyIds, durationMs } = report;
      app.log.info({ days: report.days.length, keyIds, removed, durationMs }, 'retention purge');
    }
  };
  const runMaintenance = () => {
    maintain().catch((err: unknown) => app.log.error({ err }, 'maintenance failed'));
  };
  runMaintenance();
  const maintenance = setInterval(runMaintenance, 3600_000);
  maintenance.unref();

  let metrics: MetricsListener | undefined;
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    clearInterval(maintenance);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await metrics?.close();
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void close('SIGINT'));
  process.on('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ host: config.host, port: config.port });
  // With several processes (node:cluster) the primary serves the workers' aggregated registries instead
  // (metrics.service.ts says how); one process serves its own.
  if (config.metrics.port > 0) metrics = await listenMetrics(metricsOf(app.ctx), config.metrics);
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const lines = [
    `RideTrace server listening on ${url}`,
    `API docs: ${url}/docs (OpenAPI JSON: ${url}/docs/json)`,
    `mode: ${config.mode}${config.mode === 'development' ? ' (dev mode: dev login "dev:<name>", generated master key; not for production)' : ''}`,
    `database: ${database.embedded ? `embedded Postgres under ${database.embedded.dataDir}` : 'DATABASE_URL'}`,
    metrics
      ? `metrics: ${metrics.url}/metrics${config.metrics.token ? ' (bearer token)' : ''}`
      : 'metrics: not served (METRICS_PORT unset)',
    consoleBuilt(config.consoleDir)
      ? `console at ${url}/console/`
      : config.consoleDir
        ? `console: not built (run \`pnpm build:console\`, then restart to serve it at ${url}/console/)`
        : 'console: not served (CONSOLE_DIR=off)',
  ];
  for (const line of lines) console.log(line);
}

main().catch((err: unknown) => {
  console.error('failed to start:', err);
  process.exit(1);
});
