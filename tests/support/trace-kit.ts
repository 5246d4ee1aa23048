/**
 * Contact tracing as a test sees it: people, vehicles and rides placed at exact times relative to BASE, with
 * offline scans (scannedAt older than 120 s → boardedAt = scannedAt) and staff registrations (boardedAt), and the
 * case routes as one official calls them.
 */
import { isValidIdNumber, type AuditEntry, type Case, type ExposurePage } from '@ridetrace/shared';
import type { Response } from 'supertest';
import { expect } from 'vitest';
import { useWorld } from './fixtures.js';
import {
  grantReveal,
  createStaffedCarrier,
  openCase,
  passengerIdOf,
  registerManualRide,
  scanRide,
  withCheckChar as appendCheckChar,
} from './flows.js';
import { confirmedPassenger, createCarrier, type TestApp, type World } from './test-app.js';

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** Every ride is placed relative to BASE (whole minutes, 10 h ago: offline scans are accepted up to 24 h back). */
export const BASE = Math.floor((Date.now() - 10 * HOUR) / MIN) * MIN;
export const iso = (offsetMs: number) => new Date(BASE + offsetMs).toISOString();

/** Many requests from one IP: lift the per-IP limit (not under test here). */
const NO_IP_LIMIT = { RATE_LIMIT_PER_IP_PER_MINUTE: '100000' };

export type Kind = 'bus' | 'taxi' | 'metro' | 'ferry';

export interface Person {
  id: string;
  auth: string;
  name: string;
  phone: string;
  idNumber?: string;
}

export interface Vehicle {
  id: number;
  kind: Kind;
  plate: string;
  route: string | null;
  city: string;
  code: string;
}

export interface Identity {
  name: string;
  phone: string;
  idNumber?: string;
}

let seq = 0;
/** A number new in this file: people, plates and case numbers made from it never repeat. */
export const next = () => ++seq;

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高';
/** Distinct three-character names (so a raw name never hides inside a masked one or other text). */
export const newName = (n: number) =>
  `${SURNAMES[n % SURNAMES.length]}${String.fromCodePoint(0x5b50 + n)}${String.fromCodePoint(0x6c00 + n)}`;
export const newPhone = (n: number) => `137${String(n).padStart(8, '0')}`;

/** GB 11643-1999: appends the check character to 17 digits (cross-checked with the shared validator). */
export function withCheckChar(first17: string): string {
  const id = appendCheckChar(first17);
  expect(isValidIdNumber(id)).toBe(true);
  return id;
}
/** A valid resident ID number per `n`: birth dates from 1990-01-01 on, a thousand sequence numbers each. */
export const newIdNumber = (n: number) =>
  withCheckChar(
    `110105${new Date(Date.UTC(1990, 0, 1 + Math.floor(n / 1000))).toISOString().slice(0, 10).replaceAll('-', '')}${String(n % 1000).padStart(3, '0')}`,
  );

/** None of the raw values appears anywhere in the response. */
export function expectNoRaw(body: unknown, raw: string[]) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  for (const r of raw) expect(text.includes(r), `response leaks ${r}`).toBe(false);
}

/** Test helpers bound to one app. */
export class Kit {
  constructor(
    readonly t: TestApp,
    readonly w: World,
  ) {}

  async person(opts: Partial<Identity> = {}): Promise<Person> {
    const n = next();
    const identity: Identity = {
      name: opts.name ?? newName(n),
      phone: opts.phone ?? newPhone(n),
      ...(opts.idNumber ? { idNumber: opts.idNumber } : {}),
    };
    const auth = await confirmedPassenger(this.t, `trace-${n}`, identity);
    return { id: await passengerIdOf(this.t, auth), auth, ...identity };
  }

  async vehicle(
    kind: Kind = 'bus',
    opts: { route?: string; city?: string; staff?: boolean } = {},
  ): Promise<Vehicle> {
    const n = next();
    const body = {
      kind,
      plate: `粤B${String(n).padStart(5, '0')}`,
      route: opts.route ?? `${n}路`,
      city: opts.city ?? '深圳',
    };
    const { carrier, code } = opts.staff
      ? await createStaffedCarrier(this.t, this.w, body)
      : await createCarrier(this.t, this.w.tokens.operator, body);
    const stored = carrier as typeof carrier & { route: string | null; city: string };
    return {
      id: carrier.id,
      kind,
      plate: carrier.plate,
      route: stored.route,
      city: stored.city,
      code: code.url,
    };
  }

