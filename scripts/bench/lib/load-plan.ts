/** What the loader's main thread and its workers share. Plain data: it crosses postMessage. */

import { GIVEN_NAMES, SURNAMES } from '../../src/demo-people.js';

export type CarrierKind = 'bus' | 'taxi' | 'metro' | 'ferry';

export interface LoadPlan {
  databaseUrl: string;
  /** RIDETRACE_MASTER_KEYS form: `id:base64,…`, the active key last. */
  masterKey: string;
  seed: number;
  consentVersion: string;
  /** 16 bytes per passenger (uuid), shared by every worker. */
  passengerIds: SharedArrayBuffer;
  passengers: number;
  /** Number of this load's first passenger among all loaded people (their logins and phone numbers). */
  firstPerson: number;
  /** Carriers with a few riders per hour, and the crowded set with `crowdedPerHour` riders in every service hour. */
  normalCarriers: number[];
  crowdedCarriers: number[];
  crowdedPerHour: number;
  crowdedHours: readonly number[];
  /** Rides per loaded ride sample kept for the benchmark's cases, per day and set. */
  samplesPerDay: number;
}

export interface PassengerJob {
  type: 'passengers';
  id: number;
  from: number;
  to: number;
}

export interface DayJob {
  type: 'day';
  id: number;
  day: string;
  dayIndex: number;
  /** Rides on the normal carriers that day (the crowded set comes on top). */
  normalRides: number;
  /** 'new': create the day's table in the COPY transaction (COPY FREEZE), indexes come later; 'existing': COPY
   *  into the attached partition with its indexes; 'rebuild': as 'new' into `buildTable`, the rides of the
   *  attached partition `table` copied in too, and the new table replaces it once indexed. */
  target: 'new' | 'existing' | 'rebuild';
  table: string;
  from: string;
  to: string;
}

export type LoadJob = PassengerJob | DayJob;

/** The table a day job COPYs into: the day's partition, or its replacement when rebuilding. */
export function buildTable(job: DayJob): string {
  return job.target === 'rebuild' ? `${job.table}_next` : job.table;
}

export interface RideSample {
  passengerIndex: number;
  carrierId: number;
  boardedAtMs: number;
}

export interface JobDone {
  type: 'done';
  id: number;
  rows: number;
  ms: number;
  normal: RideSample[];
  crowded: RideSample[];
}

export type WorkerMessage = { type: 'ready' } | JobDone | { type: 'error'; message: string };

/** Canonical text of the uuid stored at `index`. */
export function uuidAt(ids: Uint8Array, index: number): string {
  const h = Buffer.from(ids.buffer, ids.byteOffset + index * 16, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The loaded person number `i`: a name, a unique mobile number and the dev login that reaches them. */
export function loadedPerson(i: number): { name: string; phone: string; login: string } {
  return {
    name: SURNAMES[i % SURNAMES.length]! + GIVEN_NAMES[Math.floor(i / SURNAMES.length) % GIVEN_NAMES.length]!,
    phone: String(13_900_000_000 + i),
    login: `dev:load-${i}`,
  };
}
