import type { Database } from '../../db/tables.js';

/**
 * What the wind-down leaves in a column of a table whose rows stay:
 * - `keep`: no personal data (the table's `why` says so);
 * - `null`, `empty` (no bytes, for a non-null column), `zero`: personal data, its key or a link to a person: cleared;
 * - `generated`: computed by the database from cleared columns, so cleared with them;
 * - `now`: a state set to the wind-down's time where it is unset (a passenger's tombstone, an official's account).
 */
export type ColumnFate = 'keep' | 'null' | 'empty' | 'zero' | 'generated' | 'now';

/**
 * Each table's fate: its rows deleted, its rows kept with a fate for every column, or left to a step of its own
 * (`keys`: the key tables; `partitions`: rides, whose partitions are dropped).
 */
export type TableFate<T> =
  | { rows: 'delete' | 'keys' | 'partitions'; why: string }
  | { rows: 'keep'; why: string; columns: { [C in keyof T & string]: ColumnFate } };

/**
 * The wind-down, table by table and column by column. The compiler checks it against `Database`: a table or a
 * column added anywhere fails to compile until someone decides here what the end of the programme does with it.
 */
export const WIND_DOWN_PLAN = {
  operators: {
    rows: 'keep',
    why: 'transport operators are organisations',
    columns: { id: 'keep', name: 'keep', created_at: 'keep' },
  },
  clients: {
    rows: 'keep',
    why:
      'API accounts of operators, staff devices and health systems; the audit log names them as actors. Health ' +
      "systems' clients (role official) are disabled: nothing is left to trace",
    columns: {
      client_id: 'keep',
      name: 'keep',
      role: 'keep',
      scopes: 'keep',
      operator_id: 'keep',
      secret_hash: 'keep',
      created_at: 'keep',
      disabled_at: 'keep',
    },
  },
  carriers: {
    rows: 'keep',
    why: 'vehicles (plate, route, city), never a person',
    columns: {
      id: 'keep',
      operator_id: 'keep',
      kind: 'keep',
      plate: 'keep',
      route: 'keep',
      city: 'keep',
      code_generation: 'keep',
      created_at: 'keep',
      updated_at: 'keep',
      retired_at: 'keep',
    },
  },
  staff_carriers: {
    rows: 'keep',
    why: 'which staff account serves which vehicle',
    columns: { client_id: 'keep', carrier_id: 'keep', created_at: 'keep' },
  },
  officials: {
    rows: 'keep',
    why:
      'officials stay named as the audit log names them (accountability for every access); their accounts are ' +
      'disabled and their TOTP secrets, sealed with the destroyed case key, cleared',
    columns: {
      id: 'keep',
      username: 'keep',
      name: 'keep',
      agency: 'keep',
      jurisdiction: 'keep',
      roles: 'keep',
      operator_id: 'keep',
      password_hash: 'keep',
      totp_sealed: 'empty',
      totp_last_step: 'null',
      failed_attempts: 'keep',
      locked_until: 'keep',
      created_at: 'keep',
      disabled_at: 'now',
    },
  },
  official_sessions: { rows: 'delete', why: "officials' sign-in sessions: all end" },
  system_keys: {
    rows: 'keys',
    why: 'every key that protects personal data is destroyed; code-signing keys (vehicles only) stay',
  },
  ride_day_keys: { rows: 'keys', why: "each day's key seals that day's rides: all destroyed" },
  ride_calendar: {
    rows: 'keep',
    why: 'which time zone counted ride days since when; no personal data',
    columns: { id: 'keep', since: 'keep', time_zone: 'keep', created_at: 'keep' },
  },
  passengers: {
    rows: 'keep',
    why:
      'a tombstone per pseudonym, as account deletion leaves it: every sealed field, index, key and the ' +
      'super-app link cleared, consent withdrawn',
    columns: {
      id: 'keep',
      kind: 'keep',
      subject_index: 'null',
      dek_master_key_id: 'null',
      dek_wrapped: 'null',
      name_sealed: 'null',
      phone_sealed: 'null',
      id_number_sealed: 'null',
      phone_index: 'null',
      id_number_index: 'null',
      id_type: 'null',
      consent_version: 'null',
      consented_at: 'null',
      pending_sealed: 'null',
      openid_sealed: 'null',
      deleted_at: 'now',
      created_at: 'keep',
      updated_at: 'keep',
      phone_source: 'null',
      id_source: 'null',
      message_grants: 'zero',
      link_phone_index: 'generated',
      link_id_index: 'generated',
      link_secret: 'null',
      link_since: 'null',
      last_ride_on: 'null',
      lifetime_check_on: 'null',
      index_generation: 'keep',
    },
  },
  case_claims: { rows: 'delete', why: 'links of cases to passengers' },
  phone_otps: { rows: 'delete', why: 'phone indexes and code hashes of verifications' },
  rides: { rows: 'partitions', why: 'movement data: every partition dropped' },
  ride_requests: { rows: 'delete', why: 'per-passenger idempotency keys with vehicle and boarding time' },
  cases: {
    rows: 'keep',
    why:
      "the health authority's case numbers and windows stay as the audit log refers to them; the reason " +
      '(health data) is cleared and open cases are closed',
    columns: {
      id: 'keep',
      case_number: 'keep',
      status: 'keep',
      infectious_from: 'keep',
      infectious_to: 'keep',
      reason_sealed: 'empty',
      opened_by: 'keep',
      opened_at: 'keep',
      closed_by: 'keep',
      closed_at: 'keep',
    },
  },
  case_subjects: { rows: 'delete', why: 'which passenger a case is about' },
  exposure_marks: { rows: 'delete', why: 'who was exposed, on which vehicle, when' },
  notifications: { rows: 'delete', why: 'messages to exposed persons and their delivery state' },
  audit_log: {
    rows: 'keep',
    why:
      'the legal record of who read or changed what: actors, counts and case ids, never a passenger; ' +
      'append-only (a changed entry would break the hash chain)',
    columns: {
      seq: 'keep',
      at: 'keep',
      actor: 'keep',
      action: 'keep',
      case_id: 'keep',
      people: 'keep',
      request_id: 'keep',
      detail: 'keep',
      prev_hash: 'keep',
      hash: 'keep',
    },
  },
  passenger_access: { rows: 'delete', why: "each passenger's log of who read their data" },
  reveal_requests: {
    rows: 'keep',
    why:
      'who asked to unmask which case and who decided (accountability); the reason and note, where officials ' +
      'may have written personal details, are cleared and every grant ends',
    columns: {
      id: 'keep',
      case_id: 'keep',
      requested_by: 'keep',
      requester_kind: 'keep',
      requester_name: 'keep',
      requester_agency: 'keep',
      reason_sealed: 'empty',
      requested_at: 'keep',
      state: 'keep',
      self_granted: 'keep',
      decided_by: 'keep',
      decider_kind: 'keep',
      decider_name: 'keep',
      decider_agency: 'keep',
      decided_at: 'keep',
      note_sealed: 'null',
      expires_at: 'keep',
    },
  },
  programme: {
    rows: 'keep',
    why: 'the record of the wind-down itself',
    columns: {
      id: 'keep',
      deployment_name: 'keep',
      ended_at: 'keep',
      ended_by: 'keep',
      steps: 'keep',
      census: 'keep',
      certificate: 'keep',
      completed_at: 'keep',
    },
  },
  index_key_state: {
    rows: 'keep',
    why: 'which blind-index key generation is in use (a number and a time); the keys themselves are destroyed',
    columns: { id: 'keep', generation: 'keep', other_generation: 'keep', changed_at: 'keep' },
  },
} as const satisfies { [T in keyof Database]: TableFate<Database[T]> };

export type PlanTable = keyof typeof WIND_DOWN_PLAN;

/** The tables, in the plan's order. */
export const PLAN_TABLES = Object.keys(WIND_DOWN_PLAN) as PlanTable[];

/** Every column the wind-down clears, as `[table, column, fate]`. */
export function clearedColumns(): [PlanTable, string, Exclude<ColumnFate, 'keep' | 'now'>][] {
  const out: [PlanTable, string, Exclude<ColumnFate, 'keep' | 'now'>][] = [];
  for (const table of PLAN_TABLES) {
    const fate: TableFate<unknown> = WIND_DOWN_PLAN[table];
    if (fate.rows !== 'keep') continue;
    for (const [column, f] of Object.entries(fate.columns as Record<string, ColumnFate>)) {
      if (f !== 'keep' && f !== 'now') out.push([table, column, f]);
    }
  }
  return out;
}

/** System keys that stay: code-signing keys sign vehicle codes, never personal data (and servers need one). */
export function isKeptSystemKey(name: string): boolean {
  return /^code-\d+$/.test(name);
}
