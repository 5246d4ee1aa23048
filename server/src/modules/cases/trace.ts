import type { CarrierKind, ExposureLevel, RideFlags } from '@ridetrace/shared';
import { open } from '../../crypto/aead.js';
import type { DayKey } from '../../crypto/keyring.js';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import {
  findRegistrationLinks,
  rideLinksOf,
  type RegistrationLink,
} from '../passengers/passengers.service.js';
import { rideKey } from '../rides/ride-key.js';
import { findContacts, RIDE_BITS, type ContactRow } from './cases.repository.js';

/**
 * The overlap rule, defined once:
 *   a ride R of person P is an exposure to a ride C of the case when R and C are on the same carrier and
 *   |R.boardedAt − C.boardedAt| ≤ window(kind of the carrier)   (inclusive; defaults taxi 10, metro 15, bus 30,
 *   ferry 60 minutes). C ranges over the case's rides with infectiousFrom ≤ C.boardedAt ≤ infectiousTo.
 *   The contact is `close` when the gap ≤ close(kind) (defaults taxi 10, metro 5, bus 10, ferry 30 minutes),
 *   otherwise `possible`; a person is `close` when any of their contacts is.
 * Degree 2: the same rule applied to the rides of every degree-1 `close` person from their first contact with the
 * case to the end of the observation period (capped at now).
 */
export function contactLevel(ctx: AppContext, kind: CarrierKind, gapSeconds: number): ExposureLevel {
  return gapSeconds <= ctx.config.trace.closeSeconds[kind] ? 'close' : 'possible';
}

export interface TracedCarrier {
  id: number;
  kind: CarrierKind;
  plate: string;
  route: string | null;
  city: string;
}

export interface TracedContact {
  caseRideId: string;
  rideId: string;
  carrier: TracedCarrier;
  caseBoardedAt: Date;
  contactBoardedAt: Date;
  gapMinutes: number;
  level: ExposureLevel;
  degree: 1 | 2;
  via: string | null;
  /** Of the exposed person's ride. */
  flags: RideFlags;
}

/** One ride of the case itself. */
export interface TracedRide {
  id: string;
  carrier: TracedCarrier;
  boardedAt: Date;
  source: 'scan' | 'offline' | 'manual';
  flags: RideFlags;
}

/**
 * The cities a trace is limited to (an official person's jurisdiction), compared exactly with the carrier's city;
 * null: every city. Both the case's rides and the co-passengers' are on the carrier, so one test covers both.
 */
export type CityFilter = ReadonlySet<string> | null;

const inCities = (cities: CityFilter, city: string) => cities === null || cities.has(city);

/** The flags of a ride as the API names them, from its bits. */
function flagsOf(bits: number): RideFlags {
  return {
    carrierSwitch: (bits & RIDE_BITS.carrierSwitch) !== 0,
    lateOffline: (bits & RIDE_BITS.late) !== 0,
    manual: (bits & RIDE_BITS.manual) !== 0,
  };
}

function sourceOf(bits: number): TracedRide['source'] {
  return bits & RIDE_BITS.manual ? 'manual' : bits & RIDE_BITS.offline ? 'offline' : 'scan';
}

export interface TracedPerson {
  personId: string;
  /** Every passenger registration merged into this person (same phone or ID number). */
  passengerIds: string[];
  /** The registration that represents the person (the app user when there is one). */
  registration: RegistrationLink;
  level: ExposureLevel;
  degree: 1 | 2;
  firstContactAt: Date;
  contacts: TracedContact[];
}

export interface TraceResult {
  caseRides: number;
  persons: TracedPerson[];
  /** Exposed registrations whose owner deleted their account: counted, never listed. */
  unlinkable: number;
}

/** Day keys of one trace, loaded once each; null for days already destroyed by retention. */
class DayKeyCache {
  private readonly keys = new Map<string, Promise<DayKey | null>>();
  constructor(private readonly ctx: AppContext) {}
  get(day: string): Promise<DayKey | null> {
    let k = this.keys.get(day);
    if (!k) {
      k = this.ctx.keyring.existingDayKey(this.ctx.db, day);
      this.keys.set(day, k);
    }
    return k;
  }
}

/**
 * Blind indexes of the given people on every day of [from, to], mapped back to the person: computed from each
 * one's ride link, so a deleted account (no link any more) has none, and degree 2 does not go on through it.
 */
