import { sql } from 'kysely';
import type { Db } from '../../db/index.js';

/** Rows below `generation` that hold an identity index (tombstones hold none: nothing to recompute). */
const belowWithIndexes = (generation: number) => sql<boolean>`index_generation < ${generation}
  and (subject_index is not null or phone_index is not null or id_number_index is not null)`;

/** Registrations whose identity indexes may be of a generation before `generation`, in id order after `afterId`. */
export async function findRowsToReindex(db: Db, generation: number, afterId: string | null, limit: number) {
  return db
    .selectFrom('passengers')
    .select([
      'id',
      'subject_index',
      'phone_index',
      'id_number_index',
      'dek_master_key_id',
      'dek_wrapped',
      'phone_sealed',
      'id_number_sealed',
      'id_type',
      'openid_sealed',
    ])
    .where(belowWithIndexes(generation))
    .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function countRowsToReindex(db: Db, generation: number): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from passengers where ${belowWithIndexes(generation)}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** Registrations holding an identity index under `generation`. */
export async function countIndexedRows(db: Db, generation: number): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from passengers where index_generation = ${generation}
      and (subject_index is not null or phone_index is not null or id_number_index is not null)`.execute(db);
  return r.rows[0]?.n ?? 0;
}

type Indexes = readonly [subject: Buffer | null, phone: Buffer | null, idNumber: Buffer | null];

/**
 * Compare-and-set, in one statement: each row gets its indexes under `generation` only if it still holds exactly
 * the indexes they were computed from (a registration that changed its phone meanwhile is left for the next pass).
 * Returns the ids of the rows replaced.
 */
export async function replaceIndexes(
  db: Db,
  generation: number,
  rows: { id: string; old: Indexes; new: Indexes }[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const col = (pick: (r: (typeof rows)[number]) => Buffer | null) => rows.map(pick);
  const r = await sql<{ id: string }>`
    update passengers p set subject_index = v.new_s, phone_index = v.new_p, id_number_index = v.new_i,
      index_generation = ${generation}
    from unnest(
      ${rows.map((r) => r.id)}::uuid[],
      ${col((r) => r.old[0])}::bytea[], ${col((r) => r.old[1])}::bytea[], ${col((r) => r.old[2])}::bytea[],
      ${col((r) => r.new[0])}::bytea[], ${col((r) => r.new[1])}::bytea[], ${col((r) => r.new[2])}::bytea[]
    ) as v(id, old_s, old_p, old_i, new_s, new_p, new_i)
    where p.id = v.id
      and p.subject_index is not distinct from v.old_s
      and p.phone_index is not distinct from v.old_p
      and p.id_number_index is not distinct from v.old_i
    returning p.id`.execute(db);
  return r.rows.map((x) => x.id);
}

/** SMS codes whose hashes are of a generation before `generation`. */
export async function countOldOtps(db: Db, generation: number): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from phone_otps where index_generation < ${generation}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** When the last SMS code of a generation before `generation` expires; null when none is left. */
export async function lastOldOtpExpiry(db: Db, generation: number): Promise<Date | null> {
  const r = await sql<{ at: Date | null }>`
    select max(expires_at) as at from phone_otps where index_generation < ${generation}`.execute(db);
  return r.rows[0]?.at ?? null;
}

/**
 * SMS codes of a generation before `generation` lose their phone, requester and code hashes (their inputs are not
 * stored, so they cannot be recomputed); the rows stay until the purge, counting towards the passenger's hourly
 * limit. The caller waits until they have expired first. Returns how many.
 */
export async function clearOldOtps(db: Db, generation: number): Promise<number> {
  const r = await sql`
    update phone_otps set phone_index = ''::bytea, requester_index = ''::bytea, code_hash = ''::bytea,
      index_generation = ${generation}
    where index_generation < ${generation}`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
