import type { Db } from '../../db/index.js';
import { insertRides, type InsertedRide, type NewRide } from './rides.repository.js';

interface Waiter {
  ride: NewRide;
  resolve: (r: InsertedRide | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for scans. Concurrent rides are written by one multi-row INSERT statement (one transaction, one
 * WAL flush) instead of one each. No artificial wait: a ride is written at once when fewer than `maxInFlight`
 * batches are running; otherwise it joins the next batch, which starts as soon as a running one commits (so the
 * wait is bounded by one batch's commit, about a millisecond). Every caller is answered only after its own
 * batch has committed. When a batch fails, its rides are retried one by one, so one bad ride fails alone.
 */
export class RideBatcher {
  private queue: Waiter[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: { maxBatch: number; maxInFlight: number; onBatch?: (size: number) => void },
  ) {}

  /** Batches written and rides in them, since start (for benchmarks and monitoring). */
  readonly stats = { batches: 0, rides: 0 };

  insert(ride: NewRide): Promise<InsertedRide | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ride, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Up to maxBatch waiters with distinct request keys (a duplicate waits for the next batch). */
  private takeBatch(): Waiter[] {
    const batch: Waiter[] = [];
    const rest: Waiter[] = [];
    const keys = new Set<string>();
    for (const w of this.queue) {
      const key = w.ride.requestKey.toString('hex');
      if (batch.length < this.opts.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(w);
      } else {
        rest.push(w);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async write(batch: Waiter[]): Promise<void> {
    this.stats.batches++;
    this.stats.rides += batch.length;
    this.opts.onBatch?.(batch.length);
    try {
      const rows = await insertRides(
        this.db,
        batch.map((w) => w.ride),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const w of batch) w.resolve(byId.get(w.ride.id));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
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
}
