import type { PhoneSource } from '@ridetrace/shared';
import type { IdType } from '@ridetrace/shared';
import type { AccessPurpose } from '@ridetrace/shared';
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types, written once here; migrations are the schema's source of truth and a test compares them. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export interface OperatorsTable {
  id: string;
  name: string;
  created_at: CreatedAt;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  role: 'staff' | 'operator' | 'official' | 'admin';
  scopes: string[];
  operator_id: string | null;
  secret_hash: string;
  created_at: CreatedAt;
  disabled_at: Date | null;
}

export interface CarriersTable {
  id: Generated<number>;
  operator_id: string;
  kind: 'bus' | 'taxi' | 'metro' | 'ferry';
  plate: string;
  route: string | null;
  city: string;
  code_generation: Generated<number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  retired_at: Date | null;
}

export interface StaffCarriersTable {
  client_id: string;
  carrier_id: number;
  created_at: CreatedAt;
}

export interface SystemKeysTable {
  name: string;
  master_key_id: string;
  wrapped: Buffer;
  created_at: CreatedAt;
  /** Code-signing keys (`code-<id>`): posters signed with the key stop scanning from then on; null: never. */
  retires_at: Date | null;
}

/** Eras of ride days: from `since` (null: the beginning) on, ride days are calendar days in `time_zone`. */
export interface RideCalendarTable {
  id: Generated<number>;
  since: Date | null;
  time_zone: string;
  created_at: CreatedAt;
}

export interface RideDayKeysTable {
  day: ColumnType<string, string, string>;
  master_key_id: string;
  wrapped: Buffer;
  created_at: CreatedAt;
}

export interface PassengersTable {
  id: Generated<string>;
  kind: 'app' | 'manual';
  subject_index: Buffer | null;
  dek_master_key_id: string | null;
  dek_wrapped: Buffer | null;
  name_sealed: Buffer | null;
  phone_sealed: Buffer | null;
  id_number_sealed: Buffer | null;
  phone_index: Buffer | null;
  id_number_index: Buffer | null;
  /** The document id_number_sealed holds; null with an ID number: cn_id (sealed before 0010). */
  id_type: IdType | null;
  consent_version: string | null;
  consented_at: Date | null;
  pending_sealed: Buffer | null;
  openid_sealed: Buffer | null;
  deleted_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** How the phone is known; only superapp, otp and staff link registrations. */
  phone_source: PhoneSource | null;
  /** How the ID number is known; only staff (document seen) links registrations. */
  id_source: 'staff' | 'self' | null;
  /** Accepted super-app subscriptions not used yet: one exposure message each. */
  message_grants: ColumnType<number, number | undefined, number>;
  /** phone_index while the phone is verified (generated). */
  link_phone_index: ColumnType<Buffer | null, never, never>;
  /** id_number_index while the ID number was checked by staff (generated). */
  link_id_index: ColumnType<Buffer | null, never, never>;
  /** Random, 32 bytes: what the rides' blind index is computed from; null once deleted (or never given one). */
  link_secret: Buffer | null;
  /** First ride day (UTC) indexed by link_secret, earlier days by the id (rows of 0018); null: every day. */
  link_since: ColumnType<string | null, string | null | undefined, string | null>;
  /** Newest ride day (UTC) the purge found for this registration (migration 0019); written by the purge only. */
  last_ride_on: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the purge next looks at this registration's rides and lifetime; null: new, not scheduled yet. */
  lifetime_check_on: ColumnType<string | null, string | null | undefined, string | null>;
  /** Blind-index key generation of the row's identity indexes, or lower (migration 0023); 1 when not given. */
  index_generation: ColumnType<number, number | undefined, number>;
}

export type { PhoneSource };

export interface CaseClaimsTable {
  case_id: string;
  passenger_id: string;
}

