import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CSRF_HEADER, OFFICIAL_COOKIES } from '@ridetrace/shared';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import { randomUUID } from 'node:crypto';
import { HttpMessageSender, LogOnlySender } from './adapters/notify.js';
import { createSmsSender } from './adapters/sms.js';
import {
  createSuperApp,
  DevSuperAppLogin,
  HttpSuperAppLogin,
  type AccessTokenCache,
  type SuperAppLogin,
} from './adapters/super-app.js';
import { followCacheEvents } from './cache-sync.js';
import type { Config } from './config.js';
import { loadContext, type AppContext } from './context.js';
import type { MasterKeys } from './crypto/master-keys.js';
import { poolOf, type Db } from './db/index.js';
import { openTraceReads } from './db/trace-reads.js';
import { isDatabaseUnavailable, isQueryTimeout, isUnstorableText } from './db/errors.js';
import { AppError } from './errors.js';
import { OPTIONAL_BODY } from './http.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { createAuditCheckpointer } from './modules/audit/checkpoints.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { benchRoutes } from './modules/bench/bench.routes.js';
import { benchTiming } from './modules/bench/timing.js';
import { caseRoutes } from './modules/cases/cases.routes.js';
import { revealRoutes } from './modules/cases/reveal.routes.js';
import { carrierRoutes } from './modules/carriers/carriers.routes.js';
import { consoleBuilt, consoleRoutes } from './modules/console/console.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import type { Senders } from './modules/notifications/notification-worker.js';
import { httpMetrics } from './modules/metrics/http-metrics.js';
import { metricsOf } from './modules/metrics/metrics.service.js';
import {
  createNotificationWorker,
  notificationBacklog,
} from './modules/notifications/notifications.service.js';
import { notificationRoutes } from './modules/notifications/notifications.routes.js';
import { officialRoutes } from './modules/officials/officials.routes.js';
import { sessionActor } from './modules/officials/officials.service.js';
import { passengerRoutes } from './modules/passengers/passengers.routes.js';
import { isActivePassenger } from './modules/passengers/passengers.service.js';
import { privacyRoutes } from './modules/privacy/privacy.routes.js';
import { isProgrammeEnded } from './modules/programme/programme.service.js';
import { statusRoutes } from './modules/status/status.routes.js';
import { adoptTimeZone } from './modules/rides/ride-days.service.js';
import { prepareRideDays } from './modules/rides/rides.service.js';
import { rideRoutes } from './modules/rides/rides.routes.js';
import { registrationRoutes } from './modules/registration/registration.routes.js';
import { ShedGate } from './plugins/shed-gate.js';
import { authPlugin } from './plugins/auth.js';
import { loggerOptions, requestLoggerFactory } from './logging.js';

export interface AppDeps {
  config: Config;
  db: Db;
  masterKeys: MasterKeys;
  /** Defaults to the HTTP adapter (SUPERAPP_BASE_URL) or, in development only, the dev provider. */
  superApp?: SuperAppLogin;
  now?: () => Date;
  /** Notification channels; default HTTP adapters from config (log-only in development without gateways). */
  senders?: Senders;
  /** Where the log lines go (default standard output); tests read them. */
  logStream?: { write(line: string): void };
}

export type App = FastifyInstance & { ctx: AppContext };

/** The super-app adapter and its access-token cache (null for the dev provider), from config or the caller. */
function superAppFor(
  config: Config,
  given: SuperAppLogin | undefined,
): { superApp: SuperAppLogin; tokens: AccessTokenCache | null } {
  if (given) return { superApp: given, tokens: given instanceof HttpSuperAppLogin ? given.tokens : null };
  if (!config.superApp.baseUrl && config.mode === 'production')
    throw new Error('SUPERAPP_BASE_URL is required in production');
  return createSuperApp(config.superApp);
}

/**
 * Notification channels. Messages share the phone lookups' access-token cache: the super-app revokes the old
 * token when it issues a new one, so two caches would keep invalidating each other.
 */
