import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { perContext } from '../../context.js';
import { isDatabaseUnavailable, isQueryTimeout } from '../../db/errors.js';
import { AppError } from '../../errors.js';
import { HttpSeries } from './http-series.js';

/** What the metrics read when scraped (state other parts of the app already keep, read for free). */
export interface MetricsSources {
  /** Requests refused by the load-shedding gate since start (they never reach Fastify). */
  shed?: () => number;
  /** The database pool (pg.Pool's counters). */
  pool?: {
    readonly totalCount: number;
    readonly idleCount: number;
    readonly waitingCount: number;
    readonly options: { readonly max?: number | undefined };
  };
  /** Notifications not delivered yet. */
  notificationBacklog?: () => Promise<Backlog>;
  /** Where trace reads ran (db/trace-reads.ts's TraceReads). */
  traceReads?: {
    readonly hasStandby: boolean;
    readonly reads: Readonly<Record<'replica' | 'primary', number>>;
    lagMs(): number | null;
  };
}

export interface Backlog {
  queued: number;
  /** Age of the oldest (seconds); null when there is none. */
  oldestSeconds: number | null;
}

export type ScanOutcome = 'created' | 'retried' | 'repeat' | 'confirmation_required';
export type DeliveryChannel = 'superapp' | 'sms';
/**
 * `fallback`: a super-app message given up on and moved to SMS. From delivery receipts: `delivered` (reached the
 * phone), `undelivered` (the provider gave up on a sent message: a super-app message falls back to SMS).
 */
export type DeliveryResult = 'sent' | 'retried' | 'fallback' | 'failed' | 'delivered' | 'undelivered';

/** What a purge run reports (retention.service's PurgeReport has these fields). */
export interface PurgeFigures<K extends string = string> {
  readonly ran: boolean;
  readonly days: readonly unknown[];
  readonly counts: Readonly<Record<K, number>>;
  readonly durationMs: number;
}

/** How long a scrape may reuse the notification backlog read before (a scrape stays one cheap query at most). */
const BACKLOG_CACHE_MS = 5_000;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TRACE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3];

/** Unmatched requests (404s) share one label: a raw URL would let any client create series. */
const UNMATCHED = 'unmatched';

/**
 * Prometheus metrics of one app (one context). Hot paths only increment counters and observe histograms (every
 * request through HttpSeries: plain numbers, no label strings); state that exists anyway (pool, shed gate,
 * notification queue) is read when scraped.
 *
 * Several processes (node:cluster): each worker keeps its own registry, calls collectProcessMetrics() and hands the
 * registry to `AggregatorRegistry.setRegistries(registry)`; the primary serves `/metrics` from
 * `new AggregatorRegistry().clusterMetrics()`. Counters and histograms sum across workers; the gauges below say how
 * they aggregate (`aggregator`), e.g. the backlog is one database's figure, so `max`, not a sum.
 */
