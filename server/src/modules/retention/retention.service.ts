import { notifyCacheEvent } from '../../cache-events.js';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import { appendAudit } from '../audit/audit.service.js';
import { caseFactsOf } from '../cases/cases.service.js';
import { metricsOf } from '../metrics/metrics.service.js';
import { rideLinksOf } from '../passengers/passengers.service.js';
import { deleteAccount } from '../privacy/privacy.service.js';
import { rideKey, type RideLink } from '../rides/ride-key.js';
import { addDays } from '../rides/ride-days.js';
import { forgetRideDay } from '../rides/rides.service.js';
import * as repo from './retention.repository.js';

export interface PurgeDay {
  day: string;
  rows: number;
  /** The day's data key existed and is (or, in a dry run, would be) destroyed. */
  keyDestroyed: boolean;
  partitionDropped: boolean;
}

/**
 * Records past their lifetime, by kind (docs/operations.md "Lifetimes"): removed, or in a dry run those that would
 * be. Every kind of personal record is here, with the setting that bounds it.
 */
export interface PurgeCounts {
  /** Rides of the purged days (RETENTION_DAYS). */
  rides: number;
  /** Idempotency keys of those rides. */
  rideRequests: number;
  /** Scans that waited for a first confirmation (PENDING_SCAN_MINUTES). */
  pendingScans: number;
  /** SMS one-time codes, expired and out of the hourly limits. */
  phoneOtps: number;
  /** Official sign-ins, expired or signed out (OFFICIAL_SESSION_HOURS). */
  officialSessions: number;
  /** Closed cases (CASE_RETENTION_DAYS after closing) and what they held about people: */
  cases: number;
  caseSubjects: number;
  caseClaims: number;
  exposureMarks: number;
  notifications: number;
  revealRequests: number;
  /** Access-log entries: those of the purged cases, and those naming no case, by age (CASE_RETENTION_DAYS). */
  accessLog: number;
  /** Identities of riders registered by staff, once no ride of theirs is left. */
  manualRiders: number;
  /** Identities of app registrations without a ride or an account change (PASSENGER_INACTIVE_DAYS). */
  inactivePassengers: number;
  /** Tombstones of deleted accounts, once no ride and no case points to them. */
  passengerStubs: number;
}

export interface PurgeReport {
  dryRun: boolean;
  /** Days strictly before this one are purged. */
  before: string;
  days: PurgeDay[];
  rows: number;
  /** Day keys destroyed (their key id is the day). */
  keyIds: string[];
  /** Idempotency keys removed (0 in a dry run; `counts.rideRequests` says how many would go). */
  rideRequests: number;
  /** Every kind of record past its lifetime. */
  counts: PurgeCounts;
  /** The cases whose data went (or would go). */
  caseIds: string[];
  /** Registrations whose rides this run looked up (to learn who still rides). */
  passengersChecked: number;
  durationMs: number;
  /** false: another process holds the purge lock; nothing was done. */
  ran: boolean;
}

const DAY_MS = 86_400_000;
/** Rows per statement: each batch is its own short transaction. */
const BATCH = 1000;
/** Registrations per look: their blind indexes for every retained day, one query per day. */
const LOOK_BATCH = 500;

/** The first ride day that is kept when keeping `retentionDays` days up to `now`. */
export function cutoffDay(ctx: AppContext, retentionDays: number, now: Date = ctx.now()): string {
  return ctx.rideDays.cutoff(now, retentionDays);
}

/** A count of 0 for every kind of record the purge removes. */
export function emptyPurgeCounts(): PurgeCounts {
  return {
    rides: 0,
    rideRequests: 0,
    pendingScans: 0,
    phoneOtps: 0,
    officialSessions: 0,
    cases: 0,
    caseSubjects: 0,
    caseClaims: 0,
    exposureMarks: 0,
    notifications: 0,
    revealRequests: 0,
    accessLog: 0,
    manualRiders: 0,
    inactivePassengers: 0,
    passengerStubs: 0,
  };
}

export const PURGE_KINDS = Object.keys(emptyPurgeCounts()) as (keyof PurgeCounts)[];

/** Runs `batch` until it takes fewer than `limit` rows; the total. */
async function drain(batch: (limit: number) => Promise<number>, limit = BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await batch(limit);
    total += n;
    if (n < limit) return total;
  }
}

interface Run {
  ctx: AppContext;
  now: Date;
  before: string;
  dryRun: boolean;
  report: PurgeReport;
}