export interface PhoneOtpsTable {
  id: string;
  passenger_id: string;
  phone_index: Buffer;
  /** Blind index of the requesting IP (rate limit), never the IP itself. */
  requester_index: Buffer;
  code_hash: Buffer;
  attempts: ColumnType<number, number | undefined, number>;
  expires_at: Date;
  used_at: Date | null;
  created_at: CreatedAt;
  /** Blind-index key generation of phone_index, requester_index and code_hash (migration 0023). */
  index_generation: ColumnType<number, number | undefined, number>;
}

/** Which blind-index key generation identity indexes are written and looked up with; one row (migration 0023). */
export interface IndexKeyStateTable {
  id: ColumnType<boolean, boolean | undefined, never>;
  /** New identity indexes are written under it; lookups match it. */
  generation: number;
  /** While a rotation runs, lookups match this generation too; null otherwise. */
  other_generation: number | null;
  changed_at: Timestamp;
}

export interface RidesTable {
  id: string;
  carrier_id: number;
  boarded_at: Timestamp;
  passenger_key: Buffer;
  passenger_sealed: Buffer;
  source: 'scan' | 'offline' | 'manual';
  late: boolean;
  flagged: boolean;
  received_at: Timestamp;
  registered_by: string | null;
}

export interface RideRequestsTable {
  request_key: Buffer;
  ride_id: string;
  carrier_id: number;
  boarded_at: Timestamp;
  created_at: CreatedAt;
}

export interface CasesTable {
  id: string;
  case_number: string;
  status: 'open' | 'closed';
  infectious_from: Date;
  infectious_to: Date;
  reason_sealed: Buffer;
  opened_by: string;
  opened_at: CreatedAt;
  closed_by: string | null;
  closed_at: Date | null;
}

export interface CaseSubjectsTable {
  case_id: string;
  passenger_id: string;
}

export interface ExposureMarksTable {
  case_id: string;
  passenger_id: string;
  /** Degree 2: a secondary contact (migration 0016); one mark per case, passenger and degree. */
  degree: Generated<1 | 2>;
  /** Whether the mark turns the health code yellow (degree 2 under NOTIFY_DEGREE2_STATUS=notice: no). */
  yellow: Generated<boolean>;
  level: 'close' | 'possible';
  carrier_id: number;
  boarded_at: Date;
  observe_until: Date;
  created_at: CreatedAt;
  cleared_at: Date | null;
  cleared_by: string | null;
}

export interface NotificationsTable {
  id: string;
  case_id: string;
  passenger_id: string;
  /** Which message: degree 1 (exposure) or 2 (secondary contact); one row per case, person and degree. */
  degree: Generated<1 | 2>;
  channel: 'app' | 'sms';
  state: 'queued' | 'sending' | 'sent' | 'delivered' | 'failed';
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Timestamp;
  locked_until: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  sent_at: Date | null;
  /** `<channel>:<the provider's message id>` of the last send, which delivery receipts name; unique. */
  provider_message_id: string | null;
  delivered_at: Date | null;
}

