import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // trace_contacts of migration 0009 with the flags of both rides of a row, so that officials see which rides to
  // weigh with care: `flagged` (the carrier-switch flag set at registration: the same passenger on another carrier
  // moments before or after), `late` (sent or registered well after boarding) and the source (manual: registered
  // by staff; offline: an offline scan). Each ride's are one integer, a sum of bits (1 flagged, 2 late, 4 manual,
  // 8 offline): a big trace returns many thousands of rows, and the client parses every column of each. They are
  // columns of rows the function reads anyway: no other change to the query, its parameters or its plan. A new
  // return type cannot replace the old function in place: dropped and created.
  await sql`drop function trace_contacts`.execute(db);
  await sql`
    create function trace_contacts(
      p_keys bytea[], p_from timestamptz, p_to timestamptz, p_window_taxi int, p_window_metro int,
      p_window_bus int, p_window_ferry int, p_lo timestamptz, p_hi timestamptz, p_case_keys bool
    ) returns table (
      case_ride_id uuid, carrier_id int, case_passenger_key bytea, case_boarded_ms float8, kind text, plate text,
      route text, city text, case_ride_bits int, ride_id uuid, passenger_sealed bytea, boarded_ms float8,
      ride_bits int
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
      )
      select cr.id, cr.carrier_id, case when p_case_keys then cr.passenger_key end,
        (extract(epoch from cr.boarded_at) * 1000)::float8, cr.kind, cr.plate, cr.route, cr.city,
        cr.bits, o.id, o.passenger_sealed, (extract(epoch from o.boarded_at) * 1000)::float8,
        o.flagged::int + 2 * o.late::int + 4 * (o.source = 'manual')::int + 8 * (o.source = 'offline')::int
      from cr left join lateral (
        select o.id, o.boarded_at, o.passenger_sealed, o.source, o.late, o.flagged from rides o
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
