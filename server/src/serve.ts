import type { Server } from 'node:http';
import { buildApp, type App } from './app.js';
import type { Config } from './config.js';
import type { MasterKeys } from './crypto/master-keys.js';
import type { OpenDatabase } from './db/open.js';
import { PURGE_KINDS, purgeExpired } from './modules/retention/retention.service.js';
import { prepareRideDays } from './modules/rides/rides.service.js';

export interface ServedApp {
  app: App;
  /** The base URL it listens on. */
  url: string;
  /**
   * Graceful stop: (`drainMs` > 0) answers every request with `Connection: close` for up to that long, so clients'
   * kept-alive connections end after an answer instead of being cut while a request may be on its way; then stops
   * accepting, finishes the requests in flight (every scan waits for its group commit, so the ride batcher is empty
   * once they are answered) and stops the background work. The pool is the caller's.
   */
  close(drainMs?: number): Promise<void>;
}

/**
 * One server process (the only one, or one of a cluster's workers): the app, its hourly maintenance, listening.
 * Maintenance runs in every process: the purge takes an advisory lock (one process purges, the others skip), the
 * partitions and day keys ahead are idempotent, and no process is special when workers come and go.
 */
export async function serveApp(
  config: Config,
  database: OpenDatabase,
  masterKeys: MasterKeys,
): Promise<ServedApp> {
  const app = await buildApp({ config, db: database.db, masterKeys });
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

  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close: (drainMs = 0) =>
      (closing ??= (async () => {
        clearInterval(maintenance);
        if (drainMs > 0) await drain(app.server, drainMs);
        await app.close();
      })()),
  };
}

/** Every answer from now on closes its connection; resolves when none is left or after `ms`. */
async function drain(server: Server, ms: number): Promise<void> {
  // Idle connections are left alone until the close: cutting one now could cut a request already on its way.
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const open = await new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n)));
    if (open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
