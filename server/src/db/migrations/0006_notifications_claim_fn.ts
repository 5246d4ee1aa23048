import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The notification claim as one statement (one round trip instead of four: begin, planner setting, claim,
  // commit). Sorting is off for the function only: right after a case queues 10k rows the statistics are stale,
  // and the planner would sort every due row on each claim; without a sort the only plan left walks the partial
  // indexes of migration 0004 in order and reads `$1` rows whatever the estimate. The CTEs are read on demand, so
  // `due` locks only as many rows as `leased` leaves room for. $1: how many rows, $2: the lease in seconds.
  await sql`
    create function claim_notifications(integer, integer) returns setof notifications
    language sql volatile set enable_sort = off as $$
      with leased as (
        select id from notifications
        where state = 'sending' and locked_until < now()
        order by locked_until
        limit $1
        for update skip locked
      ), due as (
        select id from notifications
        where state = 'queued' and next_attempt_at <= now()
        order by next_attempt_at
        limit $1
        for update skip locked
      ), claim as (
        select id from leased union all select id from due limit $1
      )
      update notifications n set state = 'sending', attempts = n.attempts + 1,
        locked_until = now() + make_interval(secs => $2), updated_at = now()
      from claim
      where n.id = claim.id
      returning n.*
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
