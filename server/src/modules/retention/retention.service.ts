import type { AppContext } from '../../context.js';
import { appendAudit } from '../audit/audit.service.js';
import { dayOf } from '../rides/ride-time.js';
import { forgetRideDay } from '../rides/rides.service.js';
import * as repo from './retention.repository.js';

export interface PurgeDay {
  day: string;
  rows: number;
  /** The day's data key existed and is (or, in a dry run, would be) destroyed. */
  keyDestroyed: boolean;
  partitionDropped: boolean;
}

export interface PurgeReport {
  dryRun: boolean;
  /** Days strictly before this one are purged. */
  before: string;
  days: PurgeDay[];
  rows: number;
  /** Day keys destroyed (their key id is the day). */
  keyIds: string[];
  rideRequests: number;
  durationMs: number;
  /** false: another process holds the purge lock; nothing was done. */
  ran: boolean;
}

/** The first day that is kept when keeping `retentionDays` days up to `now`. */
export function cutoffDay(now: Date, retentionDays: number): string {
  return dayOf(new Date(now.getTime() - (retentionDays - 1) * 86_400_000));
}

/**
 * Retention: for each ride day before `before`, destroy the day key (crypto-shredding), then drop the day's
 * partition, in one transaction per day; then forget idempotency keys of those days. Audited with the report.
 * A dry run counts what would go and changes nothing (and is not audited: it reads no personal data).
 */
export async function purgeRides(
  ctx: AppContext,
  opts: { before: string; dryRun: boolean; actor: string },
): Promise<PurgeReport> {
  const started = performance.now();
  const report: PurgeReport = {
    dryRun: opts.dryRun,
    before: opts.before,
    days: [],
    rows: 0,
    keyIds: [],
    rideRequests: 0,
    durationMs: 0,
    ran: true,
  };
  const ran = await ctx.db.transaction().execute(async (lockTx) => {
    if (!(await repo.tryPurgeLock(lockTx))) return false;
    for (const day of await repo.findDaysBefore(ctx.db, opts.before)) {
      const hasPartition = await repo.partitionExists(ctx.db, day);
      const rows = hasPartition ? await repo.countPartitionRows(ctx.db, day) : 0;
      const hasKey = await repo.dayKeyExists(ctx.db, day);
      if (!opts.dryRun) {
        await ctx.db.transaction().execute(async (tx) => {
          await repo.destroyDayKey(tx, day);
          await repo.dropPartition(tx, day);
        });
        ctx.keyring.forgetDayKey(day);
        forgetRideDay(ctx, day);
      }
      report.days.push({ day, rows, keyDestroyed: hasKey, partitionDropped: hasPartition });
      report.rows += rows;
      if (hasKey) report.keyIds.push(day);
    }
    if (!opts.dryRun) {
      report.rideRequests = await repo.deleteRideRequestsBefore(ctx.db, new Date(`${opts.before}T00:00:00Z`));
    }
    return true;
  });
  report.ran = ran;
  report.durationMs = Math.round(performance.now() - started);
  if (ran && !opts.dryRun && report.days.length > 0) {
    await ctx.db.transaction().execute((tx) =>
      appendAudit(tx, {
        actor: opts.actor,
        action: 'data.purge',
        caseId: null,
        people: 0,
        requestId: null,
        detail: JSON.stringify({
          before: report.before,
          days: report.days.length,
          rows: report.rows,
          keyIds: report.keyIds,
          durationMs: report.durationMs,
        }),
      }),
    );
  }
  return report;
}

/** The daily job: purge everything older than the configured retention. */
export function purgeExpired(ctx: AppContext): Promise<PurgeReport> {
  return purgeRides(ctx, {
    before: cutoffDay(ctx.now(), ctx.config.rides.retentionDays),
    dryRun: false,
    actor: 'system:retention',
  });
}