  /** An offline scan at BASE + offsetMs: boardedAt is exactly that time. */
  async ride(p: Person, v: Vehicle, offsetMs: number): Promise<string> {
    const ride = await scanRide(this.t, p.auth, v.code, iso(offsetMs));
    expect(ride.boardedAt).toBe(iso(offsetMs));
    return ride.id;
  }

  /** Staff registration (w.staff must be bound to the carrier) at BASE + offsetMs. */
  async manualRide(v: Vehicle, who: Identity, offsetMs: number) {
    const res = await registerManualRide(this.t, this.w, v.id, { ...who, boardedAt: iso(offsetMs) });
    expect(res.ride).toMatchObject({ source: 'manual', boardedAt: iso(offsetMs) });
    return res;
  }

  createCase(subject: Record<string, string>, fromMs: number, toMs: number, token = this.w.tokens.official) {
    return openCase(this.t, token, {
      subject,
      infectiousFrom: iso(fromMs),
      infectiousTo: iso(toMs),
      caseNumber: `C-${next()}`,
      reason: 'positive PCR test',
    });
  }

  async openCase(
    subject: Record<string, string>,
    fromMs: number,
    toMs: number,
    token = this.w.tokens.official,
  ): Promise<Case> {
    const res = await this.createCase(subject, fromMs, toMs, token);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Case;
  }

  private readonly grants = new Map<string, Promise<boolean>>();

  /**
   * `query` with `reveal=true` added when `token` may reveal: a grant for the case is asked for once per token
   * (self-granted: tests run with REVEAL_APPROVAL=single). Tokens without trace:reveal read masked.
   */
  private async revealing(caseId: string, query: string, token: string): Promise<string> {
    const key = `${caseId} ${token}`;
    let granted = this.grants.get(key);
    if (!granted) {
      granted = grantReveal(this.t, token, caseId, { allowForbidden: true });
      this.grants.set(key, granted);
    }
    if (!(await granted)) return query;
    return `${query}${query.includes('?') ? '&' : '?'}reveal=true`;
  }

  /** GET /v1/cases/:id as `token` sees it at best: the subject unmasked under a reveal grant when it may reveal. */
  async readCase(caseId: string, token = this.w.tokens.official): Promise<Case> {
    const q = await this.revealing(caseId, '', token);
    const res = await this.t.http().get(`/v1/cases/${caseId}${q}`).set('authorization', token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Case;
  }

  /** The exposures as `token` sees them at best: unmasked under a reveal grant when it may reveal. */
  async exposures(caseId: string, query = '', token = this.w.tokens.official): Promise<ExposurePage> {
    const q = await this.revealing(caseId, query, token);
    const res = await this.t.http().get(`/v1/cases/${caseId}/exposures${q}`).set('authorization', token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as ExposurePage;
  }

  /** The CSV export as `token` sees it at best (see exposures). */
  async csv(caseId: string, query = '', token = this.w.tokens.official): Promise<Response> {
    const q = await this.revealing(caseId, query, token);
    const res = await this.t
      .http()
      .get(`/v1/cases/${caseId}/exposures.csv${q}`)
      .set('authorization', token)
      .buffer(true);
    expect(res.status, res.text).toBe(200);
    return res;
  }

  async audit(caseId: string): Promise<AuditEntry[]> {
    const res = await this.t
      .http()
      .get(`/v1/audit?caseId=${caseId}&limit=200`)
      .set('authorization', this.w.tokens.admin)
      .expect(200);
    return res.body.items as AuditEntry[];
  }

  async listCases(query: string, token = this.w.tokens.official): Promise<Case[]> {
    const all: Case[] = [];
    let cursor: string | null = null;
    do {
      const res = await this.t
        .http()
        .get(`/v1/cases?${query}&limit=200${cursor ? `&cursor=${cursor}` : ''}`)
        .set('authorization', token);
      expect(res.status).toBe(200);
      all.push(...(res.body.items as Case[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    return all;
  }
}

/** A test app (per-IP limit lifted, `env` on top) with the standard world, and a Kit on them. */
export function useTraceKit(env: Record<string, string> = {}): { t: TestApp; w: World; k: Kit } {
  const { t, w } = useWorld({ ...NO_IP_LIMIT, ...env });
  return { t, w, k: new Kit(t, w) };
}
