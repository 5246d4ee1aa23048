import { loadConfig } from '@ridetrace/server';
import { isValidIdNumber } from '@ridetrace/shared';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { loggerOptions, REDACT_PATHS } from '@ridetrace/server/testing';
import { createStaffedCarrier, withCheckChar } from '../support/flows.js';
import { dump, hex, publicTables, rowsOf, search } from '../support/privacy-scan.js';
import { confirmedPassenger, createCarrier, createTestApp, passengerToken } from '../support/test-app.js';

interface Person {
  name: string;
  /** As entered. */
  phoneInput: string;
  /** Normalised: 11 digits. */
  phone: string;
  idNumber?: string;
}

const ouyang: Person = {
  name: '欧阳娜娜',
  phoneInput: '+86 139 1234 5678',
  phone: '13912345678',
  idNumber: withCheckChar('11010119900307663'),
};
const zhang: Person = { name: 'Zhang Wei', phoneInput: '13887654321', phone: '13887654321' };
const sima: Person = {
  name: '司马相如',
  phoneInput: '137-1122-3344',
  phone: '13711223344',
  idNumber: withCheckChar('51010719770611234'),
};
const xiu: Person = { name: 'Ouyang Xiu', phoneInput: '0086 136 5544 3322', phone: '13655443322' };
/** Phone given with sima's ID number: matched to sima, so never stored either. */
const simaOtherPhone = '13799887766';

const USERS = ['privacy-ouyang', 'privacy-zhang', 'privacy-pending'];

function secrets(): string[] {
  const values = new Set<string>();
  for (const p of [ouyang, zhang, sima, xiu]) {
    values.add(p.name);
    values.add(p.phoneInput);
    values.add(p.phone);
    values.add(`+86${p.phone}`);
    values.add(`86${p.phone}`);
    if (p.idNumber) values.add(p.idNumber);
  }
  values.add(simaOtherPhone);
  for (const u of USERS) {
    values.add(`o_${u}`); // the openid the fake super-app returns
    values.add(`ok:${u}`); // the login code
  }
  return [...values];
}