function sendersFor(config: Config, log: FastifyBaseLogger, tokens: AccessTokenCache | null): Senders {
  const { notify, superApp } = config;
  const devLog = new LogOnlySender((m) => log.info(m));
  return {
    app: notify.messageBaseUrl
      ? new HttpMessageSender({
          baseUrl: notify.messageBaseUrl,
          appId: superApp.appId,
          appSecret: superApp.appSecret,
          timeoutMs: notify.timeoutMs,
          timeZone: config.timeZone,
          templateId: superApp.exposureTemplateId,
          secondaryTemplateId: superApp.secondaryTemplateId,
          messageState: superApp.messageState,
          ...(tokens ? { tokens } : {}),
        })
      : devLog,
    sms: createSmsSender(config, (m) => log.info(m)),
  };
}

/** Body: strict types (no coercion). Querystring, params, headers: strings coerced to the schema's types. */
function validatorCompilers() {
  const common = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false } as const;
  const body = addFormats(new Ajv({ ...common, coerceTypes: false }));
  const other = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    if (httpPart === 'params') return canonicalIds(schema, other.compile(schema));
    if (httpPart !== 'body') return other.compile(schema);
    const validate = body.compile(schema);
    if (!(OPTIONAL_BODY in schema)) return validate;
    return withErrors(
      // Fastify hands a missing body to the validator as null.
      (data: unknown) => data === undefined || data === null || validate(data),
      () => validate.errors,
    );
  };
}

/** A validator with Ajv's `errors` property, read when Fastify asks (a getter: Object.assign would copy its value). */
function withErrors(
  validate: (data: unknown) => boolean,
  errors: () => ValidateFunction['errors'],
): (data: unknown) => boolean {
  return Object.defineProperty(validate, 'errors', { get: errors });
}

const CANONICAL_ID = /^[1-9][0-9]*$/;

/**
 * Integer path parameters must be written as plain decimals: Ajv's coercion would also read `0x2`, `02`, `+2`,
 * `2.0`, `1e0` or ` 2` as 2, so one resource would answer to many paths.
 */
function canonicalIds(schema: object, validate: ValidateFunction): (data: unknown) => boolean {
  const props = (schema as { properties?: Record<string, { type?: string }> }).properties ?? {};
  const ints = Object.keys(props).filter((k) => props[k]?.type === 'integer');
  if (ints.length === 0) return validate;
  let errors: ValidateFunction['errors'] = null;
  return withErrors(
    (data: unknown) => {
      const params = data as Record<string, unknown>;
      const bad = ints.find((k) => typeof params[k] === 'string' && !CANONICAL_ID.test(params[k]));
      if (bad === undefined) {
        const ok = validate(data);
        errors = validate.errors;
        return ok;
      }
      errors = [
        {
          instancePath: `/${bad}`,
          schemaPath: `#/properties/${bad}`,
          keyword: 'pattern',
          params: { pattern: CANONICAL_ID.source },
          message: 'must be a decimal integer without sign, leading zeros or spaces',
        },
      ];
      return false;
    },
    () => errors,
  );
}

