import { signCodeToken } from '@ridetrace/server';
import type { Carrier, CarrierCode, ClientWithSecret } from '@ridetrace/shared';
import jsQR from 'jsqr';
import { randomUUID } from 'node:crypto';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import type { Response } from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { expectError } from '../support/flows.js';
import { clientToken, confirmedPassenger, passengerToken } from '../support/test-app.js';

// This file scans many codes with one passenger; the per-passenger limit (30/min) is not under test here.
const { t, w } = useWorld({ RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '1000' });
/** A confirmed passenger: scans register at once (201). */
let rider: string;

beforeAll(async () => {
  rider = await confirmedPassenger(t, 'carrier-rider');
});

// ---------------------------------------------------------------- helpers

let plateSeq = 0;
/** A plate unique in this file: letters and digits only, 2–16 characters. */
function plate(prefix = '粤B'): string {
  plateSeq += 1;
  return `${prefix}${String(10000 + plateSeq)}`;
}

async function create(
  token: string,
  body: Partial<{ kind: string; plate: string; route: string; city: string; operatorId: string }> = {},
): Promise<Carrier> {
  const res = await t
    .http()
    .post('/v1/carriers')
    .set('authorization', token)
    .send({ kind: 'bus', plate: plate(), route: '36路', city: '深圳', ...body });
  expect(res.status).toBe(201);
  return res.body as Carrier;
}

async function codeOf(token: string, id: number): Promise<CarrierCode> {
  const res = await t.http().get(`/v1/carriers/${id}/code`).set('authorization', token);
  expect(res.status).toBe(200);
  return res.body as CarrierCode;
}

function scan(code: string, auth = rider) {
  return t.http().post('/v1/rides').set('authorization', auth).send({ code, clientRideId: randomUUID() });
}

async function png(token: string, id: number, size?: number) {
  const req = t.http().get(`/v1/carriers/${id}/code.png`).set('authorization', token).responseType('blob'); // body: a Buffer, JSON errors included
  return size === undefined ? req : req.query({ size });
}

function decodePng(buf: Buffer): { width: number; height: number; text: string | null } {
  const img = PNG.sync.read(buf);
  const qr = jsQR(new Uint8ClampedArray(img.data), img.width, img.height);
  return { width: img.width, height: img.height, text: qr?.data ?? null };
}

/** A fresh operator (own id, own client) so that lists of it are deterministic. */
async function newOperator(id: string): Promise<{ token: string; client: ClientWithSecret }> {
  await t
    .http()
    .post('/v1/admin/operators')
    .set('authorization', w.tokens.admin)
    .send({ id, name: `Operator ${id}` })
    .expect(201);
  const client = await t
    .http()
    .post('/v1/admin/clients')
    .set('authorization', w.tokens.admin)
    .send({ name: `${id} ops`, role: 'operator', operatorId: id })
    .expect(201);
  return { token: await clientToken(t, client.body as ClientWithSecret), client: client.body };
}

// ---------------------------------------------------------------- carriers