describe('no plaintext PII at rest', () => {
  const { t, w } = useWorld();

  beforeAll(async () => {
    for (const p of [ouyang, sima]) expect(isValidIdNumber(p.idNumber!)).toBe(true);

    const { carrier, code } = await createStaffedCarrier(t, w);
    const other = await createCarrier(t, w.tokens.operator, {
      kind: 'taxi',
      plate: '粤B7T123',
      city: '深圳',
    });
    const cv = t.config.consentVersion;
    const scan = (auth: string, body: Record<string, unknown>) =>
      t.http().post('/v1/rides').set('authorization', auth).send(body);
    const confirm = (auth: string, p: Person) =>
      t
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({
          name: p.name,
          phone: p.phoneInput,
          ...(p.idNumber ? { idNumber: p.idNumber.toLowerCase() } : {}),
          consentVersion: cv,
        });

    // App user with a pending scan, confirmed with an ID number, then one-tap and offline scans.
    const a = await passengerToken(t, 'privacy-ouyang');
    expect((await scan(a, { code: code.url, clientRideId: randomUUID() })).status).toBe(202);
    const ca = await confirm(a, ouyang);
    expect(ca.status).toBe(200);
    expect(ca.body.ride).not.toBeNull();
    const a2 = `Bearer ${ca.body.accessToken}`;
    // Half an hour back (offline): a scan now would repeat the ride just registered.
    const halfHourAgo = new Date(Date.now() - 30 * 60_000).toISOString();
    expect(
      (await scan(a2, { code: code.token, clientRideId: randomUUID(), scannedAt: halfHourAgo })).status,
    ).toBe(201);
    const offline = { code: other.code.url, clientRideId: randomUUID() };
    const scannedAt = new Date(Date.now() - 3 * 3600_000).toISOString();
    expect((await scan(a2, { ...offline, scannedAt })).status).toBe(201);

    // App user without an ID number.
    const z = await passengerToken(t, 'privacy-zhang');
    // Zhang's phone is verified (super-app button): staff registering Zhang by phone match this registration.
    await t
      .http()
      .post('/v1/passengers/me/phone')
      .set('authorization', z)
      .send({ code: `phone:${zhang.phone}` })
      .expect(200);
    const cz = await confirm(z, zhang);
    expect(cz.status).toBe(200);
    expect(
      (await scan(`Bearer ${cz.body.accessToken}`, { code: other.code.url, clientRideId: randomUUID() }))
        .status,
    ).toBe(201);

    // Unconfirmed app user: the scan stays pending.
    const pnd = await passengerToken(t, 'privacy-pending');
    expect((await scan(pnd, { code: code.url, clientRideId: randomUUID() })).status).toBe(202);

    // Staff registrations: new people, and matches by phone and by ID number.
    const manual = (body: Record<string, unknown>) =>
      t
        .http()
        .post(`/v1/carriers/${carrier.id}/manual-rides`)
        .set('authorization', w.tokens.staff)
        .send(body);
    const m1 = await manual({ name: sima.name, phone: sima.phoneInput, idNumber: sima.idNumber });
    expect(m1.status).toBe(201);
    expect(m1.body.rider.matched).toBe(false);
    // Earlier that day: the same rider on the same carrier just now would be the first ride again.
    const m2 = await manual({
      name: sima.name,
      phone: simaOtherPhone,
      idNumber: sima.idNumber,
      boardedAt: new Date(Date.now() - 20 * 60_000).toISOString(),
    });
    expect(m2.status).toBe(201);
    expect(m2.body.rider.matched).toBe(true);
    const m3 = await manual({ name: zhang.name, phone: `+86${zhang.phone}`, clientRideId: randomUUID() });
    expect(m3.status).toBe(201);
    expect(m3.body.rider.matched).toBe(true);
    const m4 = await manual({
      name: xiu.name,
      phone: xiu.phoneInput,
      boardedAt: new Date(Date.now() - 600_000).toISOString(),
    });
    expect(m4.status).toBe(201);
    expect(m4.body.rider.matched).toBe(false);
  });

  it('the dump covers every table, including each rides partition', async () => {
    const tables = await publicTables(t.db);
    expect(tables).toEqual(
      expect.arrayContaining(['passengers', 'rides', 'ride_requests', 'carriers', 'clients']),
    );
    const partitions = tables.filter((n) => /^rides_\d{8}$/.test(n));
    expect(partitions.length).toBeGreaterThan(0);
    let rides = 0;
    for (const p of partitions) rides += (await rowsOf(t.db, p)).length;
    expect(rides).toBe(8);
    expect(await rowsOf(t.db, 'passengers')).toHaveLength(5);
  });

  it('the search finds values that are stored in plaintext (control)', async () => {
    // The carrier plate is stored as text; bytea columns render as hex.
    expect(search(await dump(t.db), ['粤B12345']).some((f) => f.startsWith('carriers:'))).toBe(true);
    expect((await rowsOf(t.db, 'passengers')).every((r) => r.includes('\\x'))).toBe(true);
  });

  it('no table holds a name, phone, ID number, openid or login code, as text or as hex', async () => {
    expect(search(await dump(t.db), secrets())).toEqual([]);
  });

  it('rides and ride_requests do not hold the passenger id, as text or as hex', async () => {
    const ids = (await sql<{ id: string }>`select id::text as id from passengers`.execute(t.db)).rows.map(
      (r) => r.id,
    );
    expect(ids).toHaveLength(5);
    const needles = ids.flatMap((id) => [id, id.replaceAll('-', ''), hex(id), hex(id.toUpperCase())]);
    const tables = (await publicTables(t.db)).filter(
      (n) => n === 'rides' || /^rides_/.test(n) || n === 'ride_requests',
    );
    const found: string[] = [];
    for (const table of tables) {
      for (const row of await rowsOf(t.db, table)) {
        for (const n of needles) if (row.toLowerCase().includes(n)) found.push(`${table}: ${n}`);
      }
    }
    expect(found).toEqual([]);
  });
});

