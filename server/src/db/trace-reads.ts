import { sql } from 'kysely';
import { isDatabaseUnavailable, pgCode } from './errors.js';
import { createDb, type Db } from './index.js';

export type TraceTarget = 'replica' | 'primary';

export interface TraceReadsOptions {
  primary: Db;
  /** A hot standby of the primary; none: every read goes to the primary. */
  standby?: Db | undefined;
  /** Replay lag beyond which reads go to the primary. */
  maxLagMs: number;
  /** How often the lag is sampled (default 250 ms). */
  sampleMs?: number;
  /** The standby became usable or unusable (for the log). */
  onChange?: (usable: boolean, why: string) => void;
  /** Destroy `standby` on close (it was opened for this object). */
  ownsStandby?: boolean;
}

/** How long primary LSN samples are kept: the lag can be measured up to this far back. */
const HISTORY_MS = 60_000;
/** How often a read waiting for the standby to replay its fence looks again. */
const FENCE_POLL_MS = 5;

interface Sample {
  at: number;
  lsn: bigint;
}

interface Waiter {
  fence: bigint;
  deadline: number;
  resolve: (replayed: boolean) => void;
}

/**
 * Where exposure, case-ride and itinerary reads run: the hot standby when it is close enough behind the primary,
 * else the primary.
 *
 * A monitor samples the primary's WAL insert position every `sampleMs` and keeps a minute of (time, LSN); the lag is
 * how long ago the newest sample the standby has replayed was taken. Unlike `now() - pg_last_xact_replay_timestamp()`,
 * an idle primary then reads as no lag. Besides, each read takes the primary's insert position when it starts and
 * waits (at most what the lag limit leaves) until the standby has replayed it, so a read on the standby sees every
 * ride acknowledged before it started; otherwise it reads the primary. A standby that cannot be reached, or a read
 * on it failing with a connection error or a recovery conflict, sends the read to the primary, and the monitor
 * keeps trying.
 *
 * Only for reads outside a transaction: the callers' audit and access-log writes stay on the primary.
 */
export class TraceReads {
  /** Reads started on each target since start (a read that fell back from the standby counts on both). */
  readonly reads: Record<TraceTarget, number> = { replica: 0, primary: 0 };
  private readonly primary: Db;
  private readonly standby: Db | undefined;
  private readonly maxLagMs: number;
  private readonly sampleMs: number;
  private readonly onChange: (usable: boolean, why: string) => void;
  private readonly ownsStandby: boolean;
  private history: Sample[] = [];
  /** WAL block size of the primary (for positions just after a page header); read with the first sample. */
  private blockSize = 8192n;
  /** The standby's last replayed position; null while it cannot be reached or is not a standby. */
  private replayed: bigint | null = null;
  private lag: number | null = null;
  private usable = false;
  private waiters: Waiter[] = [];
  private polling = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: TraceReadsOptions) {
    this.primary = opts.primary;
    this.standby = opts.standby;
    this.maxLagMs = opts.maxLagMs;
    this.sampleMs = opts.sampleMs ?? 250;
    this.onChange = opts.onChange ?? (() => undefined);
    this.ownsStandby = opts.ownsStandby ?? false;
  }

  /** True when a standby is configured (whether or not it is usable now). */
  get hasStandby(): boolean {
    return this.standby !== undefined;
  }

  /** The standby's replay lag (ms) at the last sample; null: no standby, or it cannot be reached. */
  lagMs(): number | null {
    return this.standby && this.usable ? this.lag : null;
  }

  /** Starts the lag monitor (nothing without a standby); its first sample is taken before this resolves. */
  async start(): Promise<void> {
    if (!this.standby || this.timer || this.closed) return;
    await this.sample();
    this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.resolve(false);
    if (this.ownsStandby) await this.standby?.destroy();
  }

  /**
   * Runs `read` on the standby when it has replayed everything committed before now within the lag limit, else on
   * the primary; a standby failing under it (connection lost, recovery conflict) runs it again on the primary.
   * `read` must only read: it may run twice.
   */
  async read<T>(read: (db: Db, target: TraceTarget) => Promise<T>): Promise<T> {
    if (this.standby && (await this.caughtUp())) {
      this.reads.replica++;
      try {
        return await read(this.standby, 'replica');
      } catch (err) {
        if (!standbyFailure(err)) throw err;
        if (isDatabaseUnavailable(err)) this.setUsable(false, `a read failed: ${(err as Error).message}`);
      }
    }
    this.reads.primary++;
    return read(this.primary, 'primary');
  }

  /** Whether the standby has replayed (or replays within what the lag limit leaves) the primary's WAL of now. */
  private async caughtUp(): Promise<boolean> {
    if (!this.usable || this.lag === null || this.lag > this.maxLagMs) return false;
    const fence = await insertPosition(this.primary);
    if (this.covered(this.replayed, fence)) return true;
    return new Promise<boolean>((resolve) => {
      this.waiters.push({ fence, deadline: Date.now() + this.maxLagMs - (this.lag ?? 0), resolve });
      void this.pollFences();
    });
  }

  /** One loop for every read waiting for a fence: the standby's replay position every FENCE_POLL_MS. */
  private async pollFences(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waiters.length > 0 && !this.closed) {
        await sleep(FENCE_POLL_MS);
        try {
          this.replayed = await replayPosition(this.standby!);
        } catch (err) {
          this.setUsable(false, `replay position unreadable: ${(err as Error).message}`);
        }
        const now = Date.now();
        const waiting: Waiter[] = [];
        for (const w of this.waiters) {
          const done = this.usable && this.covered(this.replayed, w.fence);
          if (done || !this.usable || now >= w.deadline) w.resolve(done);
          else waiting.push(w);
        }
        this.waiters = waiting;
      }
    } finally {
      this.polling = false;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.sample().finally(() => this.schedule());
    }, this.sampleMs);
    // The monitor alone must not keep a process (a script, a test) alive.
    this.timer.unref();
  }

  /** One sample: the primary's position first, then the standby's (so the lag is never under-estimated). */
  private async sample(): Promise<void> {
    const at = Date.now();
    try {
      const p = await sql<{
        lsn: string;
        block: number;
      }>`select pg_current_wal_insert_lsn()::text as lsn, current_setting('wal_block_size')::int as block`.execute(
        this.primary,
      );
      this.blockSize = BigInt(p.rows[0]!.block);
      this.history.push({ at, lsn: parseLsn(p.rows[0]!.lsn) });
    } catch {
      // The primary cannot be reached: reads go nowhere better; the history simply has a gap.
    }
    this.history = this.history.filter((s, i, all) => s.at >= at - HISTORY_MS || i === all.length - 1);
    let replayed: bigint | null;
    try {
      replayed = await replayPosition(this.standby!);
    } catch (err) {
      this.setUsable(false, (err as Error).message);
      return;
    }
    this.replayed = replayed;
    const now = Date.now();
    if (replayed === null) {
      this.setUsable(false, 'TRACE_DATABASE_URL is not a hot standby (pg_is_in_recovery() is false)');
      return;
    }
    let newest: Sample | undefined;
    for (let i = this.history.length - 1; i >= 0 && !newest; i--)
      if (this.covered(replayed, this.history[i]!.lsn)) newest = this.history[i];
    // Behind every sample kept: at least as far behind as the oldest one.
    this.lag = newest ? now - newest.at : now - (this.history[0]?.at ?? at);
    this.setUsable(true, 'replaying');
  }

  /**
   * Whether replay position `replayed` includes everything before `lsn`. A position just after a page header (what
   * the insert position reads when the last record ended on the page boundary) is reached at the boundary.
   */
  private covered(replayed: bigint | null, lsn: bigint): boolean {
    if (replayed === null) return false;
    if (replayed >= lsn) return true;
    const inPage = lsn % this.blockSize;
    return inPage <= LONG_PAGE_HEADER && replayed >= lsn - inPage;
  }

  private setUsable(usable: boolean, why: string): void {
    if (!usable) this.lag = null;
    if (usable === this.usable) return;
    this.usable = usable;
    this.onChange(usable, why);
  }
}

