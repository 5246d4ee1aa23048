import type { Db } from '../../db/index.js';
import type { ClientsTable } from '../../db/tables.js';
import type { Insertable } from 'kysely';

export async function insertOperator(db: Db, id: string, name: string) {
  return db
    .insertInto('operators')
    .values({ id, name })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findOperator(db: Db, id: string) {
  return db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findOperatorIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('operators').select('id').where('id', 'in', ids).execute();
  return rows.map((r) => r.id);
}

export async function listOperators(db: Db) {
  return db.selectFrom('operators').selectAll().orderBy('id').execute();
}

export async function insertClient(db: Db, row: Insertable<ClientsTable>) {
  return db.insertInto('clients').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findClient(db: Db, clientId: string) {
  return db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export async function listClients(db: Db) {
  return db.selectFrom('clients').selectAll().orderBy('created_at').execute();
}

/** Staff clients of one operator (null: of every operator), oldest first. */
export async function listStaffClients(db: Db, operatorId: string | null) {
  let q = db.selectFrom('clients').selectAll().where('role', '=', 'staff');
  if (operatorId !== null) q = q.where('operator_id', '=', operatorId);
  return q.orderBy('created_at').execute();
}

export async function updateClient(
  db: Db,
  clientId: string,
  set: { disabled_at?: Date | null; secret_hash?: string },
) {
  return db
    .updateTable('clients')
    .set(set)
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}
