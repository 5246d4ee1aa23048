import { AppError } from '../errors.js';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface ShedGateOptions {
  /** Requests in flight in this process beyond which new ones are refused; 0: no limit. */
  maxInFlight: number;
  /** Queries waiting for a pool connection beyond which new requests are refused; 0: no limit. */
  maxDbWaiting: number;
  /** Event-loop lag (ms) beyond which new requests are refused; 0: not measured. */
  maxEventLoopDelayMs: number;
  /** The database pool's wait queue (absent for a Kysely instance without a pg pool). */
  pool?: { readonly waitingCount: number } | undefined;
  /** Browser origins allowed by CORS: a refusal carries the same CORS headers as any reply. */
  corsOrigins: readonly string[];
}

/**
 * How late the event loop runs a timer that should fire every `intervalMs`: the lag of its last tick, or, when the
 * next tick is overdue (the loop is busy right now), how overdue it is. Hand-written instead of
 * @fastify/under-pressure's measurement: that one takes the mean of `monitorEventLoopDelay` over each interval and
 * counts an interval without samples as infinite lag, so a single pause far below the limit (a major GC, a big
 * trace's synchronous part) refuses every request for the next interval. A late timer measures the pause itself.
 */
export class LoopLag {
  private last = performance.now();
  private lastLagMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs: number) {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lastLagMs = Math.max(0, now - this.last - intervalMs);
      this.last = now;
    }, intervalMs);
    this.timer.unref();
  }

  get ms(): number {
    return Math.max(this.lastLagMs, performance.now() - this.last - this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The refusal, serialised once. */
const OVERLOADED = Buffer.from(JSON.stringify(new AppError('overloaded').toBody()));

/**
 * Load shedding in front of Fastify. A refused request costs the server a parse of its head and one prebuilt
 * reply, not a request object, a child logger, the hook chain and the error handler: under overload the refusals
 * would otherwise eat the capacity they protect. Refuses when `maxInFlight` requests are already
 * in flight, when the pool's wait queue is longer than `maxDbWaiting`, or when the event loop lags more than
 * `maxEventLoopDelayMs` (`LoopLag`). `/health` always passes (liveness probes).
 */
export class ShedGate {
  private inFlight = 0;
  /** Refusals since start. */
  shed = 0;
  private readonly lag: LoopLag | null;

  constructor(private readonly opts: ShedGateOptions) {
    this.lag = opts.maxEventLoopDelayMs > 0 ? new LoopLag(50) : null;
  }

  /** Stops measuring the event loop. */
  close(): void {
    this.lag?.stop();
  }

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
      (this.lag !== null && this.lag.ms > this.opts.maxEventLoopDelayMs)
    );
  }

  private reply(req: IncomingMessage, res: ServerResponse): void {
    this.shed++;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': OVERLOADED.length,
      'retry-after': '1',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    };
    const origin = req.headers.origin;
    if (origin && this.opts.corsOrigins.includes(origin)) {
      headers['access-control-allow-origin'] = origin;
      headers.vary = 'Origin';
    }
    res.writeHead(503, headers).end(OVERLOADED);
  }
}
