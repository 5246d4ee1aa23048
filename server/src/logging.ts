import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';

/**
 * pino options. No PII or secret reaches a log: bodies are never logged, request lines carry the route
 * template (not path values or query strings), no client IP is logged next to ride data, and known
 * sensitive fields are redacted wherever they appear in logged objects.
 */
const SENSITIVE = [
  'name',
  'phone',
  'idNumber',
  'loginCode',
  'clientSecret',
  'accessToken',
  'token',
  'authorization',
  'cookie',
];

/** Sensitive keys at the top level and up to three levels deep, plus request bodies. */
export const REDACT_PATHS = [
  'body',
  '*.body',
  'req.headers.authorization',
  'req.headers.cookie',
  ...SENSITIVE.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
];

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string; routeOptions?: { url?: string } }) => ({
        id: req.id,
        method: req.method,
        route: req.routeOptions?.url ?? '(unmatched)',
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
