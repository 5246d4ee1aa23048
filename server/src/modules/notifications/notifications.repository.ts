import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db } from '../../db/index.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { ExposureMarksTable, NotificationsTable } from '../../db/tables.js';

/** Rows per INSERT: a statement takes at most 65535 parameters, and a degree-2 notify can mark tens of thousands. */
const CHUNK = 2000;

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

/** Inserts marks not made before (one per case, passenger and degree); an existing one, even cleared, stays. */
export async function insertMarks(db: Db, rows: Insertable<ExposureMarksTable>[]): Promise<void> {
  for (const chunk of chunks(rows)) {
    await db
      .insertInto('exposure_marks')
      .values(chunk)
      .onConflict((oc) => oc.columns(['case_id', 'passenger_id', 'degree']).doNothing())
      .execute();
  }
}

/** Inserts notifications not queued before (one per case, person and degree); returns the degrees of the new ones. */
export async function insertNotifications(
  db: Db,
  rows: Insertable<NotificationsTable>[],
): Promise<(1 | 2)[]> {
  const degrees: (1 | 2)[] = [];
  for (const chunk of chunks(rows)) {
    const inserted = await db
      .insertInto('notifications')
      .values(chunk)
      .onConflict((oc) => oc.columns(['case_id', 'passenger_id', 'degree']).doNothing())
      .returning('degree')
      .execute();
    for (const r of inserted) degrees.push(r.degree);
  }
  return degrees;
}

/** The degrees each of these registrations was notified at for the case (a person's notification names one). */
export async function findNotifiedDegrees(db: Db, caseId: string, passengerIds: readonly string[]) {
  if (passengerIds.length === 0) return [];
  return db
    .selectFrom('notifications')
    .select(['passenger_id', 'degree'])
    .where('case_id', '=', caseId)
    .where(sql<boolean>`passenger_id = any(${[...passengerIds]}::uuid[])`)
    .execute();
}