/**
 * The purge: every personal record past its lifetime, one process at a time (an advisory lock), in small
 * transactions, so an interrupted run leaves whole steps and the next run finishes the rest. Ride days before
 * `before` lose their day key (crypto-shredding) and partition with their idempotency keys; the other lifetimes are
 * the configured ones at `now` (default: the context's clock). Audited with the counts when anything went. A dry run
 * counts what would go and changes nothing (and is not audited: it reads no personal data).
 */
export async function purgeRecords(
  ctx: AppContext,
  opts: { before: string; dryRun: boolean; actor: string; now?: Date },
): Promise<PurgeReport> {
  const started = performance.now();
  const report: PurgeReport = {
    dryRun: opts.dryRun,
    before: opts.before,
    days: [],
    rows: 0,
    keyIds: [],
    rideRequests: 0,
    counts: emptyPurgeCounts(),
    caseIds: [],
    passengersChecked: 0,
    durationMs: 0,
    ran: true,
  };
  const run: Run = { ctx, now: opts.now ?? ctx.now(), before: opts.before, dryRun: opts.dryRun, report };
  const ran = await ctx.db.transaction().execute(async (lockTx) => {
    if (!(await repo.tryPurgeLock(lockTx))) return false;
    // Looks first: they find rides on the days about to go, whose keys are still there.
    await lookAtPassengers(run);
    await purgeRideDays(run);
    await purgeShortLived(run);
    await purgeCases(run);
    await purgeStubs(run);
    return true;
  });
  report.ran = ran;
  report.durationMs = Math.round(performance.now() - started);
  if (!opts.dryRun) metricsOf(ctx).purged(report, ctx.now());
  const anything = report.days.length > 0 || PURGE_KINDS.some((k) => report.counts[k] > 0);
  if (ran && !opts.dryRun && anything) {
    await ctx.db.transaction().execute((tx) =>
      appendAudit(tx, {
        actor: opts.actor,
        action: 'data.purge',
        caseId: null,
        people: 0,
        requestId: null,
        // Counts, days and case ids only: nothing here names or describes a person.
        detail: JSON.stringify({
          before: report.before,
          days: report.days.length,
          rows: report.rows,
          keyIds: report.keyIds,
          counts: report.counts,
          caseIds: report.caseIds,
          durationMs: report.durationMs,
        }),
      }),
    );
  }
  return report;
}

/** Ride days before the cutoff: day key destroyed, then the partition dropped, one transaction per day. */
async function purgeRideDays({ ctx, before, dryRun, report }: Run): Promise<void> {
  for (const day of await repo.findDaysBefore(ctx.db, before)) {
    const hasPartition = await repo.partitionExists(ctx.db, day);
    const rows = hasPartition ? await repo.countPartitionRows(ctx.db, day) : 0;
    const hasKey = await repo.dayKeyExists(ctx.db, day);
    if (!dryRun) {
      await ctx.db.transaction().execute(async (tx) => {
        await repo.destroyDayKey(tx, day);
        await repo.dropPartition(tx, day);
        // The other processes forget the destroyed key when this commits, not at their next hourly maintenance.
        await notifyCacheEvent(tx, { kind: 'day-destroyed', day });
      });
      ctx.keyring.forgetDayKey(day);
      forgetRideDay(ctx, day);
    }
    report.days.push({ day, rows, keyDestroyed: hasKey, partitionDropped: hasPartition });
    report.rows += rows;
    if (hasKey) report.keyIds.push(day);
  }
  report.counts.rides = report.rows;
  const boardedBefore = new Date(ctx.rideDays.startMs(before));
  if (dryRun) {
    report.counts.rideRequests = await repo.countRideRequestsBefore(ctx.db, boardedBefore);
  } else {
    report.rideRequests = await drain((n) => repo.deleteRideRequestsBefore(ctx.db, boardedBefore, n));
    report.counts.rideRequests = report.rideRequests;
  }
}

/** Records that live minutes or hours: pending scans, SMS codes, official sessions, case-less access entries. */
async function purgeShortLived({ ctx, now, dryRun, report }: Run): Promise<void> {
  const { lifetimes } = ctx.config;
  const { counts } = report;
  const savedBefore = new Date(now.getTime() - lifetimes.pendingScanMinutes * 60_000);
  const accessBefore = new Date(now.getTime() - lifetimes.caseRetentionDays * DAY_MS);
  if (dryRun) {
    counts.pendingScans = await repo.countPendingScans(ctx.db, savedBefore);
    counts.phoneOtps = await repo.countSpentOtps(ctx.db, now);
    counts.officialSessions = await repo.countEndedSessions(ctx.db, now);
    counts.accessLog += await repo.countCaselessAccess(ctx.db, accessBefore);
    return;
  }
  counts.pendingScans = await drain((n) => repo.clearPendingScans(ctx.db, savedBefore, n));
  counts.phoneOtps = await drain((n) => repo.deleteSpentOtps(ctx.db, now, n));
  counts.officialSessions = await drain((n) => repo.deleteEndedSessions(ctx.db, now, n));
  counts.accessLog += await drain((n) => repo.deleteCaselessAccess(ctx.db, accessBefore, n));
}