describe('carriers: create, get, update', () => {
  it('an operator creates a carrier for its own operator (201) with generation 1, active', async () => {
    const p = plate();
    const res = await t
      .http()
      .post('/v1/carriers')
      .set('authorization', w.tokens.operator)
      .send({ kind: 'taxi', plate: p, route: '机场线', city: '深圳' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      operatorId: w.operatorId,
      kind: 'taxi',
      plate: p,
      route: '机场线',
      city: '深圳',
      status: 'active',
      codeGeneration: 1,
      retiredAt: null,
    });
    expect(Number.isInteger(res.body.id)).toBe(true);
    expect(Date.parse(res.body.createdAt)).not.toBeNaN();

    const got = await t.http().get(`/v1/carriers/${res.body.id}`).set('authorization', w.tokens.operator);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('route is optional (null when absent)', async () => {
    const c = await create(w.tokens.operator, { kind: 'metro', route: undefined });
    expect(c.route).toBeNull();
  });

  it('rejects an invalid body: unknown kind, bad plate, unknown field, missing city → 400 validation_failed', async () => {
    for (const body of [
      { kind: 'plane', plate: plate(), city: '深圳' },
      { kind: 'bus', plate: 'x', city: '深圳' },
      { kind: 'bus', plate: '粤B!!!', city: '深圳' },
      { kind: 'bus', plate: plate(), city: '深圳', colour: 'red' },
      { kind: 'bus', plate: plate() },
      { kind: 'bus', plate: plate(), city: '' },
    ]) {
      const res = await t.http().post('/v1/carriers').set('authorization', w.tokens.operator).send(body);
      expectError(res, 400, 'validation_failed');
    }
  });

  it('an operator may not create for another operator (operatorId of someone else → 403 forbidden), its own id is fine', async () => {
    const other = await t
      .http()
      .post('/v1/carriers')
      .set('authorization', w.tokens.operator)
      .send({ kind: 'bus', plate: plate(), city: '深圳', operatorId: w.otherOperatorId });
    expectError(other, 403, 'forbidden');

    const own = await create(w.tokens.operator, { operatorId: w.operatorId });
    expect(own.operatorId).toBe(w.operatorId);
  });

  it('a duplicate plate at the same operator → 409 carrier_plate_taken; the same plate at another operator is fine', async () => {
    const p = plate();
    await create(w.tokens.operator, { plate: p });
    const dup = await t
      .http()
      .post('/v1/carriers')
      .set('authorization', w.tokens.operator)
      .send({ kind: 'taxi', plate: p, city: '广州' });
    expectError(dup, 409, 'carrier_plate_taken');

    const elsewhere = await create(w.tokens.otherOperator, { plate: p });
    expect(elsewhere).toMatchObject({ plate: p, operatorId: w.otherOperatorId });
  });

  it('PATCH updates plate, route and city; route null clears it', async () => {
    const c = await create(w.tokens.operator);
    const p = plate('沪A');
    const res = await t
      .http()
      .patch(`/v1/carriers/${c.id}`)
      .set('authorization', w.tokens.operator)
      .send({ plate: p, route: '夜1路', city: '上海' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: c.id, plate: p, route: '夜1路', city: '上海', kind: c.kind });
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(c.updatedAt));

    const onlyRoute = await t
      .http()
      .patch(`/v1/carriers/${c.id}`)
      .set('authorization', w.tokens.operator)
      .send({ route: null });
    expect(onlyRoute.status).toBe(200);
    expect(onlyRoute.body).toMatchObject({ plate: p, route: null, city: '上海' });

    const got = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.operator);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ plate: p, route: null, city: '上海' });
  });

  it('PATCH with an unknown field, an empty body, or a bad value → 400 validation_failed', async () => {
    const c = await create(w.tokens.operator);
    for (const body of [
      { kind: 'taxi' },
      { plate: plate(), status: 'retired' },
      {},
      { city: '' },
      { plate: '!' },
    ]) {
      const res = await t
        .http()
        .patch(`/v1/carriers/${c.id}`)
        .set('authorization', w.tokens.operator)
        .send(body);
      expectError(res, 400, 'validation_failed');
    }
    const unchanged = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.operator);
    expect(unchanged.body).toMatchObject({ plate: c.plate, kind: c.kind, status: 'active' });
  });

  it('PATCH to a plate the operator already uses → 409 carrier_plate_taken', async () => {
    const a = await create(w.tokens.operator);
    const b = await create(w.tokens.operator);
    const res = await t
      .http()
      .patch(`/v1/carriers/${b.id}`)
      .set('authorization', w.tokens.operator)
      .send({ plate: a.plate });
    expectError(res, 409, 'carrier_plate_taken');
  });

  it('an unknown id → 404 carrier_not_found; a non-integer or zero id → 400 validation_failed', async () => {
    const missing = await t.http().get('/v1/carriers/99999999').set('authorization', w.tokens.operator);
    expectError(missing, 404, 'carrier_not_found');
    for (const id of ['abc', '0', '-1', '1.5', '99999999999']) {
      const res = await t.http().get(`/v1/carriers/${id}`).set('authorization', w.tokens.operator);
      expectError(res, 400, 'validation_failed');
    }
  });
});

