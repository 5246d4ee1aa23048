import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** One registry's metrics as prom-client sends them between processes. */
type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * Several server processes on one port (node:cluster, WORKERS > 1). The primary serves no requests: it forks the
 * workers, restarts one that dies, replaces them one at a time on SIGHUP, stops them on SIGTERM/SIGINT and answers
 * /metrics with the sum of theirs. Workers are ordinary server processes (serve.ts) that obey the primary's
 * messages below.
 */

const STOP = 'ridetrace:stop';
const METRICS_REQUEST = 'ridetrace:metrics';
const METRICS_REPLY = 'ridetrace:metrics-reply';

type Message =
  | { type: typeof STOP }
  | { type: typeof METRICS_REQUEST; id: number }
  | { type: typeof METRICS_REPLY; id: number; metrics: MetricsJson | null };

function isMessage(m: unknown): m is Message {
  const type = (m as { type?: unknown } | null)?.type;
  return type === STOP || type === METRICS_REQUEST || type === METRICS_REPLY;
}

export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * When to start again a worker that died: at once after a worker that ran for a while, then after doubling waits
 * while each new one dies young, so a crash loop (a bad deployment, a database that refuses) never spins.
 */
export class RestartBackoff {
  private failures = 0;

  constructor(private readonly opts = { minMs: 500, maxMs: 30_000, stableMs: 60_000 }) {}

  /** The wait before the next start, after a worker that ran `uptimeMs`. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.opts.stableMs) this.failures = 0;
    this.failures++;
    if (this.failures === 1) return 0;
    return Math.min(this.opts.maxMs, this.opts.minMs * 2 ** (this.failures - 2));
  }
}

interface Slot {
  worker: Worker | null;
  startedAt: number;
  backoff: RestartBackoff;
  timer: NodeJS.Timeout | undefined;
}

export interface PrimaryOptions {
  workers: number;
  /** Added to each worker's environment (which is the primary's otherwise). */
  env: Record<string, string>;
  log: Log;
  /** How long a worker may take to start listening. */
  startTimeoutMs?: number;
  /** How long a worker may take to stop gracefully before it is killed. */
  stopTimeoutMs?: number;
}

