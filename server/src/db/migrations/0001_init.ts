import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('operators')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('staff', 'operator', 'official', 'admin')`),
    )
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('operator_id', 'text', (c) => c.references('operators.id'))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('disabled_at', 'timestamptz')
    .addCheckConstraint(
      'clients_operator_role',
      sql`(role in ('staff', 'operator')) = (operator_id is not null)`,
    )
    .execute();

  await db.schema
    .createTable('carriers')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('operator_id', 'text', (c) => c.notNull().references('operators.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('bus', 'taxi', 'metro', 'ferry')`))
    .addColumn('plate', 'text', (c) => c.notNull())
    .addColumn('route', 'text')
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('code_generation', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`code_generation between 1 and 65535`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retired_at', 'timestamptz')
    .addUniqueConstraint('carriers_operator_plate', ['operator_id', 'plate'])
    .execute();
  await db.schema
    .createIndex('carriers_operator_kind')
    .on('carriers')
    .columns(['operator_id', 'kind', 'id'])
    .execute();
  await db.schema
    .createIndex('carriers_operator_city_route')
    .on('carriers')
    .columns(['operator_id', 'city', 'route', 'id'])
    .execute();

  await db.schema
    .createTable('staff_carriers')
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('carrier_id', 'integer', (c) => c.notNull().references('carriers.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('staff_carriers_pk', ['client_id', 'carrier_id'])
    .execute();
  await db.schema.createIndex('staff_carriers_carrier').on('staff_carriers').column('carrier_id').execute();

  // Data keys wrapped by a master key (id kept with every wrapped key, so keys rotate online).
  await db.schema
    .createTable('system_keys')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('wrapped', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One data key per ride day; destroying the row crypto-shreds that day's rides.
  await db.schema
    .createTable('ride_day_keys')
    .addColumn('day', 'date', (c) => c.primaryKey())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('wrapped', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('passengers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('app', 'manual')`))
    .addColumn('subject_index', 'bytea', (c) => c.unique())
    .addColumn('dek_master_key_id', 'text')
    .addColumn('dek_wrapped', 'bytea')
    .addColumn('name_sealed', 'bytea')
    .addColumn('phone_sealed', 'bytea')
    .addColumn('id_number_sealed', 'bytea')
    .addColumn('phone_index', 'bytea')
    .addColumn('id_number_index', 'bytea')
    .addColumn('consent_version', 'text')
    .addColumn('consented_at', 'timestamptz')
    .addColumn('pending_sealed', 'bytea')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('passengers_phone_index').on('passengers').column('phone_index').execute();
  await db.schema
    .createIndex('passengers_id_number_index')
    .on('passengers')
    .column('id_number_index')
    .execute();

  // Rides: partitioned by day (purge = drop partition + destroy day key). The primary key leads with
  // carrier_id so the table can be distributed by carrier on Citus, and it serves the co-passenger
  // lookup (carrier_id, boarded_at). The passenger is only a per-day blind index plus a sealed id.
  await sql`
    create table rides (
      id uuid not null,
      carrier_id integer not null,
      boarded_at timestamptz not null,
      passenger_key bytea not null,
      passenger_sealed bytea not null,
      source text not null check (source in ('scan', 'offline', 'manual')),
      late boolean not null default false,
      flagged boolean not null default false,
      received_at timestamptz not null default now(),
      registered_by text,
      primary key (carrier_id, boarded_at, id)
    ) partition by range (boarded_at)
  `.execute(db);
  await sql`create index rides_passenger_key on rides (passenger_key, boarded_at)`.execute(db);

  // Idempotency of scans: HMAC(passenger, clientRideId) → ride. Kept apart from the partitioned
  // table because a retried scan may carry a different server time.
  await db.schema
    .createTable('ride_requests')
    .addColumn('request_key', 'bytea', (c) => c.primaryKey())
    .addColumn('ride_id', 'uuid', (c) => c.notNull())
    .addColumn('carrier_id', 'integer', (c) => c.notNull())
    .addColumn('boarded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('ride_requests_created_at').on('ride_requests').column('created_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