describe('carriers: retire', () => {
  it('retiring is idempotent; a retired carrier cannot be updated (409 carrier_retired) nor have codes', async () => {
    const c = await create(w.tokens.operator);
    const first = await t.http().post(`/v1/carriers/${c.id}/retire`).set('authorization', w.tokens.operator);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: c.id, status: 'retired' });
    expect(Date.parse(first.body.retiredAt)).not.toBeNaN();

    const again = await t.http().post(`/v1/carriers/${c.id}/retire`).set('authorization', w.tokens.operator);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: c.id, status: 'retired', retiredAt: first.body.retiredAt });

    const patch = await t
      .http()
      .patch(`/v1/carriers/${c.id}`)
      .set('authorization', w.tokens.operator)
      .send({ city: '广州' });
    expectError(patch, 409, 'carrier_retired');

    const got = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.operator);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ status: 'retired', city: c.city });

    const code = await t.http().get(`/v1/carriers/${c.id}/code`).set('authorization', w.tokens.operator);
    expectError(code, 409, 'carrier_retired');
    const newCode = await t.http().post(`/v1/carriers/${c.id}/code`).set('authorization', w.tokens.operator);
    expectError(newCode, 409, 'carrier_retired');
    expectError(await png(w.tokens.operator, c.id), 409, 'carrier_retired');
    const svg = await t.http().get(`/v1/carriers/${c.id}/code.svg`).set('authorization', w.tokens.operator);
    expectError(svg, 409, 'carrier_retired');
  });
});

describe('carriers: listing', () => {
  let op: { token: string; client: ClientWithSecret };
  let carriers: Carrier[];
  beforeAll(async () => {
    op = await newOperator('list-op');
    carriers = [];
    const specs = [
      { kind: 'bus', route: '1路', city: '深圳' },
      { kind: 'bus', route: '2路', city: '深圳' },
      { kind: 'bus', route: '1路', city: '广州' },
      { kind: 'taxi', city: '深圳' },
      { kind: 'taxi', city: '广州' },
      { kind: 'metro', route: '1号线', city: '深圳' },
      { kind: 'ferry', route: '蛇口-香港', city: '深圳' },
    ];
    for (const s of specs) carriers.push(await create(op.token, s));
    await t.http().post(`/v1/carriers/${carriers[1]!.id}/retire`).set('authorization', op.token).expect(200);
    await t.http().post(`/v1/carriers/${carriers[4]!.id}/retire`).set('authorization', op.token).expect(200);
  });

  async function list(query: Record<string, string | number>, token = op.token) {
    return t.http().get('/v1/carriers').query(query).set('authorization', token);
  }

  async function all(query: Record<string, string | number>, token = op.token): Promise<Carrier[]> {
    const out: Carrier[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const res = await list({ ...query, ...(cursor ? { cursor } : {}) }, token);
      expect(res.status).toBe(200);
      out.push(...(res.body.items as Carrier[]));
      cursor = res.body.nextCursor;
      if (cursor === null) return out;
    }
    throw new Error('paging did not end');
  }

  const ids = (cs: Carrier[]) => cs.map((c) => c.id);

  it('lists only the own carriers, in id order, with nextCursor null on the last page', async () => {
    const res = await list({});
    expect(res.status).toBe(200);
    expect(ids(res.body.items)).toEqual(ids(carriers));
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.every((c: Carrier) => c.operatorId === 'list-op')).toBe(true);
  });

  it('pages with limit and cursor/nextCursor without gaps or repeats', async () => {
    const first = await list({ limit: 3 });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    for (const limit of [1, 2, 3, 6, 7, 8]) {
      const pages: number[] = [];
      let cursor: string | null = null;
      let n = 0;
      do {
        const res = await list({ limit, ...(cursor ? { cursor } : {}) });
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(limit);
        pages.push(...ids(res.body.items));
        cursor = res.body.nextCursor;
        n += 1;
      } while (cursor !== null && n < 20);
      expect(pages).toEqual(ids(carriers));
      expect({ limit, pages: n }).toEqual({ limit, pages: Math.ceil(carriers.length / limit) });
    }
  });

  it('an exact last page reports nextCursor null', async () => {
    const res = await list({ limit: carriers.length });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(carriers.length);
    expect(res.body.nextCursor).toBeNull();
  });

  it('filters by kind, route, city and status, also combined and paged', async () => {
    const pick = (f: (c: Carrier) => boolean) => ids(carriers.filter(f));
    const retired = new Set([carriers[1]!.id, carriers[4]!.id]);

    expect(ids(await all({ kind: 'bus' }))).toEqual(pick((c) => c.kind === 'bus'));
    expect(ids(await all({ kind: 'taxi' }))).toEqual(pick((c) => c.kind === 'taxi'));
    expect(ids(await all({ route: '1路' }))).toEqual(pick((c) => c.route === '1路'));
    expect(ids(await all({ city: '广州' }))).toEqual(pick((c) => c.city === '广州'));
    expect(ids(await all({ status: 'retired' }))).toEqual(pick((c) => retired.has(c.id)));
    expect(ids(await all({ status: 'active' }))).toEqual(pick((c) => !retired.has(c.id)));
    expect(ids(await all({ kind: 'bus', city: '深圳', status: 'active' }))).toEqual([carriers[0]!.id]);
    expect(ids(await all({ city: '深圳', limit: 1 }))).toEqual(pick((c) => c.city === '深圳'));
    expect(await all({ kind: 'ferry', city: '广州' })).toEqual([]);

    const statuses = await all({ status: 'retired' });
    expect(statuses.every((c) => c.status === 'retired')).toBe(true);
  });

  it('rejects bad query parameters → 400 validation_failed', async () => {
    const bad: Record<string, string | number>[] = [
      { limit: 0 },
      { limit: 201 },
      { limit: 'many' },
      { kind: 'plane' },
      { status: 'gone' },
      { cursor: 'not-a-cursor' },
      { colour: 'red' },
    ];
    for (const q of bad) {
      const res = await list(q);
      expectError(res, 400, 'validation_failed');
    }
  });

  // A cursor beyond the integer id range is a bad cursor like any other, refused before the database.
  it('a cursor beyond the id range → 400 validation_failed', async () => {
    for (const cursor of ['2147483648', '99999999999', '1e20']) {
      const res = await list({ cursor });
      expect({ cursor, status: res.status, code: res.body?.error?.code }).toEqual({
        cursor,
        status: 400,
        code: 'validation_failed',
      });
    }
  });

  it('an operator never lists another operator’s carriers; asking for them by operatorId → 403 forbidden', async () => {
    const mine = await all({}, w.tokens.operator);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((c) => c.operatorId === w.operatorId)).toBe(true);
    expect(ids(mine)).not.toContain(carriers[0]!.id);

    const theirs = await list({ operatorId: 'list-op' }, w.tokens.operator);
    expectError(theirs, 403, 'forbidden');
    const own = await list({ operatorId: w.operatorId }, w.tokens.operator);
    expect(own.status).toBe(200);
  });

  it('an admin lists every operator, or one operator with operatorId', async () => {
    const everyone = await all({}, w.tokens.admin);
    const operators = new Set(everyone.map((c) => c.operatorId));
    expect(operators).toEqual(new Set([w.operatorId, w.otherOperatorId, 'list-op']));

    const one = await all({ operatorId: 'list-op' }, w.tokens.admin);
    expect(ids(one)).toEqual(ids(carriers));
  });
});

