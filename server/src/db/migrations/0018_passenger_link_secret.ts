import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // A ride names its passenger by HMAC(day key, input). With the passenger id as input, the tombstone of a deleted
  // account (which keeps the id) would find the rides until they are purged; the input is a random per-passenger
  // link secret instead, which account deletion destroys. link_since: the first ride day whose rides use the
  // secret; null: every day.
  await sql`
    alter table passengers
      add column link_secret bytea check (octet_length(link_secret) = 32),
      add column link_since date,
      add constraint passengers_link_since_needs_secret check (link_since is null or link_secret is not null)`.execute(
    db,
  );
  // Live registrations get their secret now. Their stored rides keep the id's index (rewriting every ride partition
  // is not worth it: retention drops them within its window). The secret counts from the day after next (UTC):
  // servers still running the previous version index by the id until they stop, which a deploy does before then.
  // gen_random_uuid() is the built-in CSPRNG (pg_strong_random); two make 32 bytes, 244 of them random.
  await sql`
    update passengers
      set link_secret = uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()),
        link_since = (now() at time zone 'UTC')::date + 2
      where deleted_at is null and dek_wrapped is not null`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
