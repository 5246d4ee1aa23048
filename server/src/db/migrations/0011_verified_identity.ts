import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // How each phone and ID number is known. Only verified ones link registrations into one person: the link_*
  // columns hold an index only while its source is verified, so every linking query reads them and nothing else.
  await sql`
    alter table passengers
      add column phone_source text check (phone_source in ('superapp', 'otp', 'staff', 'self')),
      add column id_source text check (id_source in ('staff', 'self')),
      add column message_grants integer not null default 0 check (message_grants >= 0)`.execute(db);
  await sql`
    update passengers set phone_source = case kind when 'manual' then 'staff' else 'self' end
    where phone_index is not null`.execute(db);
  await sql`
    update passengers set id_source = case kind when 'manual' then 'staff' else 'self' end
    where id_number_index is not null`.execute(db);
  await sql`
    alter table passengers
      add column link_phone_index bytea generated always as
        (case when phone_source in ('superapp', 'otp', 'staff') then phone_index end) stored,
      add column link_id_index bytea generated always as
        (case when id_source = 'staff' then id_number_index end) stored`.execute(db);
  await sql`create index passengers_link_phone on passengers (link_phone_index) where link_phone_index is not null`.execute(
    db,
  );
  await sql`create index passengers_link_id on passengers (link_id_index) where link_id_index is not null`.execute(
    db,
  );

  // Registrations that only claim a case subject's phone or ID number (typed, unverified): shown to officials,
  // never traced.
  await sql`
    create table case_claims (
      case_id uuid not null references cases (id),
      passenger_id uuid not null references passengers (id),
      primary key (case_id, passenger_id)
    )`.execute(db);

  // SMS one-time codes: the code only as a keyed hash; rows stay an hour after use for the rate limits.
  await sql`
    create table phone_otps (
      id uuid primary key,
      passenger_id uuid not null references passengers (id),
      phone_index bytea not null,
      requester_index bytea not null,
      code_hash bytea not null,
      attempts integer not null default 0,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index phone_otps_passenger on phone_otps (passenger_id, created_at)`.execute(db);
  await sql`create index phone_otps_phone on phone_otps (phone_index, created_at)`.execute(db);
  await sql`create index phone_otps_requester on phone_otps (requester_index, created_at)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
