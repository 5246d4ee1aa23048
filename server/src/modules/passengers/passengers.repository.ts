import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from '../../db/index.js';
import { queryNamed, textArray } from '../../db/params.js';
import type { PassengersTable, PhoneOtpsTable, SealedIdentity } from '../../db/tables.js';

export async function insertPassengerIfMissing(db: Db, row: Insertable<PassengersTable>) {
  await db
    .insertInto('passengers')
    .values(row)
    .onConflict((oc) => oc.column('subject_index').doNothing())
    .execute();
}

export async function insertPassenger(db: Db, row: Insertable<PassengersTable>) {
  return db.insertInto('passengers').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The registration of a super-app user by any of their subject indexes (one per key generation in use). */
export async function findPassengerBySubject(db: Db, subjectIndexes: Buffer[]) {
  return db
    .selectFrom('passengers')
    .selectAll()
    .where('subject_index', '=', sql<Buffer>`any(${subjectIndexes}::bytea[])`)
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
}

/**
 * Serialises first sign-ins of one super-app user until the caller's transaction ends. Needed only while a key
 * rotation runs: two processes may then write the user's subject index under different generations, which the
 * unique constraint cannot tell apart.
 */
export async function lockSubject(tx: Db, subjectIndex: Buffer): Promise<void> {
  await sql`select pg_advisory_xact_lock(${subjectIndex.readBigInt64BE(0).toString()}::bigint)`.execute(tx);
}

export async function findPassenger(db: Db, id: string) {
  return db.selectFrom('passengers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Whether the account exists and was not deleted: one primary-key probe, made for every passenger request. */
export async function isLivePassenger(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('passengers').select('deleted_at').where('id', '=', id).executeTakeFirst();
  return row !== undefined && row.deleted_at === null;
}

/** What the rides of these registrations are indexed by (only the columns that say it). */
export async function findRideLinks(db: Db, ids: string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('passengers')
    .select(['id', 'link_secret', 'link_since', 'deleted_at'])
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .execute();
}

/** Locks the passenger row for the rest of the caller's transaction. */
export async function findPassengerForUpdate(db: Db, id: string) {
  return db.selectFrom('passengers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * A known person by a verified phone or staff-checked ID number (blind indexes, one per key generation in use); app
 * users before manual riders, oldest first. A typed, unverified phone or ID number matches nobody.
 */
export async function findPassengerByIndex(db: Db, phoneIndexes: Buffer[], idNumberIndexes: Buffer[]) {
  return db
    .selectFrom('passengers')
    .selectAll()
    .where((eb) =>
      idNumberIndexes.length
        ? eb.or([
            eb('link_phone_index', '=', sql<Buffer>`any(${phoneIndexes}::bytea[])`),
            eb('link_id_index', '=', sql<Buffer>`any(${idNumberIndexes}::bytea[])`),
          ])
        : eb('link_phone_index', '=', sql<Buffer>`any(${phoneIndexes}::bytea[])`),
    )
    .where('dek_wrapped', 'is not', null)
    .orderBy((eb) => eb.case().when('kind', '=', 'app').then(0).else(1).end())
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst();
}

export async function updatePassenger(db: Db, id: string, set: Updateable<PassengersTable>) {
  return db
    .updateTable('passengers')
    .set({ ...set, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findPassengersByIds(db: Db, ids: string[]) {
  if (ids.length === 0) return [];
  // One array parameter: a trace can ask for thousands of ids (an IN list of thousands of parameters costs more
  // to send, parse and plan than the lookups).
  return db
    .selectFrom('passengers')
    .selectAll()
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .execute();
}

/** Only the columns that open an identity (a case's subjects): a third of a passenger row to parse. */
export async function findSealedIdentities(db: Db, ids: string[]): Promise<SealedIdentity[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('passengers')
    .select([
      'id',
      'dek_master_key_id',
      'dek_wrapped',
      'name_sealed',
      'phone_sealed',
      'id_number_sealed',
      'id_type',
    ])
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .execute();
}

/**
 * A registration as a trace needs it: indexes and flags to tell people apart, and the sealed identity (opened
 * only for the people a page or export shows).
 */
export interface RegistrationLink extends SealedIdentity {
  kind: 'app' | 'manual';
  phone_index: Buffer | null;
  id_number_index: Buffer | null;
  /** The account was deleted: its rides are counted, never linked to anyone. */
  deleted: boolean;
  /** A super-app user id is on file (the person can get super-app messages). */
  has_openid: boolean;
}

/**
 * In one statement: the registrations with these ids, and every other live registration sharing a verified phone or
 * staff-checked ID number with one of them (the same person registered as app user and manual rider), oldest first.
 * Only the link_* indexes appear (as phone_index / id_number_index): unverified ones link nobody, here or later.
 * With the sealed identity columns (not the whole row): the page a trace returns opens its people's identities
 * from these rows, without another round trip.
 */
const REGISTRATION_LINKS = `
  with hit as materialized (
    select id, kind, link_phone_index as phone_index, link_id_index as id_number_index, deleted_at is not null as deleted,
      openid_sealed is not null as has_openid, dek_master_key_id, dek_wrapped, name_sealed, phone_sealed,
      id_number_sealed, id_type
    from passengers where id = any($1::uuid[])
  )
  select *, false as related from hit
  union all
  select * from (
    select p.id, p.kind, p.link_phone_index, p.link_id_index, p.deleted_at is not null,
      p.openid_sealed is not null, p.dek_master_key_id, p.dek_wrapped, p.name_sealed, p.phone_sealed,
      p.id_number_sealed, p.id_type, true from passengers p
    where p.dek_wrapped is not null and not (p.id = any($1::uuid[]))
      and (p.link_phone_index = any(array(select phone_index from hit where phone_index is not null))
        or p.link_id_index = any(array(select id_number_index from hit where id_number_index is not null)))
    order by p.created_at
  ) s`;

const PREPARED_LINKS_MAX = 256;

/**
 * The live registrations, other than `ids`, with any of these verified phone or staff-checked ID number indexes,
 * oldest first: the other registrations of the same people while a key rotation runs (their indexes may be of
 * either generation, so the caller gives those of both).
 */
export async function findRelatedRegistrations(
  db: Db,
  ids: string[],
  phoneIndexes: Buffer[],
  idNumberIndexes: Buffer[],
): Promise<RegistrationLink[]> {
  if (phoneIndexes.length === 0 && idNumberIndexes.length === 0) return [];
  const r = await sql<RegistrationLink>`
    select p.id, p.kind, p.link_phone_index as phone_index, p.link_id_index as id_number_index,
      p.deleted_at is not null as deleted, p.openid_sealed is not null as has_openid, p.dek_master_key_id,
      p.dek_wrapped, p.name_sealed, p.phone_sealed, p.id_number_sealed, p.id_type
    from passengers p
    where p.dek_wrapped is not null and not (p.id = any(${ids}::uuid[]))
      and (p.link_phone_index = any(${phoneIndexes}::bytea[]) or p.link_id_index = any(${idNumberIndexes}::bytea[]))
    order by p.created_at`.execute(db);
  return r.rows;
}

export async function findRegistrationLinks(db: Db, ids: string[]) {
  if (ids.length === 0) return { rows: [], related: [] };
  // Every trace runs it. Up to a few hundred people a prepared statement, planned once per connection; above, planned
  // for its values: the one generic plan serves large id lists badly.
  const found = await queryNamed<RegistrationLink & { related: boolean }>(
    db,
    ids.length <= PREPARED_LINKS_MAX ? 'ridetrace_registration_links' : null,
    REGISTRATION_LINKS,
    [textArray(ids)],
  );
  const strip = ({ related: _, ...row }: RegistrationLink & { related: boolean }) => row;
  return {
    rows: found.filter((x) => !x.related).map(strip),
    related: found.filter((x) => x.related).map(strip),
  };
}

/**
 * Every live passenger with any of the phone or ID number blind indexes: `verified` through a verified phone or
 * staff-checked ID number, or `claimed` (only typed, unverified, and not verified for any of them).
 */
export async function findPassengersByIndex(
  db: Db,
  phoneIndexes: Buffer[],
  idNumberIndexes: Buffer[],
  how: 'verified' | 'claimed',
) {
  if (phoneIndexes.length === 0 && idNumberIndexes.length === 0) return [];
  const [phone, idNumber] =
    how === 'verified'
      ? (['link_phone_index', 'link_id_index'] as const)
      : (['phone_index', 'id_number_index'] as const);
  return db
    .selectFrom('passengers')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(phoneIndexes.length ? [eb(phone, '=', sql<Buffer>`any(${phoneIndexes}::bytea[])`)] : []),
        ...(idNumberIndexes.length ? [eb(idNumber, '=', sql<Buffer>`any(${idNumberIndexes}::bytea[])`)] : []),
      ]),
    )
    .$if(how === 'claimed', (q) =>
      q.where((eb) =>
        eb.and([
          ...(phoneIndexes.length
            ? [
                eb.or([
                  eb('link_phone_index', 'is', null),
                  eb('link_phone_index', '!=', sql<Buffer>`all(${phoneIndexes}::bytea[])`),
                ]),
              ]
            : []),
          ...(idNumberIndexes.length
            ? [
                eb.or([
                  eb('link_id_index', 'is', null),
                  eb('link_id_index', '!=', sql<Buffer>`all(${idNumberIndexes}::bytea[])`),
                ]),
              ]
            : []),
        ]),
      ),
    )
    .where('dek_wrapped', 'is not', null)
    .orderBy('created_at')
    .execute();
}

/**
 * One-time codes sent since `since` to this phone, for this passenger, and for this requester (the phone and the
 * requester by their indexes under every key generation in use).
 */
export async function countOtpsSince(
  db: Db,
  since: Date,
  by: { phoneIndexes: Buffer[]; passengerId: string; requesterIndexes: Buffer[] },
) {
  const phone = sql`phone_index = any(${by.phoneIndexes}::bytea[])`;
  const requester = sql`requester_index = any(${by.requesterIndexes}::bytea[])`;
  const r = await sql<{ phone: number; passenger: number; requester: number; last_to_phone: Date | null }>`
    select
      count(*) filter (where ${phone})::int as phone,
      count(*) filter (where passenger_id = ${by.passengerId})::int as passenger,
      count(*) filter (where ${requester})::int as requester,
      max(created_at) filter (where ${phone}) as last_to_phone
    from phone_otps
    where created_at >= ${since} and (${phone} or passenger_id = ${by.passengerId} or ${requester})`.execute(
    db,
  );
  return r.rows[0]!;
}

export async function insertOtp(db: Db, row: Insertable<PhoneOtpsTable>) {
  await db.insertInto('phone_otps').values(row).execute();
}

export async function deleteOtp(db: Db, id: string) {
  await db.deleteFrom('phone_otps').where('id', '=', id).execute();
}

/** The passenger's latest unused code for this phone (its index under any generation in use), locked for the check. */
export async function findLatestOtpForUpdate(db: Db, passengerId: string, phoneIndexes: Buffer[]) {
  return db
    .selectFrom('phone_otps')
    .selectAll()
    .where('passenger_id', '=', passengerId)
    .where('phone_index', '=', sql<Buffer>`any(${phoneIndexes}::bytea[])`)
    .where('used_at', 'is', null)
    .orderBy('created_at', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateOtp(db: Db, id: string, set: Updateable<PhoneOtpsTable>) {
  await db.updateTable('phone_otps').set(set).where('id', '=', id).execute();
}

/** One more accepted subscription; the new count, or null for an unknown or deleted passenger. */
export async function addMessageGrant(db: Db, passengerId: string): Promise<number | null> {
  const row = await db
    .updateTable('passengers')
    .set((eb) => ({ message_grants: eb('message_grants', '+', 1) }))
    .where('id', '=', passengerId)
    .where('deleted_at', 'is', null)
    .where('dek_wrapped', 'is not', null)
    .returning('message_grants')
    .executeTakeFirst();
  return row?.message_grants ?? null;
}

/** Uses one message grant; false when none is left (or the passenger is gone). */
export async function takeMessageGrant(db: Db, passengerId: string): Promise<boolean> {
  const row = await db
    .updateTable('passengers')
    .set((eb) => ({ message_grants: eb('message_grants', '-', 1) }))
    .where('id', '=', passengerId)
    .where('message_grants', '>', 0)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives back a grant whose message could not be delivered for a passing reason. */
export async function returnMessageGrant(db: Db, passengerId: string): Promise<void> {
  await db
    .updateTable('passengers')
    .set((eb) => ({ message_grants: eb('message_grants', '+', 1) }))
    .where('id', '=', passengerId)
    .where('deleted_at', 'is', null)
    .execute();
}
