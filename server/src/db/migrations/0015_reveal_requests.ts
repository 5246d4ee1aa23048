import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Four-eyes reveal: an official asks to unmask one case's identities, another official decides. An approved row
  // is the grant (that case, that requester, until expires_at). Names are snapshots, as in the audit; the reason
  // and note are sealed with the case key because officials may write personal details into them.
  await sql`
    create table reveal_requests (
      id uuid primary key,
      case_id uuid not null references cases (id) on delete cascade,
      requested_by text not null,
      requester_kind text not null check (requester_kind in ('person', 'system')),
      requester_name text not null,
      requester_agency text,
      reason_sealed bytea not null,
      requested_at timestamptz not null,
      state text not null check (state in ('pending', 'approved', 'refused')),
      self_granted boolean not null default false,
      decided_by text,
      decider_kind text check (decider_kind in ('person', 'system')),
      decider_name text,
      decider_agency text,
      decided_at timestamptz,
      note_sealed bytea,
      expires_at timestamptz not null,
      check ((state = 'pending') = (decided_at is null))
    )`.execute(db);
  // The grant check of every unmasked read: the requester's latest requests for the case.
  await sql`
    create index reveal_requests_grant on reveal_requests (case_id, requested_by, requested_at desc)`.execute(
    db,
  );
  // The approvers' inbox.
  await sql`
    create index reveal_requests_inbox on reveal_requests (state, requested_at desc, id desc)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
