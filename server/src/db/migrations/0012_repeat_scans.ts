import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // insert_rides of migration 0008 plus repeat scans: a ride of the same passenger on the same carrier within
  // p_repeat_window seconds (either side, so a late offline scan counts too) is not inserted again; its request
  // key is claimed for the earlier ride, and the row comes back with repeat_id and repeat_boarded_at set. The
  // repeat probe uses the same neighbour keys as the carrier-switch flag (they cover the wider of the two
  // windows) and stops at the first match; a zero window skips it. The flag keeps its own short-circuit EXISTS.
  await sql`drop function insert_rides`.execute(db);
  await sql`
    create function insert_rides(
      p_id uuid[], p_carrier_id int[], p_generation int[], p_boarded_at_ms int8[], p_passenger_key bytea,
      p_passenger_sealed bytea, p_sealed_end int[], p_source text[], p_late bool[], p_received_at_ms int8[],
      p_registered_by text[], p_request_key bytea, p_switch_window int[], p_passenger_id uuid[],
      p_owner uuid[], p_neighbour bytea[], p_key_len int, p_lo timestamptz, p_hi timestamptz,
      p_repeat_window int[]
    ) returns table (id uuid, flagged bool, kind text, plate text, route text, city text, repeat_id uuid,
                     repeat_boarded_at timestamptz)
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
          make_interval(secs => p_switch_window[i]) as switch_window,
          make_interval(secs => p_repeat_window[i]) as repeat_window,
          p_passenger_id[i] as passenger_id
        from generate_series(1, cardinality(p_id)) as g(i)
      ), valid as (
        select i.*, c.kind, c.plate, c.route, c.city, rep.id as repeat_id, rep.boarded_at as repeat_boarded_at
        from input i join carriers c on c.id = i.carrier_id
        left join lateral (
          select r.id, r.boarded_at
          from unnest(p_owner, p_neighbour) as n(owner, key)
          join rides r on r.passenger_key = n.key
          -- carrier_id + 0: probe the passenger's index (a few rides per window), never the carrier's key (hundreds)
          where i.repeat_window > interval '0' and n.owner = i.id and r.carrier_id + 0 = i.carrier_id
            and r.boarded_at between i.boarded_at - i.repeat_window and i.boarded_at + i.repeat_window
            and r.boarded_at between p_lo and p_hi
          limit 1
        ) rep on true
        where c.retired_at is null and (i.generation is null or c.code_generation = i.generation)
          and (select p.deleted_at is null from passengers p where p.id = i.passenger_id)
      ), req as (
        insert into ride_requests (request_key, ride_id, carrier_id, boarded_at)
        select v.request_key, coalesce(v.repeat_id, v.id), v.carrier_id, coalesce(v.repeat_boarded_at, v.boarded_at)
        from valid v
        on conflict (request_key) do nothing
        returning request_key
      ), ins as (
        insert into rides (id, carrier_id, boarded_at, passenger_key, passenger_sealed, source, late, flagged,
                           received_at, registered_by)
        select v.id, v.carrier_id, v.boarded_at, v.passenger_key, v.passenger_sealed, v.source, v.late,
          exists (
            select 1 from unnest(p_owner, p_neighbour) as n(owner, key)
            join rides r on r.passenger_key = n.key
            where n.owner = v.id
              and r.boarded_at between v.boarded_at - v.switch_window and v.boarded_at + v.switch_window
              and r.boarded_at between p_lo and p_hi
              and r.carrier_id <> v.carrier_id
          ),
          v.received_at, v.registered_by
        from valid v join req on req.request_key = v.request_key
        where v.repeat_id is null
        returning rides.id, rides.flagged
      )
      select ins.id, ins.flagged, v.kind, v.plate, v.route, v.city, null::uuid, null::timestamptz
      from ins join valid v on v.id = ins.id
      union all
      select v.id, false, v.kind, v.plate, v.route, v.city, v.repeat_id, v.repeat_boarded_at
      from valid v join req on req.request_key = v.request_key
      where v.repeat_id is not null;
    end
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
