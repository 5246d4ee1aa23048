import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics.service.js';

/** The exposure traces, timed as traces too (format, degree) from the requests that ran one. */
const TRACES: Readonly<Record<string, 'json' | 'csv'>> = {
  '/v1/cases/:id/exposures': 'json',
  '/v1/cases/:id/exposures.csv': 'csv',
};

/**
 * Counts every answered request by method, route template (never the raw URL: no ids in labels) and status, and
 * times it. Register before the routes. Requests refused by the shed gate never get here (their own counter).
 */
export const httpMetrics = fp(
  async (app: FastifyInstance, { metrics }: { metrics: Metrics }) => {
    // A callback hook: no promise per request.
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url;
      const seconds = reply.elapsedTime / 1000;
      const status = reply.statusCode;
      metrics.request(req.method, route, status, seconds);
      const format = route === undefined ? undefined : TRACES[route];
      // A trace ran when it answered or failed on the server's side; refusals (4xx) did not run one.
      if (format && (status < 400 || status >= 500)) {
        const degree = (req.query as { degree?: unknown } | undefined)?.degree === 2 ? 2 : 1;
        metrics.trace(format, degree, seconds);
      }
      done();
    });
  },
  { name: 'http-metrics' },
);
