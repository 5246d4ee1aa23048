import { AppError } from '../errors.js';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';

export interface ShedGateOptions {
  /** Requests in flight in this process beyond which new ones are refused; 0: no limit. */
  maxInFlight: number;
  /** Queries waiting for a pool connection beyond which new requests are refused; 0: no limit. */
  maxDbWaiting: number;
  /** The database pool's wait queue (absent for a Kysely instance without a pg pool). */
  pool?: { readonly waitingCount: number } | undefined;
  /** Browser origins allowed by CORS: a refusal carries the same CORS headers as any reply. */
  corsOrigins: readonly string[];
}

/** The refusal, serialised once. */
const OVERLOADED = Buffer.from(JSON.stringify(new AppError('overloaded').toBody()));

/**
 * Load shedding in front of Fastify. A refused request costs the server a parse of its head and one prebuilt
 * reply, not a request object, a child logger, the hook chain and the error handler: under overload the refusals
 * would otherwise eat the capacity they protect (measured at twice the capacity: the accepted scans fell to about
 * 30 % of capacity when shedding went through Fastify's error path). Refuses when `maxInFlight` requests are already
 * in flight, when the pool's wait queue is longer than `maxDbWaiting`, or when `lagging()` says the event loop
 * lags (@fastify/under-pressure measures it). `/health` always passes (liveness probes).
 */
export class ShedGate {
  private inFlight = 0;
  /** Refusals since start. */
  shed = 0;
  /** Set once the app exists: whether the event loop lags (under-pressure's measurement). */
  lagging: () => boolean = () => false;

  constructor(private readonly opts: ShedGateOptions) {}

  /**
   * Logs one warning per interval in which requests were refused (never one line per refusal: under overload that
   * would add work to each). Returns the stop function.
   */
  reportEvery(ms: number, warn: (count: number, seconds: number) => void): () => void {
    let reported = 0;
    const timer = setInterval(() => {
      if (this.shed > reported) warn(this.shed - reported, ms / 1000);
      reported = this.shed;
    }, ms);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Wraps Fastify's request listener in a plain HTTP server with Fastify's own timeouts (its `serverFactory`). */
  serverFactory = (handler: RequestListener, fastifyOpts: Record<string, unknown>): http.Server => {
    const server = http.createServer((req, res) => {
      if (this.refuse(req)) {
        this.reply(req, res);
        return;
      }
      this.inFlight++;
      res.once('close', () => this.inFlight--);
      handler(req, res);
    });
    // As Fastify sets up its own server (its defaults are applied before it calls the factory).
    const num = (key: string) => (typeof fastifyOpts[key] === 'number' ? fastifyOpts[key] : undefined);
    server.keepAliveTimeout = num('keepAliveTimeout') ?? server.keepAliveTimeout;
    server.requestTimeout = num('requestTimeout') ?? server.requestTimeout;
    server.setTimeout(num('connectionTimeout') ?? 0);
    const perSocket = num('maxRequestsPerSocket');
    if (perSocket) server.maxRequestsPerSocket = perSocket;
    return server;
  };

  private refuse(req: IncomingMessage): boolean {
    if (req.url === '/health') return false;
    const { maxInFlight, maxDbWaiting, pool } = this.opts;
    return (
      (maxInFlight > 0 && this.inFlight >= maxInFlight) ||
      (maxDbWaiting > 0 && pool !== undefined && pool.waitingCount > maxDbWaiting) ||
      this.lagging()
    );
  }

  private reply(req: IncomingMessage, res: ServerResponse): void {
    this.shed++;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': OVERLOADED.length,
      'retry-after': '1',
    };
    const origin = req.headers.origin;
    if (origin && this.opts.corsOrigins.includes(origin)) {
      headers['access-control-allow-origin'] = origin;
      headers.vary = 'Origin';
    }
    res.writeHead(503, headers).end(OVERLOADED);
  }
}