/** Size of the longest WAL page header (the first page of a segment): no record ends within it. */
const LONG_PAGE_HEADER = 40n;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `X/Y` (hex halves) as a number. */
export function parseLsn(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

async function insertPosition(db: Db): Promise<bigint> {
  const r = await sql<{ lsn: string }>`select pg_current_wal_insert_lsn()::text as lsn`.execute(db);
  return parseLsn(r.rows[0]!.lsn);
}

/** The standby's replay position; null when the server is not in recovery (not a standby). */
async function replayPosition(db: Db): Promise<bigint | null> {
  const r = await sql<{
    lsn: string | null;
  }>`select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()::text end as lsn`.execute(db);
  const lsn = r.rows[0]?.lsn;
  return lsn ? parseLsn(lsn) : null;
}

/**
 * Failures of the standby that the primary does not share: the connection (it is down or restarting) and recovery
 * conflicts (replay cancelled the query: SQLSTATE 40001 on a standby).
 */
function standbyFailure(err: unknown): boolean {
  return isDatabaseUnavailable(err) || pgCode(err) === '40001';
}

/** Reads on the primary only (scripts, or no TRACE_DATABASE_URL). */
export function primaryTraceReads(primary: Db): TraceReads {
  return new TraceReads({ primary, maxLagMs: 0 });
}

/**
 * Trace reads for a server: on the standby of `standbyUrl` (its own pool of `poolSize`) when given, else the
 * primary's. The caller starts the monitor and closes it.
 */
export function openTraceReads(
  primary: Db,
  opts: {
    standbyUrl: string | undefined;
    maxLagMs: number;
    poolSize: number;
    onChange?: (usable: boolean, why: string) => void;
  },
): TraceReads {
  if (!opts.standbyUrl) return primaryTraceReads(primary);
  // A standby that does not answer a connection within a second is skipped for the primary, not waited for.
  const standby = createDb({
    connectionString: opts.standbyUrl,
    max: opts.poolSize,
    min: 0,
    connectionTimeoutMillis: 1000,
  });
  return new TraceReads({
    primary,
    standby,
    maxLagMs: opts.maxLagMs,
    ownsStandby: true,
    ...(opts.onChange ? { onChange: opts.onChange } : {}),
  });
}
