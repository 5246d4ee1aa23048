import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from '../../db/index.js';
import type { CarriersTable } from '../../db/tables.js';

export interface CarrierFilter {
  operatorId?: string | undefined;
  kind?: CarriersTable['kind'] | undefined;
  route?: string | undefined;
  city?: string | undefined;
  status?: 'active' | 'retired' | undefined;
  /** Plate starts with this, case-insensitive. */
  plate?: string | undefined;
  ids?: readonly number[] | undefined;
  afterId?: number | undefined;
  limit: number;
}

export async function insertCarrier(db: Db, row: Insertable<CarriersTable>) {
  return db.insertInto('carriers').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findCarrier(db: Db, id: number) {
  return db.selectFrom('carriers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listCarriers(db: Db, f: CarrierFilter) {
  let q = db.selectFrom('carriers').selectAll().orderBy('id').limit(f.limit);
  if (f.operatorId) q = q.where('operator_id', '=', f.operatorId);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.route) q = q.where('route', '=', f.route);
  if (f.city) q = q.where('city', '=', f.city);
  if (f.status === 'active') q = q.where('retired_at', 'is', null);
  if (f.status === 'retired') q = q.where('retired_at', 'is not', null);
  if (f.plate) {
    // `_` and `%` are LIKE wildcards; the expression matches index carriers_operator_plate_prefix (0026).
    const escaped = f.plate.replace(/[\\%_]/g, '\\$&');
    q = q.where(sql<boolean>`lower(plate) like lower(${escaped}) || '%'`);
  }
  if (f.ids) q = q.where('id', 'in', f.ids.length ? f.ids : [0]);
  if (f.afterId) q = q.where('id', '>', f.afterId);
  return q.execute();
}

export async function updateCarrier(db: Db, id: number, set: Updateable<CarriersTable>) {
  return db
    .updateTable('carriers')
    .set({ ...set, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** New code generation: every poster printed before stops working. */
export async function bumpCodeGeneration(db: Db, id: number) {
  return db
    .updateTable('carriers')
    .set((eb) => ({ code_generation: eb('code_generation', '+', 1), updated_at: new Date() }))
    .where('id', '=', id)
    .where('retired_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function bindStaff(db: Db, clientId: string, carrierId: number) {
  await db
    .insertInto('staff_carriers')
    .values({ client_id: clientId, carrier_id: carrierId })
    .onConflict((oc) => oc.columns(['client_id', 'carrier_id']).doNothing())
    .execute();
}

export async function unbindStaff(db: Db, clientId: string, carrierId: number) {
  await db
    .deleteFrom('staff_carriers')
    .where('client_id', '=', clientId)
    .where('carrier_id', '=', carrierId)
    .execute();
}

export async function listStaffOfCarrier(db: Db, carrierId: number) {
  const rows = await db
    .selectFrom('staff_carriers')
    .select('client_id')
    .where('carrier_id', '=', carrierId)
    .orderBy('client_id')
    .execute();
  return rows.map((r) => r.client_id);
}

export async function isStaffBound(db: Db, clientId: string, carrierId: number): Promise<boolean> {
  const row = await db
    .selectFrom('staff_carriers')
    .select('carrier_id')
    .where('client_id', '=', clientId)
    .where('carrier_id', '=', carrierId)
    .executeTakeFirst();
  return row !== undefined;
}

/** How many carriers each of `clientIds` is bound to (absent: none). */
export async function countStaffBindings(db: Db, clientIds: readonly string[]): Promise<Map<string, number>> {
  if (clientIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('staff_carriers')
    .select(['client_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('client_id', 'in', clientIds)
    .groupBy('client_id')
    .execute();
  return new Map(rows.map((r) => [r.client_id, Number(r.n)]));
}

export async function listCarriersOfStaff(db: Db, clientId: string) {
  return db
    .selectFrom('carriers')
    .innerJoin('staff_carriers', 'staff_carriers.carrier_id', 'carriers.id')
    .selectAll('carriers')
    .where('staff_carriers.client_id', '=', clientId)
    .orderBy('carriers.id')
    .execute();
}

/**
 * Upserts carriers by (operator_id, plate): a new plate is inserted; an existing carrier gets kind, route, city
 * and keeps its id, code generation and retirement; one that already has the row's values is left alone.
 * Returns, per changed row, whether it was created (rows left alone are not returned).
 */
export async function upsertCarriers(
  db: Db,
  rows: Pick<Insertable<CarriersTable>, 'operator_id' | 'kind' | 'plate' | 'route' | 'city'>[],
): Promise<{ created: boolean }[]> {
  return (
    db
      .insertInto('carriers')
      .values(rows)
      .onConflict((oc) =>
        oc
          .columns(['operator_id', 'plate'])
          .doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            route: eb.ref('excluded.route'),
            city: eb.ref('excluded.city'),
            updated_at: sql`now()`,
          }))
          // A row repeated as it is leaves the carrier (and its updated_at) alone.
          .where(
            sql<boolean>`(carriers.kind, carriers.route, carriers.city)
            is distinct from (excluded.kind, excluded.route, excluded.city)`,
          ),
      )
      // xmax is 0 on a row version this statement inserted, and set on one it updated.
      .returning(sql<boolean>`(xmax = 0)`.as('created'))
      .execute()
  );
}
