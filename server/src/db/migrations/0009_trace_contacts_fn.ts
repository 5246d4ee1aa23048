import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The trace's co-passenger query as a function with a fixed generic plan. Sent as SQL it was planned for every
  // trace, and planning it over the day partitions of a two-week window cost more than running it. The generic plan prunes the
  // partitions when it starts (the bounds are parameters) and probes the indexes as the custom plans did: the
  // case's rides by (passenger_key, boarded_at), each carrier by its primary key, the co-passengers of each case
  // ride by (carrier_id, boarded_at). `p_lo` / `p_hi` are the window widened by the longest contact window, so
  // partitions no co-passenger can be in are pruned too; `offset 0` keeps the lateral subquery a per-ride probe
  // (flattened, Postgres may hash-join it over every ride of the window).
  // The case ride itself (and its passenger's other rides of that day) is left out by its own blind index. The
  // SQL before had `<> all(keys)`, which Postgres hashes only for a constant array: with a parameter it compared
  // every co-passenger with every key (thousands in a degree-2 trace). The caller drops
  // the traced people's remaining own rides after decrypting, as it did before.
  // The case ride's blind index comes back only when asked (degree 2 names the degree-1 person a contact came
  // through). A case ride without co-passengers is one row with null ride columns. Times are epoch milliseconds.
  await sql`
    create function trace_contacts(
      p_keys bytea[], p_from timestamptz, p_to timestamptz, p_window_taxi int, p_window_metro int,
      p_window_bus int, p_window_ferry int, p_lo timestamptz, p_hi timestamptz, p_case_keys bool
    ) returns table (
      case_ride_id uuid, carrier_id int, case_passenger_key bytea, case_boarded_ms float8, kind text, plate text,
      route text, city text, ride_id uuid, passenger_sealed bytea, boarded_ms float8
    )
    language plpgsql stable set plan_cache_mode = force_generic_plan as $$
    #variable_conflict use_column
    begin
      return query
      with cr as materialized (
        select r.id, r.carrier_id, r.boarded_at, r.passenger_key, c.kind, c.plate, c.route, c.city,
          make_interval(secs => case c.kind
            when 'taxi' then p_window_taxi when 'metro' then p_window_metro
            when 'bus' then p_window_bus else p_window_ferry end) as w
        from rides r join carriers c on c.id = r.carrier_id
        where r.passenger_key = any(p_keys) and r.boarded_at >= p_from and r.boarded_at <= p_to
      )
      select cr.id, cr.carrier_id, case when p_case_keys then cr.passenger_key end,
        (extract(epoch from cr.boarded_at) * 1000)::float8, cr.kind, cr.plate, cr.route, cr.city,
        o.id, o.passenger_sealed, (extract(epoch from o.boarded_at) * 1000)::float8
      from cr left join lateral (
        select o.id, o.boarded_at, o.passenger_sealed from rides o
        where o.carrier_id = cr.carrier_id
          and o.boarded_at >= cr.boarded_at - cr.w and o.boarded_at <= cr.boarded_at + cr.w
          and o.boarded_at >= p_lo and o.boarded_at <= p_hi
          and o.passenger_key <> cr.passenger_key
        offset 0
      ) o on true
      order by cr.boarded_at, o.boarded_at;
    end
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
