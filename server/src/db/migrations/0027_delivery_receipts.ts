import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Delivery receipts: the provider's id of a sent message (`<channel>:<id>`, so the two channels' ids never
  // collide) finds the row a receipt is about; `delivered` is the state after a receipt says it reached the phone.
  await sql`
    alter table notifications
      add column provider_message_id text,
      add column delivered_at timestamptz`.execute(db);
  await sql`alter table notifications drop constraint notifications_state_check`.execute(db);
  await sql`
    alter table notifications add constraint notifications_state_check
      check (state in ('queued', 'sending', 'sent', 'delivered', 'failed'))`.execute(db);
  // Only sent messages have an id: a partial index keeps the queued backlog out of it.
  await sql`
    create unique index notifications_provider_message on notifications (provider_message_id)
      where provider_message_id is not null`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
