import { performance } from 'node:perf_hooks';
import type { Db } from '../../db/index.js';
import { isDatabaseUnavailable, isQueryTimeout } from '../../db/errors.js';
import { AppError } from '../../errors.js';
import { insertRides, type NewRide, type WrittenRide } from './rides.repository.js';

interface Waiter {
  ride: NewRide;
  /** The request key as a string, for the duplicate check of takeBatch (computed once per ride). */
  key: string;
  /** The passenger's day key and the carrier: a repeat scan must see the earlier ride committed. */
  rider: string;
  /** When the ride stops waiting for a batch (ms since epoch). */
  deadline: number;
  resolve: (r: WrittenRide | undefined) => void;
  reject: (err: unknown) => void;
}

export interface RideBatcherOptions {
  /** Rides per INSERT statement. */
  maxBatch: number;
  /** INSERT statements running at once; the rest of the rides queue for the next batch. */
  maxInFlight: number;
  /**
   * How long a ride may wait in the queue for a batch to start. Normally a ride waits for at most one running
   * batch (about a millisecond); a longer wait means the database is stuck, and the scan is answered 503 at
   * once (the client retries with the same clientRideId) instead of queueing behind it.
   */
  maxQueueMs: number;
  onBatch?: (size: number) => void;
  /** A batch's INSERT finished (committed, or failed as a whole), after `seconds`. */
  onCommit?: (size: number, seconds: number, ok: boolean) => void;
  /** Rides refused after waiting `maxQueueMs`. */
  onExpire?: (count: number) => void;
}

/**
 * Group commit for scans. Concurrent rides are written by one multi-row INSERT statement (one transaction, one
 * WAL flush) instead of one each. No artificial wait: a ride is written at once when fewer than `maxInFlight`
 * batches are running; otherwise it joins the next batch, which starts as soon as a running one commits. A ride
 * still queued after `maxQueueMs` is refused with 503 and never written. Every caller is answered only after
 * its own batch has committed. When a batch fails on its data, its rides are retried one by one, so one bad
 * ride fails alone; when it fails because the database is unreachable or too slow, all of them fail at once.
 */
export class RideBatcher {
  private queue: Waiter[] = [];
  private inFlight = 0;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly opts: RideBatcherOptions,
  ) {}

  /** Batches written, rides in them, and rides refused after waiting too long, since start. */
  readonly stats = { batches: 0, rides: 0, expired: 0 };

  insert(ride: NewRide): Promise<WrittenRide | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        ride,
        key: ride.requestKey.toString('latin1'),
        rider: `${ride.carrierId}:${ride.passengerKey.toString('latin1')}`,
        deadline: Date.now() + this.opts.maxQueueMs,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.write(batch);
    }
    this.scheduleSweep();
  }

  /** Arms one timer for the oldest queued ride (the queue keeps arrival order). */
  private scheduleSweep(): void {
    if (this.sweepTimer || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0]!.deadline - Date.now());
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      this.expire();
      this.scheduleSweep();
    }, wait);
    this.sweepTimer.unref();
  }

  private expire(): void {
    const now = Date.now();
    const keep: Waiter[] = [];
    for (const w of this.queue) {
      if (w.deadline > now) {
        keep.push(w);
        continue;
      }
      this.stats.expired++;
      w.reject(
        new AppError(
          'service_unavailable',
          'The database is not keeping up; the ride was not registered. Retry with the same clientRideId.',
        ),
      );
    }
    if (keep.length < this.queue.length) this.opts.onExpire?.(this.queue.length - keep.length);
    this.queue = keep;
  }

  /**
   * Up to maxBatch waiters with distinct request keys and distinct riders (a duplicate waits for the next batch,
   * where it finds the first one written).
   */
  private takeBatch(): Waiter[] {
    const batch: Waiter[] = [];
    const rest: Waiter[] = [];
    const keys = new Set<string>();
    for (const w of this.queue) {
      if (batch.length < this.opts.maxBatch && !keys.has(w.key) && !keys.has(w.rider)) {
        keys.add(w.key);
        keys.add(w.rider);
        batch.push(w);
      } else {
        rest.push(w);
      }
    }
    this.queue = rest;
    return batch;
  }

  /**
   * Writes one batch. The next batch is started before this one's callers are answered, so Postgres works on it
   * while the server writes the replies (answering first left Postgres idle while the server wrote them).
   */
  private async write(batch: Waiter[]): Promise<void> {
    this.stats.batches++;
    this.stats.rides += batch.length;
    this.opts.onBatch?.(batch.length);
    let rows: WrittenRide[];
    const started = performance.now();
    try {
      rows = await insertRides(
        this.db,
        batch.map((w) => w.ride),
      );
    } catch (err) {
      this.opts.onCommit?.(batch.length, (performance.now() - started) / 1000, false);
      await this.writeFailed(batch, err);
      this.finished();
      return;
    }
    this.opts.onCommit?.(batch.length, (performance.now() - started) / 1000, true);
    this.finished();
    const byId = new Map(rows.map((r) => [r.id, r]));
    // After the pool has sent the next statement: it hands out the connection in a process.nextTick callback
    // queued just before this one.
    process.nextTick(() => {
      for (const w of batch) w.resolve(byId.get(w.ride.id));
    });
  }

  private finished(): void {
    this.inFlight--;
    this.pump();
  }

  private async writeFailed(batch: Waiter[], err: unknown): Promise<void> {
    // Nothing of the batch was written. Retrying row by row only helps when a row's data was at fault.
    if (batch.length === 1 || isDatabaseUnavailable(err) || isQueryTimeout(err)) {
      for (const w of batch) w.reject(err);
      return;
    }
    await Promise.all(
      batch.map((w) =>
        insertRides(this.db, [w.ride]).then(
          (rows) => w.resolve(rows[0]),
          (e: unknown) => w.reject(e),
        ),
      ),
    );
  }
}
