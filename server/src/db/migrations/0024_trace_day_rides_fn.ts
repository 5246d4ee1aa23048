import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Degree 2 traces the rides of up to a thousand close contacts, often on the crowded buses they met the case on,
  // where they are each other's co-passengers. trace_contacts (0017) probes every case ride's window on its own:
  // a thousand contacts on one bus read the same few hundred rides a thousand times, return every pair of contacts
  // only for the caller to drop them after decrypting, and send each co-passenger ride once per case ride near it
  // (tens of thousands of rows to parse). This function is called once per ride day with that day's blind indexes
  // (an index exists on one day only, so one day's rides are probed, not every day of the window per index). It
  // returns the rides of those indexes (`traced`, with their carrier) and, once each, the other rides within a
  // contact window of them (`traced` false, with the sealed passenger): the windows of the traced rides on a carrier
  // are merged into spans (overlapping windows, one span), each span is read once through the primary key, and the
  // traced indexes' own rides are left out there (a hashed anti-join, built once per call). The caller pairs them
  // by the same rule as trace_contacts. `p_day_to` is the end of the day (exclusive): the indexes cannot be on the
  // next day's rides, and without it the inclusive bound would add the next day's partition to every probe. `p_lo` /
  // `p_hi` are [p_from, p_to] widened by the longest window (partition pruning, as in trace_contacts).
  await sql`
    create function trace_day_rides(
      p_keys bytea[], p_from timestamptz, p_to timestamptz, p_day_to timestamptz, p_window_taxi int,
      p_window_metro int, p_window_bus int, p_window_ferry int, p_lo timestamptz, p_hi timestamptz
    ) returns table (
      traced bool, ride_id uuid, carrier_id int, boarded_ms float8, ride_bits int, passenger_key bytea,
      passenger_sealed bytea, kind text, plate text, route text, city text
    )
    language plpgsql stable set plan_cache_mode = force_generic_plan as $$
    #variable_conflict use_column
    begin
      return query
      with cr as materialized (
        select r.id, r.carrier_id, r.boarded_at, r.passenger_key, c.kind, c.plate, c.route, c.city,
          r.flagged::int + 2 * r.late::int + 4 * (r.source = 'manual')::int + 8 * (r.source = 'offline')::int
            as bits,
          make_interval(secs => case c.kind
            when 'taxi' then p_window_taxi when 'metro' then p_window_metro
            when 'bus' then p_window_bus else p_window_ferry end) as w
        from rides r join carriers c on c.id = r.carrier_id
        where r.passenger_key = any(p_keys) and r.boarded_at >= p_from and r.boarded_at <= p_to
          and r.boarded_at < p_day_to
      ),
      edges as (
        select cr.carrier_id, cr.boarded_at - cr.w as lo, cr.boarded_at + cr.w as hi,
          coalesce(cr.boarded_at - cr.w > max(cr.boarded_at + cr.w) over (partition by cr.carrier_id
            order by cr.boarded_at - cr.w rows between unbounded preceding and 1 preceding), false)::int as starts
        from cr
      ),
      islands as (
        select e.carrier_id, e.lo, e.hi,
          sum(e.starts) over (partition by e.carrier_id order by e.lo rows unbounded preceding) as island
        from edges e
      ),
      spans as (
        select i.carrier_id, min(i.lo) as lo, max(i.hi) as hi from islands i group by i.carrier_id, i.island
      )
      select true, cr.id, cr.carrier_id, (extract(epoch from cr.boarded_at) * 1000)::float8, cr.bits,
        cr.passenger_key, null::bytea, cr.kind, cr.plate, cr.route, cr.city
      from cr
      union all
      select false, x.id, s.carrier_id, (extract(epoch from x.boarded_at) * 1000)::float8,
        x.flagged::int + 2 * x.late::int + 4 * (x.source = 'manual')::int + 8 * (x.source = 'offline')::int,
        null::bytea, x.passenger_sealed, null::text, null::text, null::text, null::text
      from spans s cross join lateral (
        select x.id, x.boarded_at, x.passenger_key, x.passenger_sealed, x.source, x.late, x.flagged from rides x
        where x.carrier_id = s.carrier_id and x.boarded_at >= s.lo and x.boarded_at <= s.hi
          and x.boarded_at >= p_lo and x.boarded_at <= p_hi
        offset 0
      ) x
      where x.passenger_key not in (select k from unnest(p_keys) k);
    end
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