export class Metrics {
  readonly registry = new Registry();
  private sources: MetricsSources = {};
  private processMetrics = false;
  private readonly http = new HttpSeries(LATENCY_BUCKETS);
  private readonly scans = new Counter({
    name: 'ridetrace_scans_total',
    help: 'Scans (POST /v1/rides) by result; refused ones by error code',
    labelNames: ['result', 'code'] as const,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'ridetrace_ride_batch_size',
    help: 'Rides per group-commit INSERT',
    buckets: BATCH_SIZE_BUCKETS,
    registers: [this.registry],
  });
  private readonly batchCommit = new Histogram({
    name: 'ridetrace_ride_batch_commit_seconds',
    help: 'Time to write and commit one group-commit batch (seconds), by outcome',
    labelNames: ['outcome'] as const,
    buckets: COMMIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly batchExpired = new Counter({
    name: 'ridetrace_ride_batch_expired_total',
    help: 'Scans refused (503) after waiting longer than RIDES_BATCH_QUEUE_MS for a batch',
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'ridetrace_notification_deliveries_total',
    help: 'Notification delivery attempts by channel and result',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });
  private readonly ignoredReceipts = new Counter({
    name: 'ridetrace_delivery_receipts_ignored_total',
    help: 'Delivery receipts that changed nothing: unknown message ids, repeats, notifications already final',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  private readonly traceDuration = new Histogram({
    name: 'ridetrace_trace_duration_seconds',
    help: 'Exposure traces (JSON pages and CSV) by format and degree (seconds)',
    labelNames: ['format', 'degree'] as const,
    buckets: TRACE_BUCKETS,
    registers: [this.registry],
  });
  private readonly purgeRuns = new Counter({
    name: 'ridetrace_purge_runs_total',
    help: 'Retention purge runs: ran, or skipped because another process held the purge lock',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly purgeRecords = new Counter({
    name: 'ridetrace_purge_records_total',
    help: 'Records removed by the retention purge, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly purgeDays = new Counter({
    name: 'ridetrace_purge_ride_days_total',
    help: 'Ride days purged (day key destroyed, partition dropped)',
    registers: [this.registry],
  });
  private readonly purgeLastRun = new Gauge({
    name: 'ridetrace_purge_last_run_timestamp_seconds',
    help: 'When a retention purge last ran to its end (Unix seconds; 0: not since start)',
    aggregator: 'max',
    registers: [this.registry],
  });
  private readonly purgeLastDuration = new Gauge({
    name: 'ridetrace_purge_last_duration_seconds',
    help: 'How long the last retention purge took (seconds)',
    aggregator: 'max',
    registers: [this.registry],
  });
  private backlog: { at: number; value: Promise<Backlog> } | null = null;

  constructor() {
    const registers = [this.registry];
    this.registry.registerMetric(
      this.http.counter(
        'ridetrace_http_requests_total',
        'HTTP requests answered, by method, route template and status',
      ),
    );
    this.registry.registerMetric(
      this.http.histogram(
        'ridetrace_http_request_duration_seconds',
        'HTTP request latency (seconds), by method and route template',
      ),
    );
    let shedSeen = 0;
    const shed: Counter = new Counter({
      name: 'ridetrace_shed_requests_total',
      help: 'Requests refused with 503 overloaded by load shedding',
      registers,
      collect: () => {
        const n = this.sources.shed?.() ?? 0;
        if (n > shedSeen) shed.inc(n - shedSeen);
        shedSeen = Math.max(shedSeen, n);
      },
    });
    const connections: Gauge<'state'> = new Gauge({
      name: 'ridetrace_db_pool_connections',
      help: 'Database pool connections by state (idle, in_use)',
      labelNames: ['state'] as const,
      registers,
      collect: () => {
        const pool = this.sources.pool;
        if (!pool) return;
        connections.set({ state: 'idle' }, pool.idleCount);
        connections.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
      },
    });
    const poolMax: Gauge = new Gauge({
      name: 'ridetrace_db_pool_max',
      help: 'Database pool size (DB_POOL_SIZE)',
      registers,
      collect: () => {
        const max = this.sources.pool?.options.max;
        if (max !== undefined) poolMax.set(max);
      },
    });
    const waiting: Gauge = new Gauge({
      name: 'ridetrace_db_pool_waiting',
      help: 'Queries waiting for a database connection',
      registers,
      collect: () => {
        if (this.sources.pool) waiting.set(this.sources.pool.waitingCount);
      },
    });
    const readsSeen = { replica: 0, primary: 0 };
    const traceReads: Counter<'target'> = new Counter({
      name: 'ridetrace_trace_reads_total',
      help: 'Exposure, case-ride and itinerary reads by where they ran (replica: the hot standby, or primary)',
      labelNames: ['target'] as const,
      registers,
      collect: () => {
        const reads = this.sources.traceReads?.reads;
        if (!reads) return;
        for (const target of ['replica', 'primary'] as const) {
          if (reads[target] > readsSeen[target])
            traceReads.inc({ target }, reads[target] - readsSeen[target]);
          readsSeen[target] = Math.max(readsSeen[target], reads[target]);
        }
      },
    });
    const replicaLag: Gauge = new Gauge({
      name: 'ridetrace_trace_replica_lag_seconds',
      help: 'Replay lag of the trace standby (TRACE_DATABASE_URL) in seconds; +Inf while it cannot be used',
      aggregator: 'max',
      registers,
      collect: () => {
        const reads = this.sources.traceReads;
        if (!reads?.hasStandby) return;
        replicaLag.set((reads.lagMs() ?? Infinity) / 1000);
      },
    });
    const backlog: Gauge = new Gauge({
      name: 'ridetrace_notifications_backlog',
      help: 'Notifications queued or being sent (not delivered, not failed)',
      aggregator: 'max',
      registers,
      collect: async () => {
        const b = await this.readBacklog();
        if (b) backlog.set(b.queued);
      },
    });
    const oldest: Gauge = new Gauge({
      name: 'ridetrace_notifications_backlog_oldest_seconds',
      help: 'Age of the oldest undelivered notification (seconds; 0: none)',
      aggregator: 'max',
      registers,
      collect: async () => {
        const b = await this.readBacklog();
        if (b) oldest.set(b.oldestSeconds ?? 0);
      },
    });
  }

  /** Scrape-time sources, given once the app has built them. */
  watch(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /**
   * Node.js process metrics (CPU, memory, event loop, GC), in the process that serves /metrics only: they measure
   * the whole process, and their monitors must not be started once per app (tests build many).
   */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** One answered request; `route` is the route template (undefined: no route matched). */
  request(method: string, route: string | undefined, status: number, seconds: number): void {
    this.http.observe(method, route ?? UNMATCHED, status, seconds);
  }

  scanned(outcome: ScanOutcome): void {
    this.scans.inc({ result: outcome });
  }

  /** A refused scan, by the error code its reply carries. */
  scanRefused(err: unknown): void {
    this.scans.inc({ result: 'refused', code: errorCodeOf(err) });
  }

  rideBatch(size: number, seconds: number, ok: boolean): void {
    this.batchSize.observe(size);
    this.batchCommit.observe({ outcome: ok ? 'committed' : 'failed' }, seconds);
  }

  ridesExpired(count: number): void {
    this.batchExpired.inc(count);
  }

  delivery(channel: DeliveryChannel, result: DeliveryResult, count = 1): void {
    if (count > 0) this.deliveries.inc({ channel, result }, count);
  }

  /** Delivery receipts that changed nothing (unknown ids, repeats): many point at a misconfigured bridge. */
  receiptsIgnored(channel: DeliveryChannel, count: number): void {
    if (count > 0) this.ignoredReceipts.inc({ channel }, count);
  }

  trace(format: 'json' | 'csv', degree: 1 | 2, seconds: number): void {
    this.traceDuration.observe({ format, degree: String(degree) }, seconds);
  }

  /** A purge run (not a dry run): counts by kind, and when it last ran. */
  purged<K extends string>(report: PurgeFigures<K>, now: Date): void {
    if (!report.ran) {
      this.purgeRuns.inc({ outcome: 'skipped' });
      return;
    }
    this.purgeRuns.inc({ outcome: 'ran' });
    for (const [kind, n] of Object.entries<number>(report.counts)) this.purgeRecords.inc({ kind }, n);
    this.purgeDays.inc(report.days.length);
    this.purgeLastRun.set(Math.floor(now.getTime() / 1000));
    this.purgeLastDuration.set(report.durationMs / 1000);
  }

  /** The backlog, read at most once per BACKLOG_CACHE_MS; undefined when it cannot be read (no value, no failure). */
  private async readBacklog(): Promise<Backlog | undefined> {
    const read = this.sources.notificationBacklog;
    if (!read) return undefined;
    const now = Date.now();
    if (!this.backlog || now - this.backlog.at > BACKLOG_CACHE_MS) {
      const value = read();
      // A failed read is forgotten at once, so the next scrape tries again.
      value.catch(() => {
        if (this.backlog?.value === value) this.backlog = null;
      });
      this.backlog = { at: now, value };
    }
    return this.backlog.value.catch(() => undefined);
  }
}

/** The error code a reply carries, as app.ts's error handler maps errors (a bounded set: shared's codes). */
function errorCodeOf(err: unknown): string {
  if (err instanceof AppError) return err.code;
  if (isQueryTimeout(err) || isDatabaseUnavailable(err)) return 'service_unavailable';
  const e = err as { validation?: unknown; statusCode?: number; code?: string };
  if (e.validation) return 'validation_failed';
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'malformed_json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
  }
  if (e.statusCode === 429) return 'rate_limited';
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) return 'validation_failed';
  return 'internal_error';
}

/** The metrics of one app: two apps in one process (tests) count apart. */
export const metricsOf = perContext(() => new Metrics());
