import Taro from '@tarojs/taro';
import type { ConfirmBody, ConfirmResult, Ride, ScanPreview } from '@ridetrace/shared';
import { api, setPassengerToken } from './api';
import { ApiError, toApiError } from './api-error';
import { readStore, removeStore, writeStore, type QueuedScan, type QueueReport } from './storage';
import { uuidV4 } from './uuid';

export type ScanOutcome =
  | { kind: 'registered'; ride: Ride }
  | { kind: 'confirm'; preview: ScanPreview }
  | { kind: 'queued'; item: QueuedScan };

/**
 * The content handed to the scan page: WeChat passes a scanned URL as `q` (URL-encoded), our own links as `code`.
 * Returns null when neither is there.
 */
export function scannedCodeFromParams(params: Record<string, string | undefined>): string | null {
  const raw = params.q ?? params.code;
  if (!raw) return null;
  let s = raw.trim();
  if (/%[0-9a-f]{2}/i.test(s)) {
    try {
      s = decodeURIComponent(s);
    } catch {
      /* keep as is: the server will say code_malformed */
    }
  }
  return s || null;
}

/** Same shape check as `extractCodeToken` in shared/ (copied: only the identity rules have a TypeBox-free entry). */
export function looksLikeRideCode(scanned: string): boolean {
  return /(?:^|\/c\/)[a-z2-7]{32}\/?(?:[?#].*)?$/i.test(scanned.trim());
}

async function postRide(item: QueuedScan, withScanTime: boolean): Promise<ScanOutcome> {
  const data = await api().scan({
    code: item.code,
    clientRideId: item.clientRideId,
    ...(withScanTime ? { scannedAt: item.scannedAt } : {}),
  });
  if (data.result === 'registered') {
    writeStore('rt.lastRide', data.ride);
    if (data.repeat) writeStore('rt.lastRideRepeat', true);
    else removeStore('rt.lastRideRepeat');
    return { kind: 'registered', ride: data.ride };
  }
  writeStore('rt.pendingPreview', data.preview);
  return { kind: 'confirm', preview: data.preview };
}

/**
 * Registers a scan now. Without network the scan is queued (same clientRideId and the scan time) and sent later
 * by `flushQueue`; every other error is thrown for the page to show.
 */
export async function submitScan(code: string): Promise<ScanOutcome> {
  if (!looksLikeRideCode(code)) throw new ApiError('code_malformed', 0);
  const item: QueuedScan = { code, clientRideId: uuidV4(), scannedAt: new Date().toISOString() };
  try {
    // Sent at once: the server's clock is the boarding time (a wrong phone clock cannot hurt).
    const outcome = await postRide(item, false);
    if (queuedScans().length > 0) void flushQueue();
    return outcome;
  } catch (err) {
    const e = toApiError(err);
    if (!e.isNetwork) throw e;
    return { kind: 'queued', item: enqueue(item) };
  }
}

// ---- offline queue ----------------------------------------------------------------------------------------

const queueListeners = new Set<() => void>();

function notifyQueue(): void {
  for (const l of queueListeners) l();
}

export function subscribeQueue(listener: () => void): () => void {
  queueListeners.add(listener);
  return () => queueListeners.delete(listener);
}

export function queuedScans(): QueuedScan[] {
  return readStore('rt.queue') ?? [];
}

/** A second scan of the same poster within 5 minutes while offline is the same ride (double tap, reopening). */
const DUPLICATE_WINDOW_MS = 5 * 60_000;

function enqueue(item: QueuedScan): QueuedScan {
  const queue = queuedScans();
  const same = queue.find(
    (q) => q.code === item.code && Date.parse(item.scannedAt) - Date.parse(q.scannedAt) < DUPLICATE_WINDOW_MS,
  );
  if (same) return same;
  writeStore('rt.queue', [...queue, item]);
  notifyQueue();
  return item;
}

function dequeue(clientRideId: string): void {
  writeStore(
    'rt.queue',
    queuedScans().filter((q) => q.clientRideId !== clientRideId),
  );
}

export function queueReport(): QueueReport | null {
  return readStore('rt.queueReport');
}

export function clearQueueReport(): void {
  removeStore('rt.queueReport');
  notifyQueue();
}

function report(update: (r: QueueReport) => void): void {
  const r = queueReport() ?? { delivered: [], failed: [] };
  update(r);
  writeStore('rt.queueReport', r);
}

let flushing: Promise<void> | null = null;
let watching = false;

/** Retries while the app is open, after a transient failure: 2 s, 4 s, 8 s … up to a minute, with jitter. */
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 60_000;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let retryAttempt = 0;

function cancelRetry(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
}

function scheduleRetry(): void {
  if (!watching || retryTimer) return;
  const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** retryAttempt);
  retryAttempt++;
  // Jitter spreads the phones of a whole bus that come back online together (or were all answered 503).
  retryTimer = setTimeout(
    () => {
      retryTimer = null;
      void flushQueue();
    },
    base * (0.8 + Math.random() * 0.4),
  );
}

/**
 * Sends queued scans, oldest first, each with its own clientRideId and scannedAt, so a retry after a lost
 * reply returns the ride already registered (200) and never creates a second one. One flush at a time.
 * Stops at the first network or transient server error: the scan is kept and, while the app is open
 * (`startQueueWatcher`), retried with backoff as well as on the next launch or network change. Drops a scan the
 * server refuses, with a report.
 */
export function flushQueue(): Promise<void> {
  if (flushing) return flushing;
  const run = async (): Promise<boolean> => {
    for (const item of queuedScans()) {
      try {
        const outcome = await postRide(item, true);
        dequeue(item.clientRideId);
        if (outcome.kind === 'registered') report((r) => r.delivered.push(outcome.ride));
      } catch (err) {
        const e = toApiError(err);
        if (e.isTransient) return false;
        dequeue(item.clientRideId);
        report((r) => r.failed.push({ code: item.code, clientRideId: item.clientRideId, error: e.code }));
      }
    }
    return true;
  };
  cancelRetry();
  // Cleared in a later microtask, never before the assignment (an empty queue finishes synchronously).
  flushing = run()
    .then((done) => {
      if (done) retryAttempt = 0;
      else scheduleRetry();
    })
    .finally(() => {
      flushing = null;
      notifyQueue();
    });
  return flushing;
}

/** Retries the queue now (app launch) and whenever the network comes back. */
export function startQueueWatcher(): void {
  void flushQueue();
  if (watching) return;
  watching = true;
  Taro.onNetworkStatusChange((res) => {
    if (res.isConnected) void flushQueue();
  });
  // h5: Taro's network events need navigator.connection 'change'; the browser's 'online' event is surer.
  if (process.env.TARO_ENV === 'h5' && typeof window !== 'undefined') {
    window.addEventListener('online', () => void flushQueue());
  }
}

/** Test hook: forget the watcher (and a scheduled retry) so a test can start it again. */
export function resetQueueWatcherForTests(): void {
  watching = false;
  flushing = null;
  cancelRetry();
  retryAttempt = 0;
}

// ---- confirmation ------------------------------------------------------------------------------------------

export function pendingPreview(): ScanPreview | null {
  return readStore('rt.pendingPreview');
}

/** First-time confirmation: stores the renewed token and registers the held scan (ride may be null). */
export async function confirmIdentity(body: ConfirmBody): Promise<ConfirmResult> {
  const data = await api().confirm(body);
  setPassengerToken(data.accessToken, data.expiresIn);
  writeStore('rt.identity', { name: body.name, phone: body.phone ?? '' });
  writeStore('rt.profile', data.passenger);
  removeStore('rt.pendingPreview');
  if (data.ride) {
    writeStore('rt.lastRide', data.ride);
    removeStore('rt.lastRideRepeat');
  }
  notifyQueue();
  return data;
}
