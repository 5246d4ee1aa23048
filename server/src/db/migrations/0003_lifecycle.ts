import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Account deletion leaves a tombstone: the pseudonymous id stays (rides stay countable), nothing else.
  await db.schema.alterTable('passengers').addColumn('deleted_at', 'timestamptz').execute();
  await sql`create index ride_requests_boarded_at on ride_requests (boarded_at)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