export interface AuditLogTable {
  seq: ColumnType<number, number, never>;
  at: ColumnType<Date, Date, never>;
  actor: string;
  action: string;
  case_id: string | null;
  people: number;
  request_id: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export interface OfficialsTable {
  id: string;
  username: string;
  name: string;
  agency: string;
  jurisdiction: string[];
  roles: string[];
  /** The operator an `operator` account works for; null for every other role. */
  operator_id: string | null;
  password_hash: string;
  totp_sealed: Buffer;
  totp_last_step: number | null;
  failed_attempts: Generated<number>;
  locked_until: Date | null;
  created_at: CreatedAt;
  disabled_at: Date | null;
}

export interface OfficialSessionsTable {
  id: string;
  official_id: string;
  refresh_hash: Buffer;
  created_at: CreatedAt;
  refreshed_at: Generated<Date>;
  expires_at: Date;
  revoked_at: Date | null;
}

/** Reads of a passenger's data by the health authority, for that passenger (migration 0014). */
export interface PassengerAccessTable {
  id: Generated<number>;
  passenger_id: string;
  at: ColumnType<Date, Date, never>;
  /** UTC day of `at` (generated): one entry per passenger, case, purpose and day. */
  day: ColumnType<string, never, never>;
  agency: string;
  purpose: AccessPurpose;
  case_id: string | null;
}

/** Four-eyes reveal requests; an approved one is the grant (migration 0015). */
export interface RevealRequestsTable {
  id: string;
  case_id: string;
  requested_by: string;
  requester_kind: 'person' | 'system';
  requester_name: string;
  requester_agency: string | null;
  reason_sealed: Buffer;
  requested_at: Date;
  state: 'pending' | 'approved' | 'refused';
  self_granted: Generated<boolean>;
  decided_by: string | null;
  decider_kind: 'person' | 'system' | null;
  decider_name: string | null;
  decider_agency: string | null;
  decided_at: Date | null;
  note_sealed: Buffer | null;
  expires_at: Date;
}

/** The programme as a whole: no row while it runs, one row from the moment `pnpm cli wind-down` ends it (0020). */
export interface ProgrammeTable {
  id: ColumnType<boolean, boolean | undefined, never>;
  deployment_name: string;
  /** From then on every server refuses new personal data (503 programme_ended). */
  ended_at: Date;
  ended_by: string;
  /** Wind-down steps done, in order (an interrupted run resumes after the last). */
  steps: ColumnType<string[], string[] | undefined, string[]>;
  /** JSON: what the database held before anything was destroyed. */
  census: string | null;
  /** JSON: the signed destruction certificate, exactly as its file holds it. */
  certificate: string | null;
  completed_at: Date | null;
}

export interface Database {
  operators: OperatorsTable;
  clients: ClientsTable;
  carriers: CarriersTable;
  staff_carriers: StaffCarriersTable;
  system_keys: SystemKeysTable;
  ride_day_keys: RideDayKeysTable;
  ride_calendar: RideCalendarTable;
  passengers: PassengersTable;
  rides: RidesTable;
  ride_requests: RideRequestsTable;
  cases: CasesTable;
  case_subjects: CaseSubjectsTable;
  case_claims: CaseClaimsTable;
  phone_otps: PhoneOtpsTable;
  exposure_marks: ExposureMarksTable;
  notifications: NotificationsTable;
  audit_log: AuditLogTable;
  passenger_access: PassengerAccessTable;
  officials: OfficialsTable;
  official_sessions: OfficialSessionsTable;
  reveal_requests: RevealRequestsTable;
  programme: ProgrammeTable;
  index_key_state: IndexKeyStateTable;
}

export type CarrierRow = Selectable<CarriersTable>;
export type NewCarrier = Insertable<CarriersTable>;
export type CarrierUpdate = Updateable<CarriersTable>;
export type PassengerRow = Selectable<PassengersTable>;
/** The columns that open a passenger's identity: the wrapped data key and the sealed fields. */
export type SealedIdentity = Pick<
  PassengerRow,
  'id' | 'dek_master_key_id' | 'dek_wrapped' | 'name_sealed' | 'phone_sealed' | 'id_number_sealed' | 'id_type'
>;
export type ClientRow = Selectable<ClientsTable>;
export type RideRow = Selectable<RidesTable>;

/**
 * Every column of every table, checked both ways: the compiler checks this list against the interfaces
 * above, and tables.test.ts checks it against the migrated database.
 */
export const TABLE_COLUMNS = {
  operators: ['id', 'name', 'created_at'],
  clients: ['client_id', 'name', 'role', 'scopes', 'operator_id', 'secret_hash', 'created_at', 'disabled_at'],
  carriers: [
    'id',
    'operator_id',
    'kind',
    'plate',
    'route',
    'city',
    'code_generation',
    'created_at',
    'updated_at',
    'retired_at',
  ],
  staff_carriers: ['client_id', 'carrier_id', 'created_at'],
  officials: [
    'id',
    'username',
    'name',
    'agency',
    'jurisdiction',
    'roles',
    'operator_id',
    'password_hash',
    'totp_sealed',
    'totp_last_step',
    'failed_attempts',
    'locked_until',
    'created_at',
    'disabled_at',
  ],
  official_sessions: [
    'id',
    'official_id',
    'refresh_hash',
    'created_at',
    'refreshed_at',
    'expires_at',
    'revoked_at',
  ],
  system_keys: ['name', 'master_key_id', 'wrapped', 'created_at', 'retires_at'],
  ride_day_keys: ['day', 'master_key_id', 'wrapped', 'created_at'],
  ride_calendar: ['id', 'since', 'time_zone', 'created_at'],
  passengers: [
    'id',
    'kind',
    'subject_index',
    'dek_master_key_id',
    'dek_wrapped',
    'name_sealed',
    'phone_sealed',
    'id_number_sealed',
    'phone_index',
    'id_number_index',
    'id_type',
    'consent_version',
    'consented_at',
    'pending_sealed',
    'openid_sealed',
    'deleted_at',
    'created_at',
    'updated_at',
    'phone_source',
    'id_source',
    'message_grants',
    'link_phone_index',
    'link_id_index',
    'link_secret',
    'link_since',
    'last_ride_on',
    'lifetime_check_on',
    'index_generation',
  ],
  case_claims: ['case_id', 'passenger_id'],
  phone_otps: [
    'id',
    'passenger_id',
    'phone_index',
    'requester_index',
    'code_hash',
    'attempts',
    'expires_at',
    'used_at',
    'created_at',
    'index_generation',
  ],
  rides: [
    'id',
    'carrier_id',
    'boarded_at',
    'passenger_key',
    'passenger_sealed',
    'source',
    'late',
    'flagged',
    'received_at',
    'registered_by',
  ],
  ride_requests: ['request_key', 'ride_id', 'carrier_id', 'boarded_at', 'created_at'],
  cases: [
    'id',
    'case_number',
    'status',
    'infectious_from',
    'infectious_to',
    'reason_sealed',
    'opened_by',
    'opened_at',
    'closed_by',
    'closed_at',
  ],
  case_subjects: ['case_id', 'passenger_id'],
  exposure_marks: [
    'case_id',
    'passenger_id',
    'degree',
    'yellow',
    'level',
    'carrier_id',
    'boarded_at',
    'observe_until',
    'created_at',
    'cleared_at',
    'cleared_by',
  ],
  notifications: [
    'id',
    'case_id',
    'passenger_id',
    'degree',
    'channel',
    'state',
    'attempts',
    'last_error',
    'next_attempt_at',
    'locked_until',
    'created_at',
    'updated_at',
    'sent_at',
    'provider_message_id',
    'delivered_at',
  ],
  audit_log: [
    'seq',
    'at',
    'actor',
    'action',
    'case_id',
    'people',
    'request_id',
    'detail',
    'prev_hash',
    'hash',
  ],
  passenger_access: ['id', 'passenger_id', 'at', 'day', 'agency', 'purpose', 'case_id'],
  reveal_requests: [
    'id',
    'case_id',
    'requested_by',
    'requester_kind',
    'requester_name',
    'requester_agency',
    'reason_sealed',
    'requested_at',
    'state',
    'self_granted',
    'decided_by',
    'decider_kind',
    'decider_name',
    'decider_agency',
    'decided_at',
    'note_sealed',
    'expires_at',
  ],
  programme: [
    'id',
    'deployment_name',
    'ended_at',
    'ended_by',
    'steps',
    'census',
    'certificate',
    'completed_at',
  ],
  index_key_state: ['id', 'generation', 'other_generation', 'changed_at'],
} as const satisfies { [T in keyof Database]: readonly (keyof Database[T] & string)[] };

type Missing = {
  [T in keyof Database]: Exclude<keyof Database[T], (typeof TABLE_COLUMNS)[T][number]>;
}[keyof Database];
/** Fails to compile when an interface column is missing from TABLE_COLUMNS. */
export const TABLE_COLUMNS_COMPLETE: [Missing] extends [never] ? true : Missing = true;
