import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

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
