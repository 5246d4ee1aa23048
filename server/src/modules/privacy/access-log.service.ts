import type { AccessLogPage, AccessLogQuery, AccessPurpose } from '@ridetrace/shared';
import type { Official } from '../../actors.js';
import type { Db } from '../../db/index.js';
import { parseCursor } from '../../paging.js';
import * as repo from './access-log.repository.js';

export interface DataAccess {
  /** Every passenger whose data was read (case subjects, co-passengers, people notified); duplicates are fine. */
  passengerIds: string[];
  /**
   * The health agency that read it, as the passenger sees it; never the official's name. Notifications name the
   * agency delivering them (deliveringAgency).
   */
  agency: string;
  purpose: AccessPurpose;
  /** Kept with the entry (never shown) so the entry goes when the case is purged. */
  caseId: string | null;
  at: Date;
}

/**
 * Records that the health authority read these passengers' data, for each passenger's access log: one statement
 * for any number of passengers, inside the caller's transaction when `db` is one (the entry commits with the read's
 * audit entry). At most one entry per passenger, case, purpose and UTC day; deleted accounts get none.
 */
export async function recordDataAccess(db: Db, access: DataAccess): Promise<void> {
  if (access.passengerIds.length === 0) return;
  await repo.insertAccess(db, access);
}

/**
 * The agency a notification's entry names: the notifying official person's agency, else (a health system's client
 * queued it, the worker delivers it) the deployment's authority, `AUTHORITY_NAME`: a client's name means nothing
 * to a passenger.
 */
export function deliveringAgency(who: Official, authorityName: string): string {
  return who.agency ?? authorityName;
}

/** GET /v1/passengers/me/access-log: when the health authority read my data, which agency, and why. */
export async function myAccessLog(db: Db, passengerId: string, q: AccessLogQuery): Promise<AccessLogPage> {
  const limit = q.limit ?? 50;
  const beforeId = parseCursor(q.cursor, Number.MAX_SAFE_INTEGER);
  const rows = await repo.findAccessOfPassenger(db, {
    passengerId,
    ...(beforeId !== undefined ? { beforeId } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map((r) => ({ at: r.at.toISOString(), agency: r.agency, purpose: r.purpose })),
    nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
  };
}

/** Deleting an account deletes its access log with the rest of its data. */
export async function forgetAccessLog(db: Db, passengerId: string): Promise<void> {
  await repo.deleteAccessOfPassenger(db, passengerId);
}
