import pino from 'pino';
import { isClusterWorker, obeyPrimary, Primary } from './cluster.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { resolveMasterKeys } from './crypto/master-keys.js';
import { migrateDatabase } from './db/migrate.js';
import { openDatabase, type OpenDatabase } from './db/open.js';
import { loggerOptions } from './logging.js';
import { consoleBuilt } from './modules/console/console.routes.js';
import { listenMetrics, serveMetrics, type MetricsListener } from './modules/metrics/metrics.listener.js';
import { metricsOf } from './modules/metrics/metrics.service.js';
import { serveApp } from './serve.js';

type Log = pino.Logger;

/** How long a stopping cluster worker keeps answering with `Connection: close` before it stops accepting. */
const WORKER_DRAIN_MS = 1500;

/**
 * Process entry: config → database (embedded unless DATABASE_URL) → migrations → listen; closes gracefully.
 * With WORKERS > 1 this process is the cluster's primary (cluster.ts) and each worker runs this file again.
 */
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
  if (config.workers === 1) return runSingle(config, log);
  return isClusterWorker() ? runWorker(config, log) : runPrimary(config, log);
}

/** Opens the database and migrates it (the only process, or the primary: workers find it migrated). */
async function prepareDatabase(config: Config, log: Log): Promise<OpenDatabase> {
  const database = await openDatabase(config, (m) => log.info(m));
  const applied = await migrateDatabase(database.url);
  if (applied.length) log.info({ applied }, 'migrations applied');
  return database;
}

/** Stops with `stop` on SIGTERM/SIGINT (once), exiting with its code; exits 1 if it takes longer than `limitMs`. */
function onStopSignals(log: Log, limitMs: number, stop: () => Promise<number>): void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => process.exit(1), limitMs).unref();
    stop().then(
      (code) => process.exit(code),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handle('SIGINT'));
  process.on('SIGTERM', () => handle('SIGTERM'));
}

async function runSingle(config: Config, log: Log): Promise<void> {
  const masterKeys = resolveMasterKeys(config, (m) => log.warn(m));
  const database = await prepareDatabase(config, log);
  const served = await serveApp(config, database, masterKeys);
  let metrics: MetricsListener | undefined;
  onStopSignals(log, 10_000, async () => {
    await metrics?.close();
    await served.close();
    await database.close();
    return 0;
  });
  if (config.metrics.port > 0) metrics = await listenMetrics(metricsOf(served.app.ctx), config.metrics);
  printBanner(config, served.url, database, metrics, 1);
}

async function runWorker(config: Config, log: Log): Promise<void> {
  const masterKeys = resolveMasterKeys(config, (m) => log.warn(m));
  const database = await openDatabase(config, (m) => log.info(m));
  const served = await serveApp(config, database, masterKeys);
  const metrics = metricsOf(served.app.ctx);
  metrics.collectProcessMetrics();
  let stopping = false;
  obeyPrimary({
    metrics: () => metrics.registry.getMetricsAsJSON(),
    stop: async () => {
      if (stopping) return;
      stopping = true;
      setTimeout(() => process.exit(1), 12_000).unref();
      try {
        await served.close(WORKER_DRAIN_MS);
        await database.close();
        process.exit(0);
      } catch (err) {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      }
    },
  });
}

async function runPrimary(config: Config, log: Log): Promise<void> {
  // Before any worker starts: a development master key is generated here once, not by N workers at the same time.
  resolveMasterKeys(config, (m) => log.warn(m));
  const database = await prepareDatabase(config, log);
  const primary = new Primary({
    workers: config.workers,
    // Workers use the primary's database (the embedded one's URL too) and audit checkpoint directory, which
    // development derives from DATABASE_URL being unset.
    env: {
      DATABASE_URL: database.url,
      ...(config.audit.checkpointDir ? { AUDIT_CHECKPOINT_DIR: config.audit.checkpointDir } : {}),
    },
    log,
  });
  let metrics: MetricsListener | undefined;
  onStopSignals(log, 30_000, async () => {
    const clean = await primary.stop();
    await metrics?.close();
    await database.close();
    return clean ? 0 : 1;
  });
  process.on('SIGHUP', () => {
    log.info({ workers: config.workers }, 'SIGHUP: restarting the server processes one at a time');
    primary.rollingRestart().then(
      () => log.info({}, 'rolling restart done'),
      (err: unknown) => log.error({ err }, 'rolling restart failed'),
    );
  });
  try {
    await primary.start();
  } catch (err) {
    log.error({ err }, 'server processes failed to start');
    await primary.stop();
    await database.close();
    process.exit(1);
  }
  if (config.metrics.port > 0) metrics = await serveMetrics(() => primary.clusterMetrics(), config.metrics);
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  printBanner(config, `http://${host}:${config.port}`, database, metrics, config.workers);
}

function printBanner(
  config: Config,
  url: string,
  database: OpenDatabase,
  metrics: MetricsListener | undefined,
  workers: number,
): void {
  const lines = [
    `RideTrace server listening on ${url}${workers > 1 ? ` (${workers} processes; SIGHUP restarts them one by one)` : ''}`,
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