/** The cluster's primary process. */
export class Primary {
  private readonly slots: Slot[];
  /** Workers that have listened: the ones asked for metrics. */
  private readonly listening = new WeakSet<Worker>();
  private stopping = false;
  private restarting: Promise<void> | null = null;
  private readonly pendingMetrics = new Map<number, (metrics: MetricsJson | null) => void>();
  private nextRequest = 0;
  /** The primary's own figures: its process, the workers running, restarts. */
  private readonly registry = new Registry();
  private readonly restarts = new Counter({
    name: 'ridetrace_worker_restarts_total',
    help: 'Server processes restarted by the primary, by reason (died, rolling restart)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(private readonly opts: PrimaryOptions) {
    this.slots = Array.from({ length: opts.workers }, () => ({
      worker: null,
      startedAt: 0,
      backoff: new RestartBackoff(),
      timer: undefined,
    }));
    const running: Gauge = new Gauge({
      name: 'ridetrace_workers',
      help: 'Server processes listening (WORKERS when all are up)',
      registers: [this.registry],
      collect: () => running.set(this.slots.filter((s) => s.worker && this.listening.has(s.worker)).length),
    });
    collectDefaultMetrics({ register: this.registry });
    cluster.on('message', (worker, message: unknown) => {
      if (!isMessage(message) || message.type !== METRICS_REPLY) return;
      this.pendingMetrics.get(message.id)?.(message.metrics);
    });
  }

  /** Forks every worker; resolves once all listen, rejects if one fails to start. */
  async start(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const worker = this.fork(slot);
        await this.untilListening(worker);
      }),
    );
  }

  private fork(slot: Slot): Worker {
    const worker = cluster.fork(this.opts.env);
    slot.worker = worker;
    slot.startedAt = Date.now();
    worker.on('listening', () => this.listening.add(worker));
    worker.on('exit', (code, signal) => this.exited(slot, worker, code, signal));
    return worker;
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    // A worker replaced by a rolling restart, or stopped with the others, is not restarted.
    if (slot.worker !== worker || this.stopping) return;
    slot.worker = null;
    const delayMs = slot.backoff.next(Date.now() - slot.startedAt);
    this.opts.log.error(
      { pid: worker.process.pid, code, signal, restartInMs: delayMs },
      'server process died; starting another',
    );
    this.restarts.inc({ reason: 'died' });
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (!this.stopping) this.fork(slot);
    }, delayMs);
  }

  /** Resolves when `worker` listens; rejects when it exits first or takes longer than the start timeout. */
  private untilListening(worker: Worker): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        worker.off('listening', onListening);
        worker.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      const onListening = () => done();
      const onExit = (code: number | null, signal: string | null) =>
        done(new Error(`server process ${worker.process.pid} exited (${signal ?? code}) before listening`));
      const timer = setTimeout(
        () => done(new Error(`server process ${worker.process.pid} did not listen within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (this.listening.has(worker)) return done();
      worker.on('listening', onListening);
      worker.on('exit', onExit);
    });
  }

  /** Asks a worker to stop gracefully; kills it when it takes longer than the stop timeout. Its exit code. */
  private stopWorker(worker: Worker): Promise<number | null> {
    if (worker.isDead()) return Promise.resolve(worker.process.exitCode);
    const timeoutMs = this.opts.stopTimeoutMs ?? 15_000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.opts.log.warn({ pid: worker.process.pid }, 'server process did not stop in time; killing it');
        worker.process.kill('SIGKILL');
      }, timeoutMs);
      worker.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      if (worker.isConnected()) worker.send({ type: STOP } satisfies Message);
      else worker.process.kill('SIGTERM');
    });
  }

  /**
   * SIGHUP: each worker in turn is replaced by a new one (new code, new configuration files), which listens before
   * the old one stops gracefully, so the port always has a listener. A replacement that fails to start ends the
   * restart and leaves the old workers serving. Resolves when done; a second call meanwhile joins the first.
   */
  rollingRestart(): Promise<void> {
    this.restarting ??= (async () => {
      for (const slot of this.slots) {
        const old = slot.worker;
        if (this.stopping) return;
        // A slot waiting out a crash backoff starts a new worker anyway.
        if (!old) continue;
        const fresh = cluster.fork(this.opts.env);
        fresh.on('listening', () => this.listening.add(fresh));
        try {
          await this.untilListening(fresh);
        } catch (err) {
          this.opts.log.error({ err }, 'rolling restart stopped: a new server process did not start');
          fresh.process.kill('SIGKILL');
          return;
        }
        slot.worker = fresh;
        slot.startedAt = Date.now();
        fresh.on('exit', (code, signal) => this.exited(slot, fresh, code, signal));
        this.restarts.inc({ reason: 'rolling' });
        await this.stopWorker(old);
      }
    })().finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  /** SIGTERM/SIGINT: every worker stops gracefully (at once); true when all exited with 0. */
  async stop(): Promise<boolean> {
    this.stopping = true;
    for (const slot of this.slots) clearTimeout(slot.timer);
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const codes = await Promise.all(workers.map((w) => this.stopWorker(w)));
    return codes.every((c) => c === 0);
  }

  /**
   * The workers' metrics summed (prom-client's aggregation; gauges say how they combine) with the primary's own.
   * A worker that does not answer within `timeoutMs` is left out of this scrape rather than failing it.
   */
  async clusterMetrics(timeoutMs = 3000): Promise<{ contentType: string; text: string }> {
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined && this.listening.has(w) && w.isConnected(),
    );
    const replies = await Promise.all(workers.map((w) => this.askMetrics(w, timeoutMs)));
    const all = [
      ...replies.filter((r): r is MetricsJson => r !== null),
      await this.registry.getMetricsAsJSON(),
    ];
    const registry = AggregatorRegistry.aggregate(all);
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  private askMetrics(worker: Worker, timeoutMs: number): Promise<MetricsJson | null> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish = (metrics: MetricsJson | null) => {
        clearTimeout(timer);
        this.pendingMetrics.delete(id);
        resolve(metrics);
      };
      this.pendingMetrics.set(id, finish);
      try {
        worker.send({ type: METRICS_REQUEST, id } satisfies Message);
      } catch {
        finish(null);
      }
    });
  }
}

export interface WorkerHooks {
  /** This worker's metrics registry, in prom-client's JSON form. */
  metrics(): Promise<MetricsJson>;
  /** Graceful stop; the process exits when it resolves. */
  stop(reason: string): Promise<void>;
}

/**
 * A worker's side: stops when the primary says so, when the primary is gone (the IPC channel closes) or on
 * SIGTERM/SIGINT sent to it directly (a terminal's Ctrl-C reaches every process of the group); answers the
 * primary's metrics requests. SIGHUP is the primary's to act on.
 */
export function obeyPrimary(hooks: WorkerHooks): void {
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === STOP) void hooks.stop('primary');
    else if (message.type === METRICS_REQUEST) {
      const reply = (metrics: MetricsJson | null) => {
        if (process.connected)
          process.send?.({ type: METRICS_REPLY, id: message.id, metrics } satisfies Message);
      };
      hooks.metrics().then(reply, () => reply(null));
    }
  });
  process.on('disconnect', () => void hooks.stop('primary gone'));
  process.on('SIGTERM', () => void hooks.stop('SIGTERM'));
  process.on('SIGINT', () => void hooks.stop('SIGINT'));
  process.on('SIGHUP', () => undefined);
}

export const isClusterWorker = (): boolean => cluster.isWorker;
