import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // A lifetime for every personal record, enforced by the hourly purge. The scan path never writes to passengers, so
  // the purge itself finds out who still rides: it looks a registration's rides up by blind index (as the itinerary
  // does) on `lifetime_check_on`, records the newest ride day it found (`last_ride_on`), and sets the next look
  // before any day it has not seen leaves the retained window. null lifetime_check_on: a new registration, not
  // scheduled yet.
  await sql`
    alter table passengers
      add column last_ride_on date,
      add column lifetime_check_on date`.execute(db);
  // Registrations made before lifetimes existed were never looked at: count them as riding on the day lifetimes
  // began (none loses its identity sooner than PASSENGER_INACTIVE_DAYS from now), and spread their first look over a
  // week instead of one purge looking at every registration.
  await sql`
    update passengers
      set last_ride_on = (now() at time zone 'UTC')::date,
        lifetime_check_on = (now() at time zone 'UTC')::date + 1 + abs(hashtext(id::text)) % 7
      where deleted_at is null`.execute(db);
  // The purge's queries, each on a few rows of a large table: registrations due for a look, new ones to schedule,
  // pending scans, and tombstones of deleted accounts.
  await sql`
    create index passengers_lifetime_check on passengers (lifetime_check_on, id)
      where deleted_at is null`.execute(db);
  await sql`
    create index passengers_lifetime_unscheduled on passengers (created_at)
      where deleted_at is null and lifetime_check_on is null`.execute(db);
  await sql`create index passengers_pending on passengers (updated_at) where pending_sealed is not null`.execute(
    db,
  );
  await sql`create index passengers_deleted on passengers (deleted_at) where deleted_at is not null`.execute(
    db,
  );
  // Whether a registration is still named by a case (before its identity or tombstone goes).
  await sql`create index case_claims_passenger on case_claims (passenger_id)`.execute(db);
  // Closed cases by the time they closed (their data goes CASE_RETENTION_DAYS later), and access-log entries that
  // name no case (they go by their own age).
  await sql`create index cases_closed on cases (closed_at) where status = 'closed'`.execute(db);
  await sql`create index passenger_access_caseless on passenger_access (at) where case_id is null`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
