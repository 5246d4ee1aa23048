import type { Db } from '../../db/index.js';
import { ridePartitionName } from '../../db/partitions.js';
import * as repo from './ride-days.repository.js';
import { addDays, nextEra, RideDays } from './ride-days.js';

/**
 * The ride days as the database records them. A database without any (new, nothing recorded yet) counts in
 * `timeZone`; `adoptTimeZone` records that at the server's start.
 */
export async function loadRideDays(db: Db, timeZone: string): Promise<RideDays> {
  const eras = await repo.findEras(db);
  return new RideDays(eras.length > 0 ? eras : [{ sinceMs: -Infinity, timeZone }]);
}

/** Reads the eras again (hourly): a process started with another TIME_ZONE may have added one. */
export async function reloadRideDays(db: Db, days: RideDays): Promise<void> {
  const eras = await repo.findEras(db);
  if (eras.length > 0) days.update(eras);
}

export interface Adoption {
  /** The era added, if the zone changed (or this is the first start); `lastOldDay` ends at its start. */
  added?: { since: Date | null; timeZone: string; lastOldDay?: string };
}

/**
 * Makes `timeZone` count ride days, once across processes, and updates `days`. The first start records it from the
 * beginning. A changed zone starts a new era at its first midnight after every day that already has a partition or
 * key (at least tomorrow), so no stored ride changes day; the last old day's partition, empty because it lies ahead,
 * is dropped so that it is made again with its new end.
 */
export async function adoptTimeZone(db: Db, days: RideDays, timeZone: string, now: Date): Promise<Adoption> {
  const adoption = await db.transaction().execute(async (tx): Promise<Adoption> => {
    await repo.lockCalendar(tx);
    const eras = await repo.findEras(tx);
    const last = eras.at(-1);
    if (last?.timeZone === timeZone) return {};
    if (!last) {
      await repo.insertEra(tx, null, timeZone);
      return { added: { since: null, timeZone } };
    }
    const tomorrow = addDays(new RideDays(eras).of(now), 1);
    const recorded = await repo.latestRecordedDay(tx);
    const lastOldDay = recorded && recorded > tomorrow ? recorded : tomorrow;
    const partition = ridePartitionName(lastOldDay);
    const rows = await repo.partitionRows(tx, partition);
    if (rows !== undefined && rows > 0) throw new Error(`ride day ${lastOldDay} lies ahead but holds rides`);
    if (rows !== undefined) await repo.dropPartition(tx, partition);
    const since = new Date(nextEra(lastOldDay, timeZone).sinceMs);
    await repo.insertEra(tx, since, timeZone);
    return { added: { since, timeZone, lastOldDay } };
  });
  await reloadRideDays(db, days);
  return adoption;
}
