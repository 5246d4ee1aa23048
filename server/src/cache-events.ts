import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './db/index.js';

/**
 * What one process tells the others about keys it destroyed or replaced, through Postgres LISTEN/NOTIFY on one
 * channel: each process drops or re-reads its copy at once instead of at its next periodic re-read (which stays, for
 * when a notification is missed). Payloads are small JSON objects and carry no key material.
 */
export const CACHE_CHANNEL = 'ridetrace_cache';

export type CacheEvent =
  /** A purge destroyed the day key of `day` (and dropped its partition). */
  | { kind: 'day-destroyed'; day: string }
  /** A code-signing key was added (rotation): the active key and retirement times changed. */
  | { kind: 'code-keys' }
  /** The blind-index generations in use changed (a rotation step), or a generation's key was destroyed. */
  | { kind: 'index-keys' }
  /** A purge deleted a closed case at the end of its retention: its facts must not serve a trace any more. */
  | { kind: 'case-purged'; id: string };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event of a notification payload; null for anything else (another version's event, garbage). */
export function parseCacheEvent(payload: string | undefined): CacheEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(payload ?? '');
  } catch {
    return null;
  }
  const e = v as { kind?: unknown; day?: unknown; id?: unknown } | null;
  if (e?.kind === 'code-keys' || e?.kind === 'index-keys') return { kind: e.kind };
  if (e?.kind === 'day-destroyed' && typeof e.day === 'string' && DAY.test(e.day))
    return { kind: 'day-destroyed', day: e.day };
  if (e?.kind === 'case-purged' && typeof e.id === 'string' && UUID.test(e.id))
    return { kind: 'case-purged', id: e.id };
  return null;
}

/**
 * Tells every process (this one included). Inside a transaction the notification goes out when it commits, and not
 * at all when it rolls back: send it in the transaction that makes the change.
 */
export async function notifyCacheEvent(db: Db, event: CacheEvent): Promise<void> {
  await sql`select pg_notify(${CACHE_CHANNEL}, ${JSON.stringify(event)})`.execute(db);
}

export interface CacheEventsOptions {
  connectionString: string;
  onEvent(event: CacheEvent): void;
  /**
   * After every (re)connection: notifications sent while this process was not listening are lost, so whatever they
   * might have said is read again.
   */
  onListening(): void;
  onError(err: unknown, msg: string): void;
  /** Waits between reconnection attempts: from `minMs`, doubling up to `maxMs`. */
  retry?: { minMs: number; maxMs: number };
}

export interface CacheEventsListener {
  /** Settles after the first attempt to listen, whether it succeeded or not (it retries in the background). */
  readonly ready: Promise<void>;
  /** Whether the listening connection is up now. */
  readonly listening: boolean;
  close(): Promise<void>;
}

/** A dedicated connection (not one of the pool's) that listens on CACHE_CHANNEL and reconnects when it is lost. */
export function listenCacheEvents(opts: CacheEventsOptions): CacheEventsListener {
  const retry = opts.retry ?? { minMs: 500, maxMs: 30_000 };
  let client: pg.Client | null = null;
  let listening = false;
  let closed = false;
  let delay = retry.minMs;
  let timer: NodeJS.Timeout | undefined;

  const reconnectLater = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(retry.maxMs, delay * 2);
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({
      connectionString: opts.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 3000,
      application_name: 'ridetrace-cache-events',
    });
    client = c;
    let lost = false;
    const onLost = (err?: unknown) => {
      if (lost) return;
      lost = true;
      const was = client === c && listening;
      if (client === c) {
        client = null;
        listening = false;
      }
      if (!closed) {
        opts.onError(err, `cache events: ${was ? 'listening connection lost' : 'cannot listen'}; retrying`);
        void c.end().catch(() => undefined);
        reconnectLater();
      }
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', (msg) => {
      if (msg.channel !== CACHE_CHANNEL) return;
      const event = parseCacheEvent(msg.payload);
      if (event) opts.onEvent(event);
    });
    try {
      await c.connect();
      await c.query(`listen ${CACHE_CHANNEL}`);
    } catch (err) {
      onLost(err);
      return;
    }
    if (closed || lost) {
      await c.end().catch(() => undefined);
      return;
    }
    listening = true;
    delay = retry.minMs;
    opts.onListening();
  };

  const ready = connect();
  return {
    ready,
    get listening() {
      return listening;
    },
    close: async () => {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      listening = false;
      await c?.end().catch(() => undefined);
    },
  };
}
