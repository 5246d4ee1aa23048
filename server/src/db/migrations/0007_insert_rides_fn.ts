import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The ride INSERT (group commit) as a function with a fixed generic plan. As a prepared statement its plan was
  // left to the plan cache: with stale statistics (a new day's partition, a freshly filled passengers table) the
  // generic plan it chose joined every passenger against the batch, and for single rides it kept re-planning.
  // The passenger check is a scalar subquery, so it stays one
  // primary-key probe per ride whatever the statistics; the carrier-switch lookup's bounds (`lo`, `hi`) prune
  // the ride partitions when the plan starts. Rides missing from the result failed a check or found their
  // request key already used.
  await sql`
    create function insert_rides(
      p_id uuid[], p_carrier_id int[], p_generation int[], p_boarded_at timestamptz[], p_passenger_key bytea[],
      p_passenger_sealed bytea[], p_source text[], p_late bool[], p_received_at timestamptz[],
      p_registered_by text[], p_request_key bytea[], p_switch_window int[], p_passenger_id uuid[],
      p_owner uuid[], p_neighbour bytea[], p_lo timestamptz, p_hi timestamptz
    ) returns table (
      id uuid, carrier_id int, boarded_at timestamptz, received_at timestamptz, source text, late bool,
      flagged bool, kind text, plate text, route text, city text
    )
    language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
    #variable_conflict use_column
    begin
      return query
      with input as (
        select * from unnest(
          p_id, p_carrier_id, p_generation, p_boarded_at, p_passenger_key, p_passenger_sealed, p_source, p_late,
          p_received_at, p_registered_by, p_request_key, p_switch_window, p_passenger_id
        ) as t(id, carrier_id, generation, boarded_at, passenger_key, passenger_sealed, source, late, received_at,
               registered_by, request_key, switch_window, passenger_id)
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
        returning rides.id, rides.carrier_id, rides.boarded_at, rides.received_at, rides.source, rides.late,
                  rides.flagged
      )
      select ins.id, ins.carrier_id, ins.boarded_at, ins.received_at, ins.source, ins.late, ins.flagged,
             v.kind, v.plate, v.route, v.city
      from ins join valid v on v.id = ins.id;
    end
    $$`.execute(db);
  // Never read: the retention purge deletes requests by boarded_at (migration 0003). One index less per ride.
  await sql`drop index ride_requests_created_at`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
