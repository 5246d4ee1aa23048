import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The super-app user id, sealed with the passenger's key: needed to send super-app messages.
  await db.schema.alterTable('passengers').addColumn('openid_sealed', 'bytea').execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_number', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    .addColumn('infectious_from', 'timestamptz', (c) => c.notNull())
    .addColumn('infectious_to', 'timestamptz', (c) => c.notNull())
    .addColumn('reason_sealed', 'bytea', (c) => c.notNull())
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_by', 'text')
    .addColumn('closed_at', 'timestamptz')
    .addCheckConstraint('cases_window', sql`infectious_from <= infectious_to`)
    .execute();
  await db.schema.createIndex('cases_status').on('cases').columns(['status', 'opened_at']).execute();

  await db.schema
    .createTable('case_subjects')
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('passenger_id', 'uuid', (c) => c.notNull())
    .addPrimaryKeyConstraint('case_subjects_pk', ['case_id', 'passenger_id'])
    .execute();
  await db.schema.createIndex('case_subjects_passenger').on('case_subjects').column('passenger_id').execute();

  // Yellow status: one mark per exposed person per case, until observe_until or an official clears it.
  await db.schema
    .createTable('exposure_marks')
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('passenger_id', 'uuid', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull().check(sql`level in ('close', 'possible')`))
    .addColumn('carrier_id', 'integer', (c) => c.notNull())
    .addColumn('boarded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('observe_until', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('cleared_at', 'timestamptz')
    .addColumn('cleared_by', 'text')
    .addPrimaryKeyConstraint('exposure_marks_pk', ['case_id', 'passenger_id'])
    .execute();
  await db.schema
    .createIndex('exposure_marks_passenger')
    .on('exposure_marks')
    .column('passenger_id')
    .execute();

  // The notification outbox: one row per exposed person per case, both the delivery state and the job.
  // The channel starts as the super-app message when the person has the app, and falls back to SMS.
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('passenger_id', 'uuid', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('app', 'sms')`))
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state in ('queued', 'sending', 'sent', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addUniqueConstraint('notifications_once', ['case_id', 'passenger_id'])
    .execute();
  await sql`create index notifications_due on notifications (next_attempt_at) where state in ('queued', 'sending')`.execute(
    db,
  );
  await db.schema.createIndex('notifications_passenger').on('notifications').column('passenger_id').execute();

  // Append-only, hash-chained audit log of every official action.
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('case_id', 'uuid')
    .addColumn('people', 'integer', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('detail', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_case').on('audit_log').columns(['case_id', 'seq']).execute();
  await sql`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`create trigger audit_log_no_update before update or delete on audit_log
    for each row execute function audit_log_append_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only()`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