/**
 * Closed cases CASE_RETENTION_DAYS after closing: every record naming a person goes (notifications, exposure marks,
 * subjects, claims, reveal requests, access-log entries) in batches, then the case row. The audit log stays.
 */
async function purgeCases({ ctx, now, dryRun, report }: Run): Promise<void> {
  const closedBefore = new Date(now.getTime() - ctx.config.lifetimes.caseRetentionDays * DAY_MS);
  let after: { closedAt: Date; id: string } | null = null;
  for (;;) {
    const cases = await repo.findExpiredCases(ctx.db, closedBefore, now, after, 50);
    for (const c of cases) {
      const kinds = Object.keys(repo.CASE_RECORD_TABLES) as repo.CaseRecordKind[];
      if (dryRun) {
        const held = await repo.countCaseRecords(ctx.db, c.id);
        for (const kind of kinds) report.counts[kind] += held[kind];
      } else {
        for (const kind of kinds)
          report.counts[kind] += await drain((n) => repo.deleteCaseRecords(ctx.db, kind, c.id, n), 5000);
        if (!(await repo.deleteCase(ctx.db, c.id))) continue;
        // Every process drops the case's cached facts (this one at once): a trace of it is now a 404.
        caseFactsOf(ctx).delete(c.id);
        await notifyCacheEvent(ctx.db, { kind: 'case-purged', id: c.id });
      }
      report.counts.cases++;
      report.caseIds.push(c.id);
    }
    if (cases.length < 50) return;
    after = { closedAt: cases.at(-1)!.closed_at, id: cases.at(-1)!.id };
  }
}

/** Tombstones of deleted accounts, once every ride they could name is purged and no case names them. */
async function purgeStubs({ ctx, before, dryRun, report }: Run): Promise<void> {
  const deletedBefore = new Date(ctx.rideDays.startMs(before));
  report.counts.passengerStubs = dryRun
    ? await repo.countStubs(ctx.db, deletedBefore, report.caseIds)
    : await drain((n) => repo.deleteStubs(ctx.db, deletedBefore, n));
}

/**
 * Who still rides, without a write per scan: the purge looks each live registration's rides up by blind index (its
 * ride link under each kept day's key, as the itinerary does) about once per RETENTION_DAYS, always before the
 * first day it has not looked at leaves the retained window, so no ride goes unseen. A look records the newest ride
 * day found and schedules the next; it removes the identity (account deletion) of a staff-registered rider with no
 * ride left, and of an app registration that has neither ridden nor changed its account for
 * PASSENGER_INACTIVE_DAYS (≥ RETENTION_DAYS, so none of its rides is left either). A registration a case still
 * needs keeps its identity until the case lets it go.
 */
