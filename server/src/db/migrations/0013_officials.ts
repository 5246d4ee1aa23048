import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Official persons: the audit names them, not a shared client. The password only as an argon2id hash, the
  // TOTP secret sealed with a system key; failed sign-ins count towards a lock-out.
  await sql`
    create table officials (
      id uuid primary key,
      username text not null unique check (username = lower(username)),
      name text not null,
      agency text not null,
      jurisdiction text[] not null default '{}',
      roles text[] not null check (cardinality(roles) > 0 and
        roles <@ array['tracer', 'notifier', 'supervisor', 'auditor', 'admin']),
      password_hash text not null,
      totp_sealed bytea not null,
      totp_last_step bigint,
      failed_attempts integer not null default 0,
      locked_until timestamptz,
      created_at timestamptz not null default now(),
      disabled_at timestamptz
    )`.execute(db);
  // A sign-in: access tokens name it (sid) and die with it; the refresh token only as a hash.
  await sql`
    create table official_sessions (
      id uuid primary key,
      official_id uuid not null references officials (id),
      refresh_hash bytea not null unique,
      created_at timestamptz not null default now(),
      refreshed_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz
    )`.execute(db);
  await sql`create index official_sessions_official on official_sessions (official_id)`.execute(db);

  // Scopes now match powers: clients created with every scope of their role get the new ones of that role
  // (opening and closing cases, clearing a status, reading the audit, managing officials); narrowed clients keep
  // exactly what they had.
  await sql`
    update clients set scopes = array['case:write', 'trace:read', 'trace:reveal', 'trace:notify', 'status:clear']
    where role = 'official' and scopes @> array['trace:read', 'trace:reveal', 'trace:notify']`.execute(db);
  await sql`
    update clients set scopes = array['admin', 'audit:read', 'officials:admin']
    where role = 'admin' and scopes @> array['admin']`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
