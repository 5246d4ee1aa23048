import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from '../../db/index.js';
import { queryNamed, textArray } from '../../db/params.js';
import type { PassengersTable, SealedIdentity } from '../../db/tables.js';

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

export async function findPassengerBySubject(db: Db, subjectIndex: Buffer) {
  return db.selectFrom('passengers').selectAll().where('subject_index', '=', subjectIndex).executeTakeFirst();
}

export async function findPassenger(db: Db, id: string) {
  return db.selectFrom('passengers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks the passenger row for the rest of the caller's transaction. */
export async function findPassengerForUpdate(db: Db, id: string) {
  return db.selectFrom('passengers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** A known person by phone or ID number blind index; app users before manual riders, oldest first. */
export async function findPassengerByIndex(db: Db, phoneIndex: Buffer, idNumberIndex: Buffer | null) {
  return db
    .selectFrom('passengers')
    .selectAll()
    .where((eb) =>
      idNumberIndex
        ? eb.or([eb('phone_index', '=', phoneIndex), eb('id_number_index', '=', idNumberIndex)])
        : eb('phone_index', '=', phoneIndex),
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
    .select(['id', 'dek_master_key_id', 'dek_wrapped', 'name_sealed', 'phone_sealed', 'id_number_sealed'])
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
 * In one statement: the registrations with these ids, and every other live registration sharing a phone or ID
 * number blind index with one of them (the same person registered as app user and manual rider), oldest first.
 * With the sealed identity columns (not the whole row): the page a trace returns opens its people's identities
 * from these rows, without another round trip.
 */
const REGISTRATION_LINKS = `
  with hit as materialized (
    select id, kind, phone_index, id_number_index, deleted_at is not null as deleted,
      openid_sealed is not null as has_openid, dek_master_key_id, dek_wrapped, name_sealed, phone_sealed,
      id_number_sealed
    from passengers where id = any($1::uuid[])
  )
  select *, false as related from hit
  union all
  select * from (
    select p.id, p.kind, p.phone_index, p.id_number_index, p.deleted_at is not null,
      p.openid_sealed is not null, p.dek_master_key_id, p.dek_wrapped, p.name_sealed, p.phone_sealed,
      p.id_number_sealed, true from passengers p
    where p.dek_wrapped is not null and not (p.id = any($1::uuid[]))
      and (p.phone_index = any(array(select phone_index from hit where phone_index is not null))
        or p.id_number_index = any(array(select id_number_index from hit where id_number_index is not null)))
    order by p.created_at
  ) s`;

const PREPARED_LINKS_MAX = 256;

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

/** Every live passenger with any of the phone or ID number blind indexes. */
export async function findPassengersByIndex(db: Db, phoneIndexes: Buffer[], idNumberIndexes: Buffer[]) {
  if (phoneIndexes.length === 0 && idNumberIndexes.length === 0) return [];
  return db
    .selectFrom('passengers')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(phoneIndexes.length ? [eb('phone_index', '=', sql<Buffer>`any(${phoneIndexes}::bytea[])`)] : []),
        ...(idNumberIndexes.length
          ? [eb('id_number_index', '=', sql<Buffer>`any(${idNumberIndexes}::bytea[])`)]
          : []),
      ]),
    )
    .where('dek_wrapped', 'is not', null)
    .orderBy('created_at')
    .execute();
}
