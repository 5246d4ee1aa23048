import { listenCacheEvents, type CacheEvent, type CacheEventsListener } from './cache-events.js';
import type { AppContext } from './context.js';
import { poolOf } from './db/index.js';
import { caseFactsOf } from './modules/cases/cases.service.js';
import { cutoffDay } from './modules/retention/retention.service.js';
import { forgetRideDay } from './modules/rides/rides.service.js';

/**
 * This process's caches that another process can make wrong, and how each stays right:
 * - day keys: a purge destroys them; dropped here on the purging process's notification (hourly anyway);
 * - code-signing keys and blind-index generations: rotations change them; re-read on notification (and whenever
 *   this process's view is older than CODE_KEYS_MAX_AGE_MS / INDEX_KEYS_MAX_AGE_SECONDS);
 * - case facts (cases.service.ts): a case's subjects and window never change once it is opened, and its status, the
 *   one thing that does, is never cached; a purged case is dropped on the purging process's notification.
 */
export function applyCacheEvent(ctx: AppContext, event: CacheEvent, onError: (err: unknown) => void): void {
  switch (event.kind) {
    case 'day-destroyed':
      ctx.keyring.forgetDayKey(event.day);
      forgetRideDay(ctx, event.day);
      return;
    case 'code-keys':
      ctx.keyring.invalidateCodeKeys();
      ctx.keyring.readCodeKeys(ctx.db, ctx.now()).catch(onError);
      return;
    case 'index-keys':
      ctx.keyring.invalidateIndexKeys();
      ctx.keyring.readIndexKeys(ctx.db, ctx.now()).catch(onError);
      return;
    case 'case-purged':
      caseFactsOf(ctx).delete(event.id);
      return;
  }
}

/** Whatever a notification missed while this process was not listening: every cache above, read again. */
function resync(ctx: AppContext, onError: (err: unknown) => void): void {
  ctx.keyring.forgetDaysBefore(cutoffDay(ctx, ctx.config.rides.retentionDays));
  for (const kind of ['code-keys', 'index-keys'] as const) applyCacheEvent(ctx, { kind }, onError);
}

/**
 * Follows the other processes' changes (cache-events.ts) for this context's caches; null when CACHE_EVENTS=off or
 * the database was not opened with createDb (no connection string to listen with).
 */
export function followCacheEvents(
  ctx: AppContext,
  onError: (err: unknown, msg: string) => void,
): CacheEventsListener | null {
  const connectionString = poolOf(ctx.db)?.options.connectionString;
  if (!connectionString || !ctx.config.cacheEvents) return null;
  const failed = (err: unknown) => onError(err, 'cache events: re-reading keys failed');
  return listenCacheEvents({
    connectionString,
    onEvent: (event) => applyCacheEvent(ctx, event, failed),
    // Also the first time: a change between the keyring's first read and the LISTEN would be missed otherwise.
    onListening: () => resync(ctx, failed),
    onError,
  });
}
