import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The ride INSERT of migration 0007 with cheaper parameters and a narrower result, for the server's CPU per
  // scan. The rides' 32-byte blind indexes (passenger and request) come as one packed bytea each (sent in
  // binary, sliced here) instead of bytea arrays, which the driver hex-encoded and escaped element by element;
  // the sealed passenger ids are one packed bytea with the end offset of each. The neighbour keys of the
  // carrier-switch lookup stay an array: unnested, they are joined to the rides' index one by one (computed
  // from a packed bytea, the planner hashed them and read every ride of the time window instead). The result
  // holds only what the server does not know already (the id, the carrier-switch flag and the carrier's display
  // fields): no timestamps to parse back. Times come as epoch milliseconds (exact: the division is numeric).
  await sql`drop function insert_rides`.execute(db);
  await sql`
    create function insert_rides(
      p_id uuid[], p_carrier_id int[], p_generation int[], p_boarded_at_ms int8[], p_passenger_key bytea,
      p_passenger_sealed bytea, p_sealed_end int[], p_source text[], p_late bool[], p_received_at_ms int8[],
      p_registered_by text[], p_request_key bytea, p_switch_window int[], p_passenger_id uuid[],
      p_owner uuid[], p_neighbour bytea[], p_key_len int, p_lo timestamptz, p_hi timestamptz
    ) returns table (id uuid, flagged bool, kind text, plate text, route text, city text)
    language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
    #variable_conflict use_column
    begin
      return query
      with input as (
        select p_id[i] as id, p_carrier_id[i] as carrier_id, p_generation[i] as generation,
          to_timestamp(p_boarded_at_ms[i] / 1000.0) as boarded_at,
          substring(p_passenger_key from (i - 1) * p_key_len + 1 for p_key_len) as passenger_key,
          substring(p_passenger_sealed from coalesce(p_sealed_end[i - 1], 0) + 1
                    for p_sealed_end[i] - coalesce(p_sealed_end[i - 1], 0)) as passenger_sealed,
          p_source[i] as source, p_late[i] as late, to_timestamp(p_received_at_ms[i] / 1000.0) as received_at,
          p_registered_by[i] as registered_by,
          substring(p_request_key from (i - 1) * p_key_len + 1 for p_key_len) as request_key,
          p_switch_window[i] as switch_window, p_passenger_id[i] as passenger_id
        from generate_series(1, cardinality(p_id)) as g(i)
      ), valid as (
        select i.*, c.kind, c.plate, c.route, c.city
        from input i join carriers c on c.id = i.carrier_id
        where c.retired_at is null and (i.generation is null or c.code_generation = i.generation)
          and (select p.deleted_at is null from passengers p where p.id = i.passenger_id)
      ), req as (
        insert into ride_requests (request_key, ride_id, carrier_id, boarded_at)
        select v.request_key, v.id, v.carrier_id, v.boarded_at from valid v
        on conflict (request_key) do nothing
        returning ride_id
      ), ins as (
        insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, late, flagged,
                           received_at, registered_by)
        select v.id, v.carrier_id, v.boarded_at, v.passenger_key, v.passenger_sealed, v.source, v.late,
          exists (
            select 1 from unnest(p_owner, p_neighbour) as n(owner, key)
            join rides r on r.passenger_key = n.key
            where n.owner = v.id
              and r.boarded_at between v.boarded_at - make_interval(secs => v.switch_window)
                                   and v.boarded_at + make_interval(secs => v.switch_window)
              and r.boarded_at between p_lo and p_hi
              and r.carrier_id <> v.carrier_id
          ),
          v.received_at, v.registered_by
        from valid v join req on req.ride_id = v.id
        returning rides.id, rides.flagged
      )
      select ins.id, ins.flagged, v.kind, v.plate, v.route, v.city
      from ins join valid v on v.id = ins.id;
    end
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
