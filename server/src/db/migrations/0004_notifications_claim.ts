import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The worker claims due rows and rows whose lease ran out in two branches, each walking its own index in order
  // (a claim reads only the rows it takes, instead of sorting every due row). Rows in flight or done leave the
  // queued index, so claiming does not add entries to it.
  await sql`create index notifications_queued on notifications (next_attempt_at) where state = 'queued'`.execute(
    db,
  );
  await sql`create index notifications_leased on notifications (locked_until) where state = 'sending'`.execute(
    db,
  );
  await sql`drop index notifications_due`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