async function lookAtPassengers({ ctx, now, before, dryRun, report }: Run): Promise<void> {
  const { rides, lifetimes } = ctx.config;
  const schedule = {
    maxLateSeconds: rides.maxLateSeconds,
    retentionDays: rides.retentionDays,
    timeZone: ctx.rideDays.timeZone,
  };
  if (!dryRun) await drain((n) => repo.scheduleNewPassengers(ctx.db, schedule, n), 5000);
  const rideDays = ctx.rideDays;
  const today = rideDays.of(now);
  const inactiveCutoff = cutoffDay(ctx, lifetimes.passengerInactiveDays, now);
  // The newest day no ride can be added to any more (offline scans arrive up to RIDES_MAX_LATE_SECONDS late):
  // the next look must come while the day after it is still kept.
  const settled = addDays(rideDays.of(new Date(now.getTime() - rides.maxLateSeconds * 1000)), -1);
  const nextLook = addDays(settled, rides.retentionDays);
  const keyedDays = await repo.findKeyedDays(ctx.db);
  let after: { checkOn: string; id: string } | null = null;
  for (;;) {
    const due = await repo.findPassengersDue(ctx.db, {
      today,
      after,
      limit: LOOK_BATCH,
      ...(dryRun ? { unscheduled: schedule } : {}),
    });
    if (due.length === 0) return;
    after = { checkOn: due.at(-1)!.check_on, id: due.at(-1)!.id };
    report.passengersChecked += due.length;
    const found = await findNewestRides(
      ctx,
      due.map((p) => ({ id: p.id, since: p.last_ride_on })),
      keyedDays,
    );
    const lastRideOf = (p: repo.DuePassenger) => found.get(p.id) ?? p.last_ride_on;
    const activeOf = (p: repo.DuePassenger) =>
      [lastRideOf(p) ?? '', rideDays.of(p.created_at), rideDays.of(p.updated_at)].reduce((a, b) =>
        a > b ? a : b,
      );
    const expired = due.filter((p) =>
      p.kind === 'manual' ? (lastRideOf(p) ?? '') < before : activeOf(p) < inactiveCutoff,
    );
    const expiredIds = new Set(expired.map((p) => p.id));
    const inUse = await repo.findPassengersInUse(
      ctx.db,
      expired.map((p) => p.id),
      now,
    );
    // A ride registered while this batch was looked at (days still open to rides, looked at again just now).
    const late = await findNewestRides(
      ctx,
      expired.map((p) => ({ id: p.id, since: settled })),
      keyedDays.filter((d) => d > settled),
    );
    const gone = new Set(expired.filter((p) => !inUse.has(p.id) && !late.has(p.id)).map((p) => p.id));
    const looks = due
      .filter((p) => !gone.has(p.id))
      .map((p) => {
        const lastRideOn = late.get(p.id) ?? lastRideOf(p);
        // The next look: before a day not looked at leaves the window, and on the day the identity's lifetime
        // ends (a rider's last ride leaves the window; an app registration reaches PASSENGER_INACTIVE_DAYS).
        let checkOn = minDay(
          nextLook,
          p.kind === 'app'
            ? addDays(activeOf(p), lifetimes.passengerInactiveDays)
            : addDays(lastRideOn ?? today, rides.retentionDays),
        );
        // Kept for a case (or a ride just registered), or due in the past under an older setting: look again
        // tomorrow.
        if (checkOn <= today || expiredIds.has(p.id)) checkOn = addDays(today, 1);
        return { id: p.id, lastRideOn, checkOn };
      });
    const goneRows = due.filter((p) => gone.has(p.id));
    if (dryRun) {
      for (const p of goneRows) report.counts[p.kind === 'manual' ? 'manualRiders' : 'inactivePassengers']++;
      continue;
    }
    await repo.recordLooks(ctx.db, looks);
    const removed: string[] = [];
    for (const p of goneRows) {
      try {
        // Exactly what the passenger's own DELETE /v1/passengers/me does.
        await deleteAccount(ctx, p.id);
      } catch (err) {
        // Deleted meanwhile (by its passenger): nothing left to remove.
        if (err instanceof AppError) continue;
        throw err;
      }
      removed.push(p.id);
      report.counts[p.kind === 'manual' ? 'manualRiders' : 'inactivePassengers']++;
    }
    await repo.forgetLooks(ctx.db, removed);
  }
}

const minDay = (a: string, b: string) => (a < b ? a : b);

/**
 * The newest day with a ride of each registration among `days` (newest first) after its `since` day: each is
 * looked up day by day until its first hit. Registrations without a ride there are absent.
 */
async function findNewestRides(
  ctx: AppContext,
  who: { id: string; since: string | null }[],
  days: string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const links = new Map<string, RideLink>(
    (
      await rideLinksOf(
        ctx,
        who.map((p) => p.id),
      )
    ).map((l) => [l.passengerId, l]),
  );
  let open = who.filter((p) => links.has(p.id));
  for (const day of days) {
    open = open.filter((p) => p.since === null || p.since < day);
    if (open.length === 0) break;
    const key = await ctx.keyring.existingDayKey(ctx.db, day);
    if (!key) continue;
    const byKey = new Map(open.map((p) => [rideKey(key, links.get(p.id)!).toString('hex'), p.id]));
    const hits = await repo.findRideKeysOn(
      ctx.db,
      ctx.rideDays.bounds(day),
      [...byKey.keys()].map((k) => Buffer.from(k, 'hex')),
    );
    for (const k of hits) {
      const id = byKey.get(k.toString('hex'));
      if (id) found.set(id, day);
    }
    open = open.filter((p) => !found.has(p.id));
  }
  return found;
}

/** The hourly job: purge everything past its lifetime, rides older than the configured retention. */
export function purgeExpired(ctx: AppContext): Promise<PurgeReport> {
  return purgeRecords(ctx, {
    before: cutoffDay(ctx, ctx.config.rides.retentionDays),
    dryRun: false,
    actor: 'system:retention',
  });
}
