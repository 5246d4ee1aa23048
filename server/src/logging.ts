import type { FastifyServerOptions } from 'fastify';
import type { LoggerOptions } from 'pino';
import { createRequire } from 'node:module';
import type { Config } from './config.js';

const require = createRequire(import.meta.url);

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

/** The bindings of a request's logger (its request id), kept on the logger rather than serialised into it. */
const REQUEST_BINDINGS = Symbol('requestBindings');

type WithRequestBindings = { [REQUEST_BINDINGS]?: Record<string, unknown> };

/**
 * Fastify's child logger per request, binding the request id. Fastify's default, `logger.child({ reqId })`,
 * serialises the binding at once through the redaction's wildcard paths on every request, for a value that is never
 * sensitive and rarely written; here it is kept on the child and added by `mixin` only to lines actually written
 * (redacted like every line). Children of the child inherit it.
 */
export const requestLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  opts,
) => {
  const child = logger.child({}, opts);
  (child as WithRequestBindings)[REQUEST_BINDINGS] = bindings;
  return child;
};

/** Whether log lines are written for a person (pino-pretty) rather than as JSON. */
function prettyLogs(config: Config, toTerminal: boolean): boolean {
  if (config.logFormat !== 'auto') return config.logFormat === 'pretty';
  return toTerminal && config.mode !== 'production';
}

/** `toTerminal`: the lines go to standard output and it is a terminal (not piped, not a test's stream). */
export function loggerOptions(config: Config, toTerminal = process.stdout.isTTY === true): LoggerOptions {
  return {
    level: config.logLevel,
    ...(prettyLogs(config, toTerminal)
      ? {
          transport: {
            target: require.resolve('pino-pretty'),
            options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // A copy: pino merges the line's own fields into what this returns.
    mixin: (_line, _level, logger) => ({ ...(logger as WithRequestBindings)[REQUEST_BINDINGS] }),
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
