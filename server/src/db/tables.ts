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
  consent_version: string | null;
  consented_at: Date | null;
  pending_sealed: Buffer | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
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

export interface Database {
  operators: OperatorsTable;
  clients: ClientsTable;
  carriers: CarriersTable;
  staff_carriers: StaffCarriersTable;
  system_keys: SystemKeysTable;
  ride_day_keys: RideDayKeysTable;
  passengers: PassengersTable;
  rides: RidesTable;
  ride_requests: RideRequestsTable;
}

export type CarrierRow = Selectable<CarriersTable>;
export type NewCarrier = Insertable<CarriersTable>;
export type CarrierUpdate = Updateable<CarriersTable>;
export type PassengerRow = Selectable<PassengersTable>;
export type ClientRow = Selectable<ClientsTable>;
export type RideRow = Selectable<RidesTable>;
