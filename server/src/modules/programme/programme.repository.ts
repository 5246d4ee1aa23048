import { sql } from 'kysely';
import type { Db } from '../../db/index.js';
import type { ColumnFate, PlanTable } from './wind-down-plan.js';

// Table and column names here come from WIND_DOWN_PLAN (compile-time constants), never from input.

export async function findProgramme(db: Db) {
  return db.selectFrom('programme').selectAll().executeTakeFirst();
}

/** When the programme ended; null while it runs. The servers' flag reads only this. */
export async function programmeEndedAt(db: Db): Promise<Date | null> {
  const row = await db.selectFrom('programme').select('ended_at').executeTakeFirst();
  return row?.ended_at ?? null;
}

/** Ends the programme (idempotent: the first wind-down's row stays). */
export async function insertProgrammeIfMissing(
  db: Db,
  row: { deployment_name: string; ended_at: Date; ended_by: string },
): Promise<void> {
  await db
    .insertInto('programme')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function addStep(db: Db, step: string): Promise<void> {
  await sql`update programme set steps = array_append(steps, ${step}::text)
    where not (${step}::text = any(steps))`.execute(db);
}

export async function saveCensus(db: Db, census: string): Promise<void> {
  await db.updateTable('programme').set({ census }).where('census', 'is', null).execute();
}

export async function saveCertificate(db: Db, certificate: string): Promise<void> {
  await db.updateTable('programme').set({ certificate }).where('certificate', 'is', null).execute();
}

export async function markCompleted(db: Db, at: Date): Promise<void> {
  await db.updateTable('programme').set({ completed_at: at }).where('completed_at', 'is', null).execute();
}

/** The programme row, locked until the caller's transaction ends (one certificate, one audit entry). */
export async function findProgrammeForUpdate(db: Db) {
  return db.selectFrom('programme').selectAll().forUpdate().executeTakeFirst();
}

/** One wind-down at a time (session lock on the caller's connection; released when it closes, even on kill -9). */
export async function tryWindDownLock(db: Db): Promise<boolean> {
  const r = await sql<{
    ok: boolean;
  }>`select pg_try_advisory_lock(hashtext('ridetrace.wind-down')) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

export async function releaseWindDownLock(db: Db): Promise<void> {
  await sql`select pg_advisory_unlock(hashtext('ridetrace.wind-down'))`.execute(db);
}

export async function countRows(db: Db, table: PlanTable): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** How many rows of `table` hold a value in `column` that the wind-down clears. */
export async function countHeld(
  db: Db,
  table: PlanTable,
  column: string,
  fate: Exclude<ColumnFate, 'keep' | 'now'>,
): Promise<number> {
  const c = sql.ref(column);
  const held =
    fate === 'empty'
      ? sql`octet_length(${c}::bytea) > 0`
      : fate === 'zero'
        ? sql`${c} <> 0`
        : sql`${c} is not null`;
  const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where ${held}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** The partitions of `rides`, whatever their names. */
export async function ridePartitions(db: Db): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    join pg_namespace n on n.oid = p.relnamespace
    where p.relname = 'rides' and n.nspname = current_schema()
    order by c.relname`.execute(db);
  return r.rows.map((x) => x.name);
}

export async function dropPartition(db: Db, name: string): Promise<void> {
  await sql`drop table if exists ${sql.table(name)}`.execute(db);
}

export async function dayKeyDays(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('ride_day_keys').select('day').orderBy('day').execute();
  return rows.map((r) => r.day);
}

export async function systemKeyNames(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('system_keys').select('name').orderBy('name').execute();
  return rows.map((r) => r.name);
}

export async function countPassengerKeys(db: Db): Promise<number> {
  const r = await db
    .selectFrom('passengers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('dek_wrapped', 'is not', null)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function countOpenCases(db: Db): Promise<number> {
  const r = await db
    .selectFrom('cases')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function countActiveOfficials(db: Db): Promise<{ persons: number; clients: number }> {
  const persons = await db
    .selectFrom('officials')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  const clients = await db
    .selectFrom('clients')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'official')
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return { persons: Number(persons?.n ?? 0), clients: Number(clients?.n ?? 0) };
}

/** Health systems' API clients get no new token (a case read would find its reason destroyed). */
export async function disableOfficialClients(db: Db, at: Date): Promise<void> {
  await db
    .updateTable('clients')
    .set({ disabled_at: at })
    .where('role', '=', 'official')
    .where('disabled_at', 'is', null)
    .execute();
}

/**
 * Crypto-shredding: every day key, every passenger's data key and ride link secret (what the rides' blind index is
 * computed from), and the named system keys.
 */
export async function destroyKeys(db: Db, systemKeys: readonly string[]): Promise<void> {
  await db.deleteFrom('ride_day_keys').execute();
  await db
    .updateTable('passengers')
    .set({ dek_wrapped: null, dek_master_key_id: null, link_secret: null, link_since: null })
    .where((eb) => eb.or([eb('dek_wrapped', 'is not', null), eb('link_secret', 'is not', null)]))
    .execute();
  if (systemKeys.length) await db.deleteFrom('system_keys').where('name', 'in', systemKeys).execute();
}

export async function deleteAllRows(db: Db, table: PlanTable): Promise<void> {
  await sql`delete from ${sql.table(table)}`.execute(db);
}

/** Sets every cleared and `now` column of `table` in one UPDATE, of the rows that still hold something. */
export async function clearColumns(
  db: Db,
  table: PlanTable,
  columns: [string, Exclude<ColumnFate, 'keep' | 'generated'>][],
  at: Date,
): Promise<void> {
  if (columns.length === 0) return;
  const sets = [];
  const left = [];
  for (const [column, fate] of columns) {
    const c = sql.ref(column);
    if (fate === 'null') {
      sets.push(sql`${c} = null`);
      left.push(sql`${c} is not null`);
    } else if (fate === 'empty') {
      sets.push(sql`${c} = ''::bytea`);
      left.push(sql`octet_length(${c}) > 0`);
    } else if (fate === 'zero') {
      sets.push(sql`${c} = 0`);
      left.push(sql`${c} <> 0`);
    } else {
      sets.push(sql`${c} = coalesce(${c}, ${at}::timestamptz)`);
      left.push(sql`${c} is null`);
    }
  }
  await sql`update ${sql.table(table)} set ${sql.join(sets)} where ${sql.join(left, sql` or `)}`.execute(db);
}

export async function closeOpenCases(db: Db, actor: string, at: Date): Promise<void> {
  await db
    .updateTable('cases')
    .set({ status: 'closed', closed_by: actor, closed_at: at })
    .where('status', '=', 'open')
    .execute();
}

/** Every reveal grant (and pending request) lapses now. */
export async function endRevealGrants(db: Db, at: Date): Promise<void> {
  await db.updateTable('reveal_requests').set({ expires_at: at }).where('expires_at', '>', at).execute();
}

/** The head of the audit chain (seq 0 and the genesis hash while it is empty). */
export async function auditHead(db: Db): Promise<{ seq: number; hash: string } | undefined> {
  return db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Master key ids that wrap any data key still in the database. */
export async function masterKeyIdsInUse(db: Db): Promise<string[]> {
  const r = await sql<{ id: string }>`
    select master_key_id as id from system_keys
    union select master_key_id from ride_day_keys
    union select dek_master_key_id from passengers where dek_master_key_id is not null
    order by id`.execute(db);
  return r.rows.map((x) => x.id);
}
