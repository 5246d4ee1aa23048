import type { CarrierKind, ExposureLevel, RideFlags } from '@ridetrace/shared';
import { open } from '../../crypto/aead.js';
import type { DayKey } from '../../crypto/keyring.js';
import { perContext, type AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import { AppError } from '../../errors.js';
import {
  findRegistrationLinks,
  rideLinksOf,
  type RegistrationLink,
} from '../passengers/passengers.service.js';
import { rideKey } from '../rides/ride-key.js';
import {
  findContacts,
  findDayRides,
  RIDE_BITS,
  type ContactRow,
  type DayRideRow,
} from './cases.repository.js';
import { Gate, Pacer } from './gate.js';

/**
 * The overlap rule, defined once:
 *   a ride R of person P is an exposure to a ride C of the case when R and C are on the same carrier and
 *   |R.boardedAt − C.boardedAt| ≤ window(kind of the carrier)   (inclusive; defaults taxi 10, metro 15, bus 30,
 *   ferry 60 minutes). C ranges over the case's rides with infectiousFrom ≤ C.boardedAt ≤ infectiousTo.
 *   The contact is `close` when the gap ≤ close(kind) (defaults taxi 10, metro 5, bus 10, ferry 30 minutes),
 *   otherwise `possible`; a person is `close` when any of their contacts is.
 * Degree 2: the same rule applied to the rides of every degree-1 `close` person from their first contact with the
 * case to the end of the observation period (capped at now).
 * It is applied by trace_contacts (SQL) and, for degree 2, by addDayContacts to the rides trace_day_rides returns.
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
  rides: Db,
  cache: DayKeyCache,
  keyOwners: Map<string, string>,
  from: Date,
  to: Date,
  degree: 1 | 2,
  exclude: ReadonlySet<string>,
  cities: CityFilter,
): Promise<{ caseRides: number; byPassenger: Map<string, TracedContact[]> }> {
  const rows = await findContacts(rides, [...keyOwners.keys()], from, to, ctx.config.trace.windowSeconds, {
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

/**
 * Degree 2: the contacts of `people` in [from, to], one query per ride day with that day's blind indexes only (an
 * index exists on one day, so each query probes one day's rides, leaves out the traced people's own rides on their
 * buses itself and sends every other ride once). Every query is one day's work, far below the statement timeout
 * however long the window; in between, other requests get a connection, and the event loop every few ms.
 */
async function secondContactsOf(
  ctx: AppContext,
  db: Db,
  cache: DayKeyCache,
  people: readonly string[],
  from: Date,
  to: Date,
  exclude: ReadonlySet<string>,
  cities: CityFilter,
): Promise<Map<string, TracedContact[]>> {
  const links = await rideLinksOf(ctx, people);
  const found = new Map<string, TracedContact[]>();
  const pacer = new Pacer();
  for (const day of ctx.rideDays.between(from, to)) {
    const k = await cache.get(day);
    if (!k) continue;
    const keyOwners = new Map<string, string>();
    for (const link of links) keyOwners.set(rideKey(k, link).toString('hex'), link.passengerId);
    const bounds = ctx.rideDays.bounds(day);
    const rides = await findDayRides(
      db,
      [...keyOwners.keys()],
      bounds,
      new Date(Math.max(from.getTime(), bounds.from.getTime())),
      new Date(Math.min(to.getTime(), bounds.to.getTime())),
      ctx.config.trace.windowSeconds,
    );
    await addDayContacts(ctx, cache, rides, { keyOwners, exclude, cities }, found, pacer);
  }
  return found;
}

/**
 * The contacts of one day of degree 2, added to `found` (by passenger id): the overlap rule of trace_contacts applied to the rides of
 * trace_day_rides (every other ride on the carrier of a traced ride within its kind's window, inclusive). Each
 * other ride is decrypted once, and what contacts share (the carrier, both times, the flags) is made once: a big
 * degree 2 has a hundred thousand contacts.
 */
async function addDayContacts(
  ctx: AppContext,
  cache: DayKeyCache,
  rides: DayRideRow[],
  of: { keyOwners: ReadonlyMap<string, string>; exclude: ReadonlySet<string>; cities: CityFilter },
  found: Map<string, TracedContact[]>,
  pacer: Pacer,
): Promise<void> {
  const { keyOwners, exclude, cities } = of;
  const byMs = (a: DayRideRow, b: DayRideRow) =>
    a.boarded_ms - b.boarded_ms || (a.ride_id < b.ride_id ? -1 : a.ride_id > b.ride_id ? 1 : 0);
  const traced = rides.filter((r) => r.traced && inCities(cities, r.city!)).sort(byMs);
  const near = new Map<number, NearRide[]>();
  const dayKeys = new Map<string, DayKey | null>();
  for (const r of rides) {
    if (r.traced) continue;
    const at = new Date(r.boarded_ms);
    const day = ctx.rideDays.of(at);
    if (!dayKeys.has(day)) dayKeys.set(day, await cache.get(day));
    const ride: NearRide = { row: r, at, day, pid: undefined, flags: null };
    const list = near.get(r.carrier_id);
    if (list) list.push(ride);
    else near.set(r.carrier_id, [ride]);
  }
  for (const list of near.values()) list.sort((a, b) => byMs(a.row, b.row));
  for (const t of traced) {
    if (pacer.due()) await pacer.pause();
    const list = near.get(t.carrier_id);
    if (!list) continue;
    const kind = t.kind!;
    const windowMs = ctx.config.trace.windowSeconds[kind] * 1000;
    const carrier: TracedCarrier = { id: t.carrier_id, kind, plate: t.plate!, route: t.route, city: t.city! };
    const caseBoardedAt = new Date(t.boarded_ms);
    const via = t.passenger_key ? (keyOwners.get(t.passenger_key.toString('hex')) ?? null) : null;
    // The first ride at or after the window's start (binary search), then every ride up to its end.
    let i = 0;
    for (let hi = list.length, lo = t.boarded_ms - windowMs; i < hi;) {
      const mid = (i + hi) >> 1;
      if (list[mid]!.row.boarded_ms < lo) i = mid + 1;
      else hi = mid;
    }
    for (; i < list.length && list[i]!.row.boarded_ms <= t.boarded_ms + windowMs; i++) {
      const o = list[i]!;
      if (o.pid === undefined) {
        const key = dayKeys.get(o.day);
        o.pid = key && o.row.passenger_sealed ? openRide(key, o.row.ride_id, o.row.passenger_sealed) : null;
      }
      if (!o.pid || exclude.has(o.pid)) continue;
      o.flags ??= flagsOf(o.row.ride_bits);
      const gapSeconds = Math.abs(o.at.getTime() - caseBoardedAt.getTime()) / 1000;
      const contact: TracedContact = {
        caseRideId: t.ride_id,
        rideId: o.row.ride_id,
        carrier,
        caseBoardedAt,
        contactBoardedAt: o.at,
        gapMinutes: Math.round((gapSeconds / 60) * 100) / 100,
        level: contactLevel(ctx, kind, gapSeconds),
        degree: 2,
        via,
        flags: o.flags,
      };
      const contacts = found.get(o.pid);
      if (contacts) contacts.push(contact);
      else found.set(o.pid, [contact]);
    }
  }
}

/** A ride near a traced one: its passenger decrypted on first use (null: none, or its day key is destroyed). */
interface NearRide {
  row: DayRideRow;
  at: Date;
  day: string;
  pid: string | null | undefined;
  flags: RideFlags | null;
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
  return openRide(key, row.ride_id, row.passenger_sealed);
}

function openRide(key: DayKey, rideId: string, sealed: Buffer): string {
  return open(key.seal, sealed, `rides/passenger/${rideId}`).toString('utf8');
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
  // The rides are read where ctx.traces says (a hot standby when fresh enough); keys and registrations on the
  // primary, so a deleted account is never listed from a standby behind its deletion.
  const trace = () =>
    ctx.traces.read((rides) => traceWithin(ctx, rides, subjectIds, from, to, degree, cities));
  return degree === 2 ? degree2Gate(ctx).run(trace) : trace();
}

/** Degree-2 traces running at once in this process (TRACE_DEGREE2_CONCURRENCY); the others queue. */
const degree2Gate = perContext((ctx) => new Gate(ctx.config.trace.degree2Concurrency));

async function traceWithin(
  ctx: AppContext,
  rides: Db,
  subjectIds: readonly string[],
  from: Date,
  to: Date,
  degree: 1 | 2,
  cities: CityFilter,
): Promise<TraceResult> {
  const cache = new DayKeyCache(ctx);
  const subjects = new Set(subjectIds);
  const keys = await keysOf(ctx, cache, subjectIds, from, to);
  const d1 = await contactsOf(ctx, rides, cache, keys, from, to, 1, subjects, cities);
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
      const d2 = await secondContactsOf(ctx, rides, cache, ids, start, end, exclude, cities);
      for (const [pid, cs] of d2) found.set(pid, cs);
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
  const rows = await ctx.traces.read((db) =>
    findContacts(db, [...keys.keys()], from, to, RIDES_ONLY, { caseKeys: false }),
  );
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
