import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { RevealRequestsTable } from '../../db/tables.js';

export type RevealRow = Selectable<RevealRequestsTable> & {
  case_number: string;
  case_status: 'open' | 'closed';
};

function withCaseNumber(db: Db) {
  return db
    .selectFrom('reveal_requests as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .selectAll('r')
    .select(['c.case_number', 'c.status as case_status']);
}

export async function insertRevealRequest(db: Db, row: Insertable<RevealRequestsTable>): Promise<void> {
  await db.insertInto('reveal_requests').values(row).execute();
}

export async function findRevealRequest(
  db: Db,
  id: string,
  forUpdate = false,
): Promise<RevealRow | undefined> {
  let q = withCaseNumber(db).where('r.id', '=', id);
  if (forUpdate) q = q.forUpdate('r');
  return q.executeTakeFirst();
}

/** The requester's most recent requests for a case, newest first (a live grant is among the few newest). */
export async function latestRevealRequests(
  db: Db,
  caseId: string,
  requestedBy: string,
  limit = 5,
): Promise<RevealRow[]> {
  return withCaseNumber(db)
    .where('r.case_id', '=', caseId)
    .where('r.requested_by', '=', requestedBy)
    .orderBy('r.requested_at', 'desc')
    .limit(limit)
    .execute();
}

export async function decideRevealRequest(
  db: Db,
  id: string,
  change: Updateable<RevealRequestsTable>,
): Promise<void> {
  await db.updateTable('reveal_requests').set(change).where('id', '=', id).execute();
}

export interface RevealListFilter {
  state?: 'pending' | 'approved' | 'refused' | 'expired' | undefined;
  caseId?: string | undefined;
  requestedBy?: string | undefined;
  now: Date;
  offset: number;
  limit: number;
}

/** Requests newest first; `pending`/`approved` mean still live, `expired` means lapsed or ended. */
export async function listRevealRequests(db: Db, f: RevealListFilter): Promise<RevealRow[]> {
  let q = withCaseNumber(db);
  if (f.caseId) q = q.where('r.case_id', '=', f.caseId);
  if (f.requestedBy) q = q.where('r.requested_by', '=', f.requestedBy);
  if (f.state === 'refused') q = q.where('r.state', '=', 'refused');
  else if (f.state === 'expired')
    q = q.where('r.state', 'in', ['pending', 'approved']).where('r.expires_at', '<=', f.now);
  else if (f.state) q = q.where('r.state', '=', f.state).where('r.expires_at', '>', f.now);
  return q
    .orderBy('r.requested_at', 'desc')
    .orderBy('r.id', 'desc')
    .offset(f.offset)
    .limit(f.limit)
    .execute();
}