export async function listCaseNotifications(db: Db, caseId: string) {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * Notifications not delivered yet (queued, or being sent) and the age of the oldest, in seconds: the metrics'
 * backlog. Both states have a partial index, so the count reads only the backlog.
 */
export async function countBacklog(db: Db): Promise<{ queued: number; oldestSeconds: number | null }> {
  const r = await sql<{ queued: number; oldest_seconds: number | null }>`
    select count(*)::int as queued, extract(epoch from now() - min(created_at))::float8 as oldest_seconds
    from notifications where state in ('queued', 'sending')`.execute(db);
  const row = r.rows[0];
  return { queued: row?.queued ?? 0, oldestSeconds: row?.oldest_seconds ?? null };
}

/**
 * Claims due notifications (and ones whose sender died mid-flight: lease run out) without blocking other workers,
 * expired leases first, in one statement (`claim_notifications`, migration 0006): each branch walks its partial
 * index in order (`notifications_leased`, `notifications_queued`) and stops after `limit` rows.
 */
export async function claimDue(db: Db, limit: number, leaseSeconds: number) {
  const r = await sql<Selectable<NotificationsTable>>`
    select * from claim_notifications(${limit}::int, ${leaseSeconds}::int)`.execute(db);
  return r.rows;
}

/** `<channel>:<id>`: how a row stores the provider's id of its message, and how a receipt finds it. */
export const providerKey = (channel: 'app' | 'sms', messageId: string) => `${channel}:${messageId}`;

/**
 * Marks a notification sent, with the provider's id of the message (`providerKey`) when it named one. An id another
 * row holds already (a provider that reuses ids) is not stored: the message was sent all the same, and a receipt
 * naming that id must not change two rows.
 */
export async function markSent(db: Db, id: string, providerMessageId: string | null): Promise<void> {
  const set = (provider_message_id: string | null) =>
    db
      .updateTable('notifications')
      .set({
        state: 'sent',
        sent_at: sql`now()`,
        locked_until: null,
        last_error: null,
        provider_message_id,
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .execute();
  try {
    await set(providerMessageId);
  } catch (err) {
    if (!providerMessageId || !isUniqueViolation(err)) throw err;
    await set(null);
  }
}

export async function markRetry(db: Db, id: string, error: string, delayMs: number): Promise<void> {
  await db
    .updateTable('notifications')
    .set({
      state: 'queued',
      last_error: error,
      locked_until: null,
      next_attempt_at: sql`now() + make_interval(secs => ${delayMs / 1000}::float8)`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export async function markFallback(db: Db, id: string, channel: 'sms', error: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({
      state: 'queued',
      channel,
      attempts: 0,
      last_error: error,
      locked_until: null,
      provider_message_id: null,
      next_attempt_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .execute();
}

export async function markFailed(db: Db, id: string, error: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set({ state: 'failed', last_error: error, locked_until: null, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

/** One receipt of a batch: the row's `providerKey`, the outcome, and the reason a failed one gives. */
export interface ReceiptUpdate {
  key: string;
  status: 'delivered' | 'failed';
  error: string;
}

/**
 * Applies a batch of receipts of one channel in one statement; returns the outcome of each row it changed. Only a
 * `sent` row changes (receipts are resent, and may arrive after a fallback or a failure): `delivered` →
 * `delivered`; `failed` of a super-app message → queued again as an SMS (as markFallback, attempts from 0, the old
 * id forgotten), of an SMS → `failed`. A key named twice in a batch counts once (its first receipt).
 */
export async function applyReceipts(
  db: Db,
  channel: 'app' | 'sms',
  receipts: readonly ReceiptUpdate[],
): Promise<{ id: string; status: 'delivered' | 'failed' }[]> {
  if (receipts.length === 0) return [];
  // `back`: this receipt sends a super-app message again as an SMS.
  const r = await sql<{ id: string; status: 'delivered' | 'failed' }>`
    with r as (
      select distinct on (key) key, status, error, status = 'failed' and ${channel === 'app'}::boolean as back
      from unnest(${receipts.map((x) => x.key)}::text[], ${receipts.map((x) => x.status)}::text[],
                  ${receipts.map((x) => x.error)}::text[]) with ordinality as r(key, status, error, ord)
      order by key, ord
    )
    update notifications n set
      state = case when r.status = 'delivered' then 'delivered' when r.back then 'queued' else 'failed' end,
      delivered_at = case when r.status = 'delivered' then now() else n.delivered_at end,
      last_error = case when r.status = 'delivered' then n.last_error else r.error end,
      channel = case when r.back then 'sms' else n.channel end,
      attempts = case when r.back then 0 else n.attempts end,
      provider_message_id = case when r.back then null else n.provider_message_id end,
      next_attempt_at = case when r.back then now() else n.next_attempt_at end,
      locked_until = null,
      updated_at = now()
    from r
    where n.provider_message_id = r.key and n.state = 'sent'
    returning n.id, r.status`.execute(db);
  return r.rows;
}

/** An exposure mark's columns with its carrier's, as messages and the passenger's inbox show them. */
const MARK_WITH_CARRIER = [
  'exposure_marks.case_id',
  'exposure_marks.degree',
  'exposure_marks.level',
  'exposure_marks.boarded_at',
  'exposure_marks.observe_until',
  'exposure_marks.created_at',
  'carriers.id as carrier_id',
  'carriers.kind',
  'carriers.plate',
  'carriers.route',
  'carriers.city',
] as const;

/** The exposure marks of claimed notifications (one query for a batch), with their carriers. */
export async function findMarksOf(
  db: Db,
  keys: readonly { case_id: string; passenger_id: string; degree: 1 | 2 }[],
) {
  if (keys.length === 0) return [];
  return db
    .selectFrom('exposure_marks')
    .innerJoin('carriers', 'carriers.id', 'exposure_marks.carrier_id')
    .select([...MARK_WITH_CARRIER, 'exposure_marks.passenger_id'])
    .where((eb) =>
      eb(
        eb.refTuple('exposure_marks.case_id', 'exposure_marks.passenger_id', 'exposure_marks.degree'),
        'in',
        keys.map((k) => eb.tuple(k.case_id, k.passenger_id, k.degree)),
      ),
    )
    .execute();
}

export async function findMarksOfPassenger(db: Db, passengerId: string) {
  return db
    .selectFrom('exposure_marks')
    .innerJoin('carriers', 'carriers.id', 'exposure_marks.carrier_id')
    .select([...MARK_WITH_CARRIER, 'exposure_marks.cleared_at'])
    .where('exposure_marks.passenger_id', '=', passengerId)
    .orderBy('exposure_marks.created_at', 'desc')
    .orderBy('exposure_marks.degree', 'desc')
    .execute();
}