describe('carriers: operator isolation', () => {
  it("another operator's carrier is not found for every carrier route (404 carrier_not_found)", async () => {
    const c = await create(w.tokens.operator);
    const other = w.tokens.otherOperator;
    const http = t.http;
    const attempts: [string, () => Promise<Response>][] = [
      ['GET', () => http().get(`/v1/carriers/${c.id}`).set('authorization', other)],
      [
        'PATCH',
        () => http().patch(`/v1/carriers/${c.id}`).set('authorization', other).send({ city: '广州' }),
      ],
      ['retire', () => http().post(`/v1/carriers/${c.id}/retire`).set('authorization', other)],
      ['GET code', () => http().get(`/v1/carriers/${c.id}/code`).set('authorization', other)],
      ['POST code', () => http().post(`/v1/carriers/${c.id}/code`).set('authorization', other)],
      ['code.svg', () => http().get(`/v1/carriers/${c.id}/code.svg`).set('authorization', other)],
      ['code.png', () => http().get(`/v1/carriers/${c.id}/code.png`).set('authorization', other)],
      ['GET staff', () => http().get(`/v1/carriers/${c.id}/staff`).set('authorization', other)],
      [
        'POST staff',
        () =>
          http()
            .post(`/v1/carriers/${c.id}/staff`)
            .set('authorization', other)
            .send({ clientId: w.staff.clientId }),
      ],
      [
        'DELETE staff',
        () => http().delete(`/v1/carriers/${c.id}/staff/${w.staff.clientId}`).set('authorization', other),
      ],
    ];
    for (const [what, send] of attempts) {
      const res = await send();
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({
        what,
        status: 404,
        code: 'carrier_not_found',
      });
    }

    // Nothing changed.
    const got = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.operator);
    expect(got.body).toMatchObject({ status: 'active', city: c.city, codeGeneration: 1 });
  });
});

