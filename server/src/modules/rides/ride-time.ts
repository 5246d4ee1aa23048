import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

const DAY_MS = 86_400_000;

/**
 * The last day formatted: nearly every call asks for the same day as the one before (one per scan; a trace's
 * rows, which come in time order).
 */
let last = { dayNumber: NaN, day: '' };

/** UTC day of an instant: rides are partitioned and keyed by it. */
export function dayOf(t: Date): string {
  const dayNumber = Math.floor(t.getTime() / DAY_MS);
  if (dayNumber !== last.dayNumber) last = { dayNumber, day: t.toISOString().slice(0, 10) };
  return last.day;
}

/** Every UTC day touching [from, to]. */
export function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  for (let t = start; t <= to.getTime(); t += DAY_MS) days.push(dayOf(new Date(t)));
  return days;
}

export interface BoardingTime {
  boardedAt: Date;
  source: 'scan' | 'offline';
  late: boolean;
}

/**
 * When did the passenger board? Server time for live scans; the client's scannedAt for scans sent late
 * (offline queue), accepted up to `maxLateSeconds`. Future times beyond clock skew are refused.
 */
export function boardingTime(rides: Config['rides'], now: Date, scannedAt: string | undefined): BoardingTime {
  if (scannedAt === undefined) return { boardedAt: now, source: 'scan', late: false };
  const t = new Date(scannedAt);
  const ageMs = now.getTime() - t.getTime();
  if (Number.isNaN(ageMs)) throw new AppError('validation_failed', 'scannedAt is not a valid time');
  if (-ageMs > rides.futureSkewSeconds * 1000) throw new AppError('scan_time_in_future');
  if (ageMs > rides.maxLateSeconds * 1000) throw new AppError('scan_too_old');
  if (ageMs > rides.lateAfterSeconds * 1000) return { boardedAt: t, source: 'offline', late: true };
  return { boardedAt: now, source: 'scan', late: false };
}