/** Builds the ready Fastify app; never listens (main.ts does, tests inject or listen on port 0). */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, db } = deps;
  if (config.mode === 'production' && deps.superApp instanceof DevSuperAppLogin) {
    throw new Error('the dev login provider is not allowed in production');
  }
  const gate = new ShedGate({
    maxInFlight: config.shedding.maxInFlight,
    maxDbWaiting: config.shedding.maxDbWaiting,
    maxEventLoopDelayMs: config.shedding.maxEventLoopDelayMs,
    pool: poolOf(db) ?? undefined,
    corsOrigins: config.corsOrigins,
  });
  const app = Fastify({
    logger: deps.logStream
      ? { ...loggerOptions(config, false), stream: deps.logStream }
      : loggerOptions(config),
    childLoggerFactory: requestLoggerFactory,
    // Load shedding happens in front of Fastify (./plugins/shed-gate.ts), where a refusal is cheap.
    serverFactory: gate.serverFactory,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    // Errors Fastify raises before routing (bad %-encoding, over-long path parameters) use our error body too.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      void reply.code(status).send(new AppError('validation_failed', err.message, status).toBody());
    },
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const platform = superAppFor(config, deps.superApp);
  const senders = deps.senders ?? sendersFor(config, app.log, platform.tokens);
  // Exposure, case-ride and itinerary reads: on TRACE_DATABASE_URL's hot standby while it keeps up (trace-reads.ts).
  const traces = openTraceReads(db, {
    standbyUrl: config.traceReplica.url,
    maxLagMs: config.traceReplica.maxLagMs,
    poolSize: config.traceReplica.poolSize,
    onChange: (usable, why) =>
      usable
        ? app.log.info({ why }, 'trace reads: the standby is usable')
        : app.log.warn({ why }, 'trace reads: the standby is unusable, reading the primary'),
  });
  app.addHook('onClose', async () => traces.close());
  await traces.start();
  const ctx = await loadContext({
    config,
    db,
    traces,
    masterKeys: deps.masterKeys,
    superApp: platform.superApp,
    sms: senders.sms,
    now: deps.now ?? (() => new Date()),
  });
  // Metrics (served by main.ts on METRICS_PORT, never here): requests of every route registered below.
  const metrics = metricsOf(ctx);
  const pool = poolOf(db);
  metrics.watch({
    shed: () => gate.shed,
    notificationBacklog: () => notificationBacklog(ctx),
    traceReads: traces,
    ...(pool ? { pool } : {}),
  });
  await app.register(httpMetrics, { metrics });
  // Keys another process destroys or rotates leave this one's caches at once (cache-sync.ts).
  const cacheEvents = followCacheEvents(ctx, (err, msg) => app.log.warn({ err }, msg));
  if (cacheEvents) {
    await cacheEvents.ready;
    app.addHook('onClose', async () => cacheEvents.close());
  }
  app.setValidatorCompiler(validatorCompilers());
  // JSON only: Fastify's built-in text/plain parser would let a text body reach validation as a string.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toAppError(err);
    if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
    if (e.status === 503) {
      // Overloaded (shed) or the database is down or stuck: clients retry (scans with the same clientRideId).
      // Sheds are not logged one by one: under overload that would add work to every refused request.
      // programme_ended is final: no Retry-After invites a client to ask again.
      if (!reply.hasHeader('retry-after') && e.code !== 'programme_ended') reply.header('retry-after', '1');
      if (
        e.code === 'service_unavailable' ||
        e.code === 'superapp_unavailable' ||
        e.code === 'sms_unavailable'
      )
        req.log.warn({ err }, `request refused: ${e.code}`);
    } else if (e.status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(e.status).send(e.toBody());
  });
  // No MIME sniffing of any reply. API replies carry personal or movement data unless a route says otherwise
  // (its own Cache-Control), so browsers and proxies must not keep them.
  // The request id names the reply in the audit log (`requestId`), so an official can match one to the other.
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-request-id', req.id);
    if (!reply.hasHeader('cache-control') && req.url.startsWith('/v1/'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(new AppError('route_not_found').toBody()));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'RideTrace API',
        version: '1.0.0',
        description:
          'Ride registration (one code per vehicle) and contact tracing. Errors are `{ error: { code, message } }` with ' +
          'a stable code from @ridetrace/shared.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          deliveryReceiptToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'DELIVERY_RECEIPT_TOKEN, shared with the gateways (or their bridges) that post receipts',
          },
          officialSession: {
            type: 'apiKey',
            in: 'cookie',
            name: OFFICIAL_COOKIES.access,
            description:
              "The officials' console session (POST /v1/auth/official/session): used only without an " +
              `Authorization header; POST, PATCH and DELETE need the session's ${CSRF_HEADER} header too.`,
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Load shedding: under overload, answer 503 overloaded + Retry-After at once instead of queueing until every
  // request times out; accepted requests keep their latency. /health stays up for liveness probes. The gate in
  // front of Fastify refuses on event-loop lag (how late a timer runs), on the pool's wait queue and beyond
  // SHED_MAX_IN_FLIGHT requests in flight (a bulkhead: with more, a CPU-bound process only makes each wait longer,
  // in socket buffers and the group-commit queue, where the event loop does not lag).
  const stopShedReport = gate.reportEvery(10_000, (count, seconds) =>
    app.log.warn({ shed: count }, `overloaded: refused ${count} requests in the last ${seconds} s`),
  );
  app.addHook('onClose', async () => {
    stopShedReport();
    gate.close();
  });
  await app.register(cors, {
    origin: config.corsOrigins.length ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    // Never `credentials`: another origin's page must not send the console's session cookie and read the reply.
    // The h5 client shows how long to wait (429 otp_rate_limited, 503).
    exposedHeaders: ['retry-after', 'x-request-id'],
    maxAge: 600,
    // A malformed preflight is answered like any request, not with a plain-text 400.
    strictPreflight: false,
  });
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.perIpPerMinute,
    timeWindow: '1 minute',
    errorResponseBuilder: (_req, c) =>
      new AppError('rate_limited', `Too many requests; retry in ${Math.ceil(c.ttl / 1000)} s.`),
  });
  await app.register(authPlugin, {
    secret: ctx.keyring.jwtSecret,
    officialSession: (sessionId) => sessionActor(ctx, sessionId),
    passengerAccountLive: (passengerId) => isActivePassenger(ctx.db, passengerId),
  });
  if (config.benchRoutes) await app.register(benchTiming, { pool: poolOf(db) });

  for (const routes of [
    healthRoutes,
    authRoutes,
    officialRoutes,
    adminRoutes,
    carrierRoutes,
    registrationRoutes,
    rideRoutes,
    passengerRoutes,
    caseRoutes,
    revealRoutes,
    notificationRoutes,
    statusRoutes,
    auditRoutes,
    privacyRoutes,
  ]) {
    await app.register(routes, { ctx });
  }

  if (config.benchRoutes) await app.register(benchRoutes, { ctx });
  // The officials' web console, when it has been built (pnpm build:console).
  if (consoleBuilt(config.consoleDir)) await app.register(consoleRoutes, { dir: config.consoleDir });

  // After the wind-down, a (re)started server must not create the day keys and partitions it destroyed.
  if (!(await isProgrammeEnded(ctx))) {
    const { added } = await adoptTimeZone(db, ctx.rideDays, config.timeZone, ctx.now());
    if (added?.since)
      app.log.warn(
        { timeZone: added.timeZone, since: added.since.toISOString(), lastOldDay: added.lastOldDay },
        'TIME_ZONE changed: ride days count in the new zone from its first midnight after the days already stored',
      );
    await prepareRideDays(ctx);
  }
  if (config.notify.workerEnabled) {
    const worker = createNotificationWorker(ctx, senders, (err, msg) => app.log.error({ err }, msg));
    app.addHook('onReady', async () => worker.start());
    app.addHook('onClose', async () => worker.stop());
  }
  // Signed checkpoints of the audit chain outside the database; the last one at shutdown.
  const checkpoints = createAuditCheckpointer(config, db, app.log);
  if (checkpoints) {
    app.addHook('onReady', async () => checkpoints.start());
    app.addHook('onClose', async () => checkpoints.stop());
  }
  await app.ready();
  return Object.assign(app as unknown as FastifyInstance, { ctx });
}

function toAppError(err: FastifyError): AppError {
  if (err instanceof AppError) return err;
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    return new AppError(
      'validation_failed',
      `${where}${err.message.startsWith(where) ? err.message.slice(where.length) : ` ${err.message}`}`,
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type');
  }
  if (err instanceof SyntaxError && err.statusCode === 400) return new AppError('malformed_json');
  if (isQueryTimeout(err)) {
    return new AppError(
      'service_unavailable',
      'The query took too long; narrow it (e.g. degree 1, a shorter window) or retry.',
    );
  }
  if (isDatabaseUnavailable(err)) return new AppError('service_unavailable');
  // Text Postgres cannot store (NUL, invalid UTF-8): bad input, not a server fault.
  if (isUnstorableText(err))
    return new AppError('validation_failed', 'A text field holds characters that cannot be stored.');
  const status = err.statusCode ?? 500;
  if (status === 404) return new AppError('route_not_found');
  if (status === 405) return new AppError('method_not_allowed');
  if (status === 429) return new AppError('rate_limited');
  if (status >= 400 && status < 500) return new AppError('validation_failed', err.message, status);
  if (status === 503) return new AppError('service_unavailable');
  return new AppError('internal_error');
}