async function keysOf(
  ctx: AppContext,
  cache: DayKeyCache,
  people: readonly string[],
  from: Date,
  to: Date,
): Promise<Map<string, string>> {
  const links = await rideLinksOf(ctx, people);
  const keys = new Map<string, string>();
  for (const day of ctx.rideDays.between(from, to)) {
    const k = await cache.get(day);
    if (!k) continue;
    for (const link of links) keys.set(rideKey(k, link).toString('hex'), link.passengerId);
  }
  return keys;
}

async function contactsOf(
  ctx: AppContext,
  cache: DayKeyCache,
  keyOwners: Map<string, string>,
  from: Date,
  to: Date,
  degree: 1 | 2,
  exclude: ReadonlySet<string>,
  cities: CityFilter,
): Promise<{ caseRides: number; byPassenger: Map<string, TracedContact[]> }> {
  const rows = await findContacts(ctx.db, [...keyOwners.keys()], from, to, ctx.config.trace.windowSeconds, {
    caseKeys: degree === 2,
  });
  const caseRides = new Set<string>();
  const byPassenger = new Map<string, TracedContact[]>();
  // The day keys of the co-passenger rides (a few days) are loaded before the loop, which then decrypts without
  // an await per row (those awaits were a large part of a big trace's time).
  const dayKeys = new Map<string, DayKey | null>();
  for (const row of rows) {
    if (!row.boarded_at || !inCities(cities, row.city)) continue;
    const day = ctx.rideDays.of(row.boarded_at);
    if (!dayKeys.has(day)) dayKeys.set(day, await cache.get(day));
  }
  // A co-passenger ride near several case rides (degree 2: many) comes back once per case ride: decrypt it once.
  const opened = new Map<string, string | null>();
  for (const row of rows) {
    if (!inCities(cities, row.city)) continue;
    caseRides.add(row.case_ride_id);
    let pid = row.ride_id ? opened.get(row.ride_id) : null;
    if (pid === undefined) {
      pid = openPassenger(ctx, dayKeys, row);
      opened.set(row.ride_id!, pid);
    }
    // The traced people's own rides (the query leaves out only each case ride's own blind index) end here.
    if (!pid || exclude.has(pid)) continue;
    const gapSeconds = Math.abs(row.boarded_at!.getTime() - row.case_boarded_at.getTime()) / 1000;
    const contact: TracedContact = {
      caseRideId: row.case_ride_id,
      rideId: row.ride_id!,
      carrier: { id: row.carrier_id, kind: row.kind, plate: row.plate, route: row.route, city: row.city },
      caseBoardedAt: row.case_boarded_at,
      contactBoardedAt: row.boarded_at!,
      gapMinutes: Math.round((gapSeconds / 60) * 100) / 100,
      level: contactLevel(ctx, row.kind, gapSeconds),
      degree,
      via: row.case_passenger_key ? (keyOwners.get(row.case_passenger_key.toString('hex')) ?? null) : null,
      flags: flagsOf(row.ride_bits!),
    };
    const list = byPassenger.get(pid) ?? [];
    list.push(contact);
    byPassenger.set(pid, list);
  }
  return { caseRides: caseRides.size, byPassenger };
}

/** Decrypts the passenger id of a co-passenger ride; null when there is none or its day key is destroyed. */
function openPassenger(
  ctx: AppContext,
  dayKeys: ReadonlyMap<string, DayKey | null>,
  row: ContactRow,
): string | null {
  if (!row.ride_id || !row.boarded_at || !row.passenger_sealed) return null;
  const key = dayKeys.get(ctx.rideDays.of(row.boarded_at));
  if (!key) return null;
  return open(key.seal, row.passenger_sealed, `rides/passenger/${row.ride_id}`).toString('utf8');
}

/** Merges registrations of one person (same phone or ID number blind index) into one entry. */
function mergePersons(found: Map<string, TracedContact[]>, rows: RegistrationLink[]): TracedPerson[] {
  const byIndex = new Map<string, TracedPerson>();
  const persons: TracedPerson[] = [];
  const sorted = [...rows].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'app' ? -1 : 1));
  for (const row of sorted) {
    const contacts = found.get(row.id) ?? [];
    const idx = [row.phone_index, row.id_number_index]
      .filter((b): b is Buffer => b !== null)
      .map((b) => b.toString('hex'));
    const existing = idx.map((i) => byIndex.get(i)).find((p) => p !== undefined);
    if (existing) {
      existing.passengerIds.push(row.id);
      existing.contacts.push(...contacts);
      continue;
    }
    const person: TracedPerson = {
      personId: row.id,
      passengerIds: [row.id],
      registration: row,
      level: 'possible',
      degree: 2,
      firstContactAt: new Date(8.64e15),
      contacts: [...contacts],
    };
    for (const i of idx) byIndex.set(i, person);
    persons.push(person);
  }
  const withContacts = persons.filter((p) => p.contacts.length > 0);
  for (const p of withContacts) {
    p.contacts.sort((a, b) => a.contactBoardedAt.getTime() - b.contactBoardedAt.getTime());
    p.level = p.contacts.some((c) => c.level === 'close') ? 'close' : 'possible';
    p.degree = p.contacts.some((c) => c.degree === 1) ? 1 : 2;
    p.firstContactAt = p.contacts[0]!.contactBoardedAt;
  }
  return withContacts;
}

