import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.service.js';

export interface MetricsListenerOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** When set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}

export interface MetricsListener {
  /** Base URL, e.g. http://127.0.0.1:9464 (the metrics are at `${url}/metrics`). */
  url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `GET /metrics` (Prometheus text format) on a listener of its own, apart from the public port: the figures
 * describe the deployment's load and are for its operators, so a reverse proxy in front of the API never
 * exposes them. Anything else answers 404; a missing or wrong bearer token (token mode) 401.
 */
export async function listenMetrics(
  metrics: Metrics,
  opts: MetricsListenerOptions,
): Promise<MetricsListener> {
  metrics.collectProcessMetrics();
  return serveMetrics(
    async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
    opts,
  );
}

/**
 * The same listener over any source of the text: a cluster's primary serves its workers' registries summed
 * (cluster.ts) and keeps no app of its own.
 */
export async function serveMetrics(
  read: () => Promise<{ contentType: string; text: string }>,
  opts: MetricsListenerOptions,
): Promise<MetricsListener> {
  const expected = opts.token === undefined ? undefined : digest(`Bearer ${opts.token}`);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    // Compared as digests: equal lengths, and the time taken says nothing about the token.
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      res
        .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' })
        .end('unauthorized\n');
      return;
    }
    read().then(
      ({ contentType, text }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n'),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
