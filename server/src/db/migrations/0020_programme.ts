import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // The programme as a whole. No row while it runs; `pnpm cli wind-down` inserts the one row that ends it. Servers
  // read `ended_at` every few seconds and refuse new personal data from then on, without a restart. `steps` records
  // the wind-down's progress (an interrupted run resumes), `census` what the database held before anything was
  // destroyed, `certificate` the signed destruction certificate (JSON text, as written to its file).
  await sql`
    create table programme (
      id boolean primary key default true check (id),
      deployment_name text not null,
      ended_at timestamptz not null,
      ended_by text not null,
      steps text[] not null default '{}',
      census text,
      certificate text,
      completed_at timestamptz
    )`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
