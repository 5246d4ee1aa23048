import { sql, type Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Appends one entry to the hash chain in one statement (one round trip instead of five: begin, chain lock, last
  // entry, insert, commit). The hash is the one `entryHash` (audit.service.ts) computes and `verifyAuditChain`
  // checks: SHA-256 of the JSON array [seq, at (ISO 8601, milliseconds, UTC), actor, action, case_id, people,
  // request_id, detail, prev_hash] written without spaces; to_json escapes strings as JSON.stringify does.
  // Each statement of a volatile PL/pgSQL function takes a new snapshot, so the last entry is read after the lock
  // is held.
  await sql`
    create function audit_append(
      p_actor text, p_action text, p_case_id uuid, p_people integer, p_request_id text, p_detail text
    ) returns bigint language plpgsql volatile as $$
    declare
      v_seq bigint;
      v_prev text;
      v_at timestamptz;
      v_canonical text;
    begin
      perform pg_advisory_xact_lock(hashtext('ridetrace.audit_log'));
      select seq + 1, hash into v_seq, v_prev from audit_log order by seq desc limit 1;
      v_seq := coalesce(v_seq, 1);
      v_prev := coalesce(v_prev, repeat('0', 64));
      v_at := date_trunc('milliseconds', clock_timestamp());
      v_canonical := '[' || v_seq::text
        || ',' || to_json(to_char(v_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
        || ',' || to_json(p_actor)::text
        || ',' || to_json(p_action)::text
        || ',' || coalesce(to_json(p_case_id)::text, 'null')
        || ',' || p_people::text
        || ',' || coalesce(to_json(p_request_id)::text, 'null')
        || ',' || coalesce(to_json(p_detail)::text, 'null')
        || ',' || to_json(v_prev)::text || ']';
      insert into audit_log (seq, at, actor, action, case_id, people, request_id, detail, prev_hash, hash)
      values (v_seq, v_at, p_actor, p_action, p_case_id, p_people, p_request_id, p_detail, v_prev,
        encode(sha256(convert_to(v_canonical, 'UTF8')), 'hex'));
      return v_seq;
    end $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