describe('carriers: admin', () => {
  it('an admin must name the operator (400 validation_failed without operatorId)', async () => {
    const res = await t
      .http()
      .post('/v1/carriers')
      .set('authorization', w.tokens.admin)
      .send({ kind: 'bus', plate: plate(), city: '深圳' });
    expectError(res, 400, 'validation_failed');
  });

  it('an unknown operator → 404 operator_not_found', async () => {
    const res = await t
      .http()
      .post('/v1/carriers')
      .set('authorization', w.tokens.admin)
      .send({ kind: 'bus', plate: plate(), city: '深圳', operatorId: 'no-such-operator' });
    expectError(res, 404, 'operator_not_found');
  });

  it('an admin creates for any operator and manages it; the operator then sees it', async () => {
    const c = await create(w.tokens.admin, { operatorId: w.otherOperatorId });
    expect(c.operatorId).toBe(w.otherOperatorId);

    const byOwner = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.otherOperator);
    expect(byOwner.status).toBe(200);
    const byOther = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.operator);
    expectError(byOther, 404, 'carrier_not_found');

    const patch = await t
      .http()
      .patch(`/v1/carriers/${c.id}`)
      .set('authorization', w.tokens.admin)
      .send({ route: 'K1' });
    expect(patch.status).toBe(200);
    expect(patch.body.route).toBe('K1');
    const code = await codeOf(w.tokens.admin, c.id);
    expect(code).toMatchObject({ carrierId: c.id, generation: 1 });
  });
});

// ---------------------------------------------------------------- codes