describe('no PII or secret in logs', () => {
  type Logger = { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  // pino is a dependency of the server (the app's logger); load the same copy.
  const pino = createRequire(new URL('../../server/package.json', import.meta.url))('pino') as (
    options: object,
    stream: Writable,
  ) => Logger;

  function capture(): { log: Logger; text: () => string } {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const options = loggerOptions(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info' }));
    expect(typeof options).toBe('object');
    return { log: pino(options as object, stream), text: () => chunks.join('') };
  }

  const PHONE = '13912345678';
  const NAME = '欧阳娜娜';
  const ID = withCheckChar('11010119900307663');
  const BEARER = 'Bearer eyJsecret.token.value';
  const SECRETS = [PHONE, NAME, ID, BEARER, 'eyJsecret', 'ok:privacy-user', 'client-secret-xyz'];

  function expectClean(text: string) {
    expect(text.length).toBeGreaterThan(0);
    for (const s of SECRETS) expect(text, `log contains ${s}`).not.toContain(s);
  }

  it('a request-like object with body, authorization header and top-level identity fields is redacted', () => {
    const { log, text } = capture();
    log.info(
      {
        body: { name: NAME, phone: PHONE, idNumber: ID, loginCode: 'ok:privacy-user' },
        req: { headers: { authorization: BEARER } },
        phone: PHONE,
        name: NAME,
        idNumber: ID,
      },
      'incoming',
    );
    expect(text()).toContain('incoming');
    expectClean(text());
  });

  it('bodies and headers are redacted wherever they are logged', () => {
    const { log, text } = capture();
    log.info({ body: { name: NAME, phone: PHONE, idNumber: ID } }, 'a');
    log.info({ request: { body: { name: NAME, phone: PHONE } } }, 'b');
    log.info({ headers: { authorization: BEARER } }, 'c');
    log.info({ upstream: { authorization: BEARER } }, 'd');
    log.info({ req: { headers: { authorization: BEARER, cookie: 'sid=eyJsecret' } } }, 'e');
    expectClean(text());
    expect(text()).toContain('[redacted]');
  });

  it('identity fields and credentials nested one level deep are redacted', () => {
    const { log, text } = capture();
    log.info({ passenger: { name: NAME, phone: PHONE, idNumber: ID } }, 'a');
    log.info({ login: { loginCode: 'ok:privacy-user', accessToken: 'eyJsecret.1' } }, 'b');
    log.info({ client: { clientSecret: 'client-secret-xyz', token: 'eyJsecret.2' } }, 'c');
    expectClean(text());
  });

  it('top-level identity fields and credentials are redacted', () => {
    const { log, text } = capture();
    log.info({ phone: PHONE }, 'a');
    log.info({ name: NAME }, 'b');
    log.info({ idNumber: ID }, 'c');
    log.info(
      { loginCode: 'ok:privacy-user', clientSecret: 'client-secret-xyz', accessToken: 'eyJsecret.3' },
      'd',
    );
    log.info({ authorization: BEARER }, 'e');
    expectClean(text());
  });

  it('identity fields nested deeper are redacted too ("wherever they appear", logging.ts)', () => {
    const { log, text } = capture();
    log.error({ err: { details: { passenger: { name: NAME, phone: PHONE, idNumber: ID } } } }, 'failed');
    expectClean(text());
  });

  it('the request serializer logs the route template, not the URL, query or headers', () => {
    const { log, text } = capture();
    log.info(
      {
        req: {
          id: 'req-1',
          method: 'GET',
          url: `/v1/passengers/me/rides?days=3&phone=${PHONE}`,
          routeOptions: { url: '/v1/passengers/me/rides' },
          headers: { authorization: BEARER },
          ip: '203.0.113.7',
        },
        res: { statusCode: 200, headers: { 'set-cookie': 'sid=eyJsecret' } },
      },
      'request completed',
    );
    const line = JSON.parse(text().trim()) as { req: unknown; res: unknown };
    expect(line.req).toEqual({ id: 'req-1', method: 'GET', route: '/v1/passengers/me/rides' });
    expect(line.res).toEqual({ statusCode: 200 });
    expectClean(text());
    expect(text()).not.toContain('203.0.113.7');
  });

  it("the server's own request lines (level info) carry the request id and no PII", async () => {
    const lines: string[] = [];
    const app = await createTestApp({ LOG_LEVEL: 'info' }, { write: (line) => void lines.push(line) });
    try {
      const auth = await confirmedPassenger(app, 'privacy-logged', {
        name: NAME,
        phone: PHONE,
        idNumber: ID,
      });
      await app.http().get('/v1/passengers/me/rides').set('authorization', auth).expect(200);
      await app
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({ name: 1 })
        .expect(400);
    } finally {
      await app.close();
    }
    const text = lines.join('');
    expectClean(text);
    const parsed = lines.map((l) => JSON.parse(l) as { reqId?: string; msg: string; req?: { id: string } });
    const incoming = parsed.filter((l) => l.msg === 'incoming request');
    const completed = parsed.filter((l) => l.msg === 'request completed');
    expect(incoming.length).toBeGreaterThanOrEqual(4); // login, confirm, rides, bad confirm
    expect(completed).toHaveLength(incoming.length);
    for (const l of incoming) expect(l.reqId).toMatch(/^[0-9a-f-]{36}$/);
    // Each request's lines share its id (and the request serializer's `req.id`); no two requests share one.
    expect(new Set(incoming.map((l) => l.reqId)).size).toBe(incoming.length);
    expect(completed.map((l) => l.reqId).sort()).toEqual(incoming.map((l) => l.reqId).sort());
    for (const l of incoming) expect(l.req?.id).toBe(l.reqId);
  });

  it('REDACT_PATHS names every identity field of the API', () => {
    for (const field of ['name', 'phone', 'idNumber', 'loginCode', 'clientSecret', 'accessToken']) {
      expect(REDACT_PATHS.some((p) => p === field || p.endsWith(`.${field}`))).toBe(true);
    }
  });
});