/**
 * Co-passengers of the case subjects in the window, degree 1 or 1 + 2, ordered by degree, level, first contact.
 * With `cities`, only rides on carriers of those cities count: the case's, and so the contacts on them; degree 2
 * starts from the degree-1 people found there.
 */
export async function traceExposures(
  ctx: AppContext,
  subjectIds: readonly string[],
  from: Date,
  to: Date,
  degree: 1 | 2,
  cities: CityFilter = null,
): Promise<TraceResult> {
  const cache = new DayKeyCache(ctx);
  const subjects = new Set(subjectIds);
  const keys = await keysOf(ctx, cache, subjectIds, from, to);
  const d1 = await contactsOf(ctx, cache, keys, from, to, 1, subjects, cities);
  const found = new Map(d1.byPassenger);

  if (degree === 2) {
    const close = [...d1.byPassenger.entries()].filter(([, cs]) => cs.some((c) => c.level === 'close'));
    if (close.length > ctx.config.trace.maxDegree1ForDegree2) throw new AppError('too_many_contacts');
    if (close.length > 0) {
      const start = new Date(
        Math.min(...close.map(([, cs]) => Math.min(...cs.map((c) => c.contactBoardedAt.getTime())))),
      );
      const end = new Date(
        Math.min(ctx.now().getTime(), to.getTime() + ctx.config.trace.observationDays * 86_400_000),
      );
      const ids = close.map(([pid]) => pid);
      const exclude = new Set([...subjects, ...d1.byPassenger.keys()]);
      const d2Keys = await keysOf(ctx, cache, ids, start, end);
      const d2 = await contactsOf(ctx, cache, d2Keys, start, end, 2, exclude, cities);
      for (const [pid, cs] of d2.byPassenger) found.set(pid, cs);
    }
  }

  // With the registrations of the same people that had no contact themselves (an app user who rode as a manual
  // rider).
  const { rows, related: all } = await findRegistrationLinks(ctx, [...found.keys()]);
  const related = all.filter((r) => !subjects.has(r.id));
  const live = [...rows, ...related].filter((r) => !r.deleted);
  const unlinkable = rows.filter((r) => r.deleted).length;
  const persons = mergePersons(found, live).sort(
    (a, b) =>
      a.degree - b.degree ||
      (a.level === b.level ? 0 : a.level === 'close' ? -1 : 1) ||
      a.firstContactAt.getTime() - b.firstContactAt.getTime(),
  );
  return { caseRides: d1.caseRides, persons, unlinkable };
}

/** Contact windows of zero: the query then returns the case's rides without their co-passengers. */
const RIDES_ONLY = { taxi: 0, metro: 0, bus: 0, ferry: 0 };

/**
 * The rides of the case subjects in the window (within `cities`), oldest first, with their flags: the rides a trace
 * starts from, found the same way (the blind indexes of each day, the trace's query). A co-passenger boarding at
 * the very same instant still comes back with zero windows; only the case ride of each row is kept.
 */
export async function traceCaseRides(
  ctx: AppContext,
  subjectIds: readonly string[],
  from: Date,
  to: Date,
  cities: CityFilter,
): Promise<TracedRide[]> {
  const keys = await keysOf(ctx, new DayKeyCache(ctx), subjectIds, from, to);
  const rows = await findContacts(ctx.db, [...keys.keys()], from, to, RIDES_ONLY, { caseKeys: false });
  const rides = new Map<string, TracedRide>();
  for (const row of rows) {
    if (rides.has(row.case_ride_id) || !inCities(cities, row.city)) continue;
    rides.set(row.case_ride_id, {
      id: row.case_ride_id,
      carrier: { id: row.carrier_id, kind: row.kind, plate: row.plate, route: row.route, city: row.city },
      boardedAt: row.case_boarded_at,
      source: sourceOf(row.case_ride_bits),
      flags: flagsOf(row.case_ride_bits),
    });
  }
  return [...rides.values()].sort(
    (a, b) => a.boardedAt.getTime() - b.boardedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