describe('codes', () => {
  it('GET code returns carrierId, generation, token and an upper-case /C/<token> URL of QR version ≤ 4 (M)', async () => {
    const c = await create(w.tokens.operator);
    const code = await codeOf(w.tokens.operator, c.id);
    expect(code).toEqual({
      carrierId: c.id,
      generation: 1,
      token: expect.stringMatching(/^[A-Z2-7]{32}$/),
      url: expect.any(String),
    });
    expect(code.url).toContain(`/C/${code.token}`);
    expect(code.url.endsWith(`/C/${code.token}`)).toBe(true);
    expect(code.url).toBe(code.url.toUpperCase());
    expect(code.url.toLowerCase().startsWith(t.config.publicBaseUrl.toLowerCase())).toBe(true);
    expect(QRCode.create(code.url, { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(4);

    // The same code again while nothing changed.
    expect(await codeOf(w.tokens.operator, c.id)).toEqual(code);

    // The URL printed on posters resolves to a landing page for plain camera apps.
    for (const path of [`/C/${code.token}`, `/c/${code.token.toLowerCase()}`]) {
      const landing = await t.http().get(path);
      expect(landing.status).toBe(200);
      expect(landing.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('code.png decodes (pngjs + jsQR) to the code URL, and that string registers a ride (201)', async () => {
    const c = await create(w.tokens.operator, { kind: 'bus', route: '66路' });
    const code = await codeOf(w.tokens.operator, c.id);
    const res = await png(w.tokens.operator, c.id);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['cache-control']).toBe('no-store');
    const decoded = decodePng(res.body as Buffer);
    expect(decoded.width).toBe(512);
    expect(decoded.text).toBe(code.url);

    const ride = await scan(decoded.text!);
    expect(ride.status).toBe(201);
    expect(ride.body).toMatchObject({
      result: 'registered',
      ride: { source: 'scan', carrier: { id: c.id, kind: 'bus', route: '66路', plate: c.plate } },
    });
  });

  it('code.svg is an SVG document (image/svg+xml)', async () => {
    const c = await create(w.tokens.operator);
    const res = await t
      .http()
      .get(`/v1/carriers/${c.id}/code.svg`)
      .set('authorization', w.tokens.operator)
      .responseType('blob');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(res.headers['cache-control']).toBe('no-store');
    const svg = (res.body as Buffer).toString('utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('</svg>');
  });

  it('?size=64..2048 sets the PNG width; out of range or not a number → 400 validation_failed', async () => {
    const c = await create(w.tokens.operator);
    const code = await codeOf(w.tokens.operator, c.id);
    for (const size of [64, 300, 1024, 2048]) {
      const res = await png(w.tokens.operator, c.id, size);
      expect(res.status).toBe(200);
      const img = PNG.sync.read(res.body as Buffer);
      expect({ size, width: img.width, height: img.height }).toEqual({ size, width: size, height: size });
    }
    expect(decodePng((await png(w.tokens.operator, c.id, 300)).body as Buffer).text).toBe(code.url);

    for (const size of [0, 63, 2049, 100000, -1]) {
      const res = await png(w.tokens.operator, c.id, size);
      expectError(res, 400, 'validation_failed');
    }
    const nan = await t
      .http()
      .get(`/v1/carriers/${c.id}/code.png?size=big`)
      .set('authorization', w.tokens.operator);
    expectError(nan, 400, 'validation_failed');
  });

  it('POST code issues a new generation: the old code → 410 code_revoked, the new one → 201', async () => {
    const c = await create(w.tokens.operator);
    const old = await codeOf(w.tokens.operator, c.id);
    expect((await scan(old.url)).status).toBe(201);

    const issued = await t.http().post(`/v1/carriers/${c.id}/code`).set('authorization', w.tokens.operator);
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ carrierId: c.id, generation: 2 });
    expect(issued.body.token).not.toBe(old.token);
    expect(issued.body.url).toContain(`/C/${issued.body.token}`);

    expect(await codeOf(w.tokens.operator, c.id)).toEqual(issued.body);
    const got = await t.http().get(`/v1/carriers/${c.id}`).set('authorization', w.tokens.operator);
    expect(got.body.codeGeneration).toBe(2);

    expectError(await scan(old.url), 410, 'code_revoked');
    expectError(await scan(old.token), 410, 'code_revoked');
    // Another rider (the first one's scan of a moment ago would answer as a repeat of that ride).
    const second = await confirmedPassenger(t, 'carrier-reissue-rider');
    const fresh = await scan(issued.body.url, second);
    expect(fresh.status).toBe(201);
    expect(fresh.body.ride.carrier.id).toBe(c.id);

    // An unconfirmed passenger gets the same answer for the old code (preview path).
    const newcomer = await passengerToken(t, 'carrier-newcomer');
    expectError(await scan(old.url, newcomer), 410, 'code_revoked');
    expect((await scan(issued.body.url, newcomer)).status).toBe(202);

    // And a third generation revokes the second.
    const third = await t.http().post(`/v1/carriers/${c.id}/code`).set('authorization', w.tokens.operator);
    expect(third.status).toBe(201);
    expect(third.body.generation).toBe(3);
    expectError(await scan(issued.body.url), 410, 'code_revoked');
    const onThird = await scan(third.body.url, await confirmedPassenger(t, 'carrier-third-rider'));
    expect(onThird.status).toBe(201);
  });

  it('a retired carrier: its code → 410 code_carrier_retired; issuing a code → 409 carrier_retired', async () => {
    const c = await create(w.tokens.operator);
    const code = await codeOf(w.tokens.operator, c.id);
    expect((await scan(code.url)).status).toBe(201);
    await t.http().post(`/v1/carriers/${c.id}/retire`).set('authorization', w.tokens.operator).expect(200);

    expectError(await scan(code.url), 410, 'code_carrier_retired');
    expectError(await scan(code.token), 410, 'code_carrier_retired');
    const issue = await t.http().post(`/v1/carriers/${c.id}/code`).set('authorization', w.tokens.operator);
    expectError(issue, 409, 'carrier_retired');
  });

  it('malformed codes → 400 code_malformed', async () => {
    const c = await create(w.tokens.operator);
    const code = await codeOf(w.tokens.operator, c.id);
    const base = t.config.publicBaseUrl;
    for (const bad of [
      'hello',
      `${base}/C/`,
      `${base}/`,
      base,
      `${base}/C/${code.token.slice(1)}`,
      `${base}/C/${code.token}A`,
      code.token.slice(0, 31),
      `${code.token}Q`,
      `${base}/C/${code.token.slice(0, 31)}1`,
      'https://evil.example.com/x/y',
    ]) {
      const res = await scan(bad);
      expect({ bad, status: res.status, code: res.body?.error?.code }).toEqual({
        bad,
        status: 400,
        code: 'code_malformed',
      });
    }
  });

  it('a token with one character changed (still base32) → 400 code_forged', async () => {
    const c = await create(w.tokens.operator);
    const code = await codeOf(w.tokens.operator, c.id);
    const flip = (s: string, i: number) => {
      const ch = s[i] === 'A' ? 'B' : 'A';
      return s.slice(0, i) + ch + s.slice(i + 1);
    };
    // Positions in the carrier id, the generation and the MAC (the first byte is the token version).
    for (const i of [4, 8, 12, 20, 31]) {
      const forged = flip(code.token, i);
      expect(forged).toMatch(/^[A-Z2-7]{32}$/);
      const asUrl = await scan(code.url.replace(code.token, forged));
      expect({ i, status: asUrl.status, code: asUrl.body?.error?.code }).toEqual({
        i,
        status: 400,
        code: 'code_forged',
      });
      expectError(await scan(forged), 400, 'code_forged');
    }
    // The genuine one still works.
    expect((await scan(code.url)).status).toBe(201);
  });

  it('a validly signed code of a carrier that does not exist → 404 code_carrier_unknown', async () => {
    const token = signCodeToken(t.app.ctx.keyring, { carrierId: 999999, generation: 1 });
    expect(token).toMatch(/^[A-Z2-7]{32}$/);
    expectError(await scan(token), 404, 'code_carrier_unknown');
    expectError(await scan(`${t.config.publicBaseUrl}/C/${token}`), 404, 'code_carrier_unknown');
    const newcomer = await passengerToken(t, 'carrier-unknown-newcomer');
    expectError(await scan(token, newcomer), 404, 'code_carrier_unknown');
  });

  it('a lower-case URL or bare token of the current code is accepted too', async () => {
    const c = await create(w.tokens.operator);
    const code = await codeOf(w.tokens.operator, c.id);
    const first = await scan(code.url.toLowerCase());
    expect(first.status).toBe(201);
    // The same passenger and carrier again: accepted, and answered as a repeat of that ride.
    for (const form of [code.token, code.token.toLowerCase()]) {
      const again = await scan(form);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ repeat: true, ride: { id: first.body.ride.id } });
    }
  });
});

// ---------------------------------------------------------------- staff bindings

describe('staff bindings', () => {
  let taxiStaff: ClientWithSecret;
  beforeAll(async () => {
    const res = await t
      .http()
      .post('/v1/admin/clients')
      .set('authorization', w.tokens.admin)
      .send({ name: 'taxi driver', role: 'staff', operatorId: w.otherOperatorId });
    expect(res.status).toBe(201);
    taxiStaff = res.body;
  });

  it('an operator binds its own staff (listed, sorted, idempotent), unbinds with DELETE', async () => {
    const c = await create(w.tokens.operator);
    const empty = await t.http().get(`/v1/carriers/${c.id}/staff`).set('authorization', w.tokens.operator);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ carrierId: c.id, staff: [] });

    const bind = (clientId: string) =>
      t.http().post(`/v1/carriers/${c.id}/staff`).set('authorization', w.tokens.operator).send({ clientId });
    const one = await bind(w.staff.clientId);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ carrierId: c.id, staff: [w.staff.clientId] });
    const twice = await bind(w.staff.clientId);
    expect(twice.status).toBe(200);
    expect(twice.body).toEqual({ carrierId: c.id, staff: [w.staff.clientId] });
    const two = await bind(w.otherStaff.clientId);
    expect(two.status).toBe(200);
    const both = [w.staff.clientId, w.otherStaff.clientId].sort();
    expect(two.body).toEqual({ carrierId: c.id, staff: both });

    const listed = await t.http().get(`/v1/carriers/${c.id}/staff`).set('authorization', w.tokens.operator);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ carrierId: c.id, staff: both });

    const del = await t
      .http()
      .delete(`/v1/carriers/${c.id}/staff/${w.otherStaff.clientId}`)
      .set('authorization', w.tokens.operator);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ carrierId: c.id, staff: [w.staff.clientId] });

    // Unbinding someone not bound is a no-op.
    const none = await t
      .http()
      .delete(`/v1/carriers/${c.id}/staff/${w.otherStaff.clientId}`)
      .set('authorization', w.tokens.operator);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ carrierId: c.id, staff: [w.staff.clientId] });
  });

  it("binding another operator's staff, a non-staff client or an unknown client → 400 staff_client_invalid", async () => {
    const c = await create(w.tokens.operator);
    for (const clientId of [
      taxiStaff.clientId,
      w.operator.clientId,
      w.otherOperator.clientId,
      w.official.clientId,
      w.admin.clientId,
      'staff_doesnotexist',
    ]) {
      const res = await t
        .http()
        .post(`/v1/carriers/${c.id}/staff`)
        .set('authorization', w.tokens.operator)
        .send({ clientId });
      expect({ clientId, status: res.status, code: res.body?.error?.code }).toEqual({
        clientId,
        status: 400,
        code: 'staff_client_invalid',
      });
    }
    const listed = await t.http().get(`/v1/carriers/${c.id}/staff`).set('authorization', w.tokens.operator);
    expect(listed.body.staff).toEqual([]);

    for (const body of [{}, { clientId: '' }, { clientId: w.staff.clientId, extra: 1 }]) {
      const res = await t
        .http()
        .post(`/v1/carriers/${c.id}/staff`)
        .set('authorization', w.tokens.operator)
        .send(body);
      expectError(res, 400, 'validation_failed');
    }
  });

  it("an admin binds staff of the carrier's operator; the other operator's staff stays invalid", async () => {
    const c = await create(w.tokens.admin, { operatorId: w.otherOperatorId });
    const ok = await t
      .http()
      .post(`/v1/carriers/${c.id}/staff`)
      .set('authorization', w.tokens.admin)
      .send({ clientId: taxiStaff.clientId });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ carrierId: c.id, staff: [taxiStaff.clientId] });
    const bad = await t
      .http()
      .post(`/v1/carriers/${c.id}/staff`)
      .set('authorization', w.tokens.admin)
      .send({ clientId: w.staff.clientId });
    expectError(bad, 400, 'staff_client_invalid');
  });

  it('GET /v1/staff/me/carriers lists the carriers the staff account is bound to', async () => {
    const token = await clientToken(t, w.otherStaff);
    const before = await t.http().get('/v1/staff/me/carriers').set('authorization', token);
    expect(before.status).toBe(200);
    const start = (before.body.items as Carrier[]).map((c) => c.id);

    const a = await create(w.tokens.operator, { route: 'A线' });
    const b = await create(w.tokens.operator, { route: 'B线' });
    await create(w.tokens.operator, { route: 'C线' }); // not bound
    for (const c of [a, b]) {
      await t
        .http()
        .post(`/v1/carriers/${c.id}/staff`)
        .set('authorization', w.tokens.operator)
        .send({ clientId: w.otherStaff.clientId })
        .expect(200);
    }
    const bound = await t.http().get('/v1/staff/me/carriers').set('authorization', token);
    expect(bound.status).toBe(200);
    expect((bound.body.items as Carrier[]).map((c) => c.id)).toEqual([...start, a.id, b.id]);
    expect(bound.body.items.at(-1)).toMatchObject({ id: b.id, route: 'B线', operatorId: w.operatorId });

    await t
      .http()
      .delete(`/v1/carriers/${a.id}/staff/${w.otherStaff.clientId}`)
      .set('authorization', w.tokens.operator)
      .expect(200);
    const after = await t.http().get('/v1/staff/me/carriers').set('authorization', token);
    expect(after.status).toBe(200);
    expect((after.body.items as Carrier[]).map((c) => c.id)).toEqual([...start, b.id]);

    // Another staff account of the same operator sees only its own bindings.
    const other = await t.http().get('/v1/staff/me/carriers').set('authorization', w.tokens.staff);
    expect(other.status).toBe(200);
    expect((other.body.items as Carrier[]).map((c) => c.id)).not.toContain(b.id);
  });

  it('binding decides where staff may register manual rides (unbound → 403 carrier_not_bound)', async () => {
    const c = await create(w.tokens.operator);
    const manual = () =>
      t
        .http()
        .post(`/v1/carriers/${c.id}/manual-rides`)
        .set('authorization', w.tokens.staff)
        .send({ name: '李四', phone: '13900001111' });
    expectError(await manual(), 403, 'carrier_not_bound');
    await t
      .http()
      .post(`/v1/carriers/${c.id}/staff`)
      .set('authorization', w.tokens.operator)
      .send({ clientId: w.staff.clientId })
      .expect(200);
    const ok = await manual();
    expect(ok.status).toBe(201);
    expect(ok.body.ride).toMatchObject({ source: 'manual', carrier: { id: c.id } });
  });
});
