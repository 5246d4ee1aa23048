import type { Carrier, CarrierImportResult, StaffAccountList } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { enrolOfficial, expectError, signInOfficial } from '../support/flows.js';
import { createCarrier } from '../support/test-app.js';

// The API under the console's operators section: operator accounts (people), plate search, CSV import in slices,
// poster PDFs and the operator's staff accounts.

const { t, w } = useWorld();

/** A signed-in console account with `roles` (an operator account works for metro-bus). */
async function person(roles: string[], over: Record<string, unknown> = {}): Promise<string> {
  const e = await enrolOfficial(t, w.tokens.admin, roles, over);
  return `Bearer ${(await signInOfficial(t, e)).accessToken}`;
}

const fleetManager = () => person(['operator'], { operatorId: w.operatorId });

const api = () => t.http();

async function carriersOf(token: string, query: Record<string, string> = {}): Promise<Carrier[]> {
  const res = await api()
    .get('/v1/carriers')
    .query({ limit: '200', ...query })
    .set('authorization', token);
  expect(res.status).toBe(200);
  return res.body.items as Carrier[];
}

async function importCsv(token: string, body: Record<string, unknown>) {
  return api().post('/v1/carriers/import').set('authorization', token).send(body);
}

/** Pages of a PDF (pdfkit writes one `/Type /Page` object per page). */
function pdfPages(pdf: Buffer): number {
  expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  return pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;
}

describe('operator accounts', () => {
  it('need an existing operatorId, and only the operator role may have one', async () => {
    const enrol = (body: Record<string, unknown>) =>
      api()
        .post('/v1/admin/officials')
        .set('authorization', w.tokens.admin)
        .send({
          username: `op-${Math.random().toString(36).slice(2, 8)}`,
          name: '调度',
          agency: '巴士公司',
          ...body,
        });
    expectError(await enrol({ roles: ['operator'] }), 400, 'validation_failed');
    expectError(await enrol({ roles: ['tracer'], operatorId: w.operatorId }), 400, 'validation_failed');
    expectError(await enrol({ roles: ['operator'], operatorId: 'no-such-op' }), 404, 'operator_not_found');
    const ok = await enrol({ roles: ['operator'], operatorId: w.operatorId });
    expect(ok.status).toBe(201);
    expect(ok.body.official).toMatchObject({
      roles: ['operator'],
      scopes: ['carriers:write'],
      operatorId: w.operatorId,
    });
  });

  it("manage their own operator's carriers and nobody else's", async () => {
    const token = await fleetManager();
    const own = await createCarrier(t, w.tokens.operator, {
      kind: 'bus',
      plate: '粤B10001',
      route: '36',
      city: '深圳',
    });
    const other = await createCarrier(t, w.tokens.otherOperator, {
      kind: 'taxi',
      plate: '粤B10002',
      city: '深圳',
    });

    const me = await api().get('/v1/officials/me').set('authorization', token);
    expect(me.body).toMatchObject({ operatorId: w.operatorId, roles: ['operator'] });
    const listed = await carriersOf(token);
    expect(listed.map((c) => c.id)).toContain(own.carrier.id);
    expect(listed.every((c) => c.operatorId === w.operatorId)).toBe(true);
    expectError(
      await api().get(`/v1/carriers/${other.carrier.id}`).set('authorization', token),
      404,
      'carrier_not_found',
    );
    expectError(
      await api().get('/v1/carriers').query({ operatorId: w.otherOperatorId }).set('authorization', token),
      403,
      'forbidden',
    );
    const created = await api()
      .post('/v1/carriers')
      .set('authorization', token)
      .send({ kind: 'bus', plate: '粤B10003', city: '深圳' });
    expect(created.status).toBe(201);
    expect(created.body.operatorId).toBe(w.operatorId);
    // Tracing is not theirs.
    expectError(await api().get('/v1/cases').set('authorization', token), 403, 'forbidden');
    expectError(await api().get('/v1/admin/clients').set('authorization', token), 403, 'forbidden');
  });

  it('admin persons manage operators and machine clients, as the admin client does', async () => {
    const token = await person(['admin']);
    const op = await api()
      .post('/v1/admin/operators')
      .set('authorization', token)
      .send({ id: 'harbour-ferry', name: '港口轮渡' });
    expect(op.status).toBe(201);
    const client = await api()
      .post('/v1/admin/clients')
      .set('authorization', token)
      .send({ name: 'ferry staff 1', role: 'staff', operatorId: 'harbour-ferry' });
    expect(client.status).toBe(201);
    expect(client.body.clientSecret).toEqual(expect.any(String));
    const clients = await api().get('/v1/admin/clients').set('authorization', token);
    expect(clients.body.items.map((c: { clientId: string }) => c.clientId)).toContain(client.body.clientId);
    // Every operator's carriers.
    expect((await carriersOf(token, { operatorId: w.otherOperatorId })).length).toBeGreaterThan(0);
  });
});

describe('plate search', () => {
  it('matches a case-insensitive prefix; `_` and `%` are literal', async () => {
    for (const plate of ['沪A12345', '沪A12399', '沪B12345', 'abc-1'])
      await createCarrier(t, w.tokens.operator, { kind: 'bus', plate, city: '上海' });
    const plates = async (q: string) =>
      (await carriersOf(w.tokens.operator, { plate: q })).map((c) => c.plate);
    expect(await plates('沪A123')).toEqual(['沪A12345', '沪A12399']);
    expect(await plates('ABC')).toEqual(['abc-1']);
    expect(await plates('沪_')).toEqual([]);
    expect(await plates('%')).toEqual([]);
    expectError(
      await api()
        .get('/v1/carriers')
        .query({ plate: 'x'.repeat(17) })
        .set('authorization', w.tokens.operator),
      400,
      'validation_failed',
    );
  });
});

describe('POST /v1/carriers/import', () => {
  const header = 'kind,plate,route,city\n';
  const rows = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => `bus,${prefix}${String(i).padStart(4, '0')},M${i % 7},深圳`).join(
      '\n',
    );

  it('a bad row refuses the whole file with every problem and its line; nothing is written', async () => {
    const token = await fleetManager();
    const before = (await carriersOf(w.tokens.admin, { plate: '粤Q' })).length;
    const csv = `${header}bus,粤Q00001,1,深圳\nplane,粤Q00002,1,深圳\n\nbus,粤Q00001,2,深圳\nbus,粤Q00004,,\n`;
    const res = await importCsv(token, { csv });
    expectError(res, 400, 'csv_rows_invalid');
    expect(res.body.error.problemCount).toBe(3);
    expect(res.body.error.problems).toEqual([
      { line: 3, field: 'kind', message: expect.stringContaining("'plane' is not one of") },
      { line: 5, field: 'plate', message: expect.stringContaining('repeats line 2') },
      { line: 6, field: 'city', message: 'required' },
    ]);
    expect(res.body.error.message).toBe('3 of 4 rows are not valid; nothing was imported.');
    expect((await carriersOf(w.tokens.admin, { plate: '粤Q' })).length).toBe(before);
  });

  it("an operator account's rows of another operator are refused", async () => {
    const token = await fleetManager();
    const res = await importCsv(token, {
      csv: `kind,plate,city,operator\nbus,粤Q10001,深圳,${w.otherOperatorId}\nbus,粤Q10002,深圳,${w.operatorId}\n`,
    });
    expectError(res, 400, 'csv_rows_invalid');
    expect(res.body.error.problems).toEqual([
      { line: 2, field: 'operator', message: expect.stringContaining('is not your operator') },
    ]);
    expectError(
      await importCsv(token, { csv: `${header}bus,粤Q1,1,深圳\n`, operatorId: w.otherOperatorId }),
      403,
      'forbidden',
    );
  });

  it('a file that is not a carriers CSV answers csv_invalid, saying why', async () => {
    const res = await importCsv(w.tokens.operator, { csv: 'kind,plate,colour\nbus,粤Q1,red\n' });
    expectError(res, 400, 'csv_invalid');
    expect(res.body.error.message).toContain("unknown column 'colour'");
    expectError(
      await importCsv(w.tokens.operator, { csv: 'kind,plate,city\n"bus,粤Q1,深圳\n' }),
      400,
      'csv_invalid',
    );
    // An admin names the operator in the file or the request.
    const admin = await importCsv(w.tokens.admin, { csv: `${header}bus,粤Q20001,1,深圳\n` });
    expectError(admin, 400, 'csv_invalid');
    expect(admin.body.error.message).toContain('operatorId');
    expectError(
      await importCsv(w.tokens.admin, { csv: `${header}bus,粤Q20001,1,深圳\n`, operatorId: 'no-such-op' }),
      404,
      'operator_not_found',
    );
    expectError(
      await importCsv(w.tokens.operator, { csv: `${header}bus,粤Q20001,1,深圳\n`, count: 0 }),
      400,
      'validation_failed',
    );
  });

  it('dry run counts what would change; slices write the file; a repeat changes nothing', async () => {
    const token = await fleetManager();
    const csv = header + rows(450, '粤S');
    const dry = await importCsv(token, { csv, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual<CarrierImportResult>({
      rows: 450,
      from: 0,
      count: 450,
      created: 450,
      updated: 0,
      unchanged: 0,
      written: false,
    });
    expect(await carriersOf(token, { plate: '粤S' })).toEqual([]);

    const written: CarrierImportResult[] = [];
    for (let from = 0; from < 450; from += 200) {
      const res = await importCsv(token, { csv, from, count: 200 });
      expect(res.status).toBe(200);
      written.push(res.body);
    }
    expect(written.map((r) => [r.from, r.count, r.created, r.written])).toEqual([
      [0, 200, 200, true],
      [200, 200, 200, true],
      [400, 50, 50, true],
    ]);
    expect((await carriersOf(token, { plate: '粤S' })).length).toBe(200); // the page limit
    expectError(await importCsv(token, { csv, from: 450, count: 10 }), 400, 'validation_failed');

    const changed = csv.replace('bus,粤S0001,M1,深圳', 'bus,粤S0001,M99,深圳');
    const again = await importCsv(token, { csv: changed });
    expect(again.body).toMatchObject({ rows: 450, created: 0, updated: 1, unchanged: 449, written: true });
  });

  it('a file with a byte order mark and CRLF lines imports as exported by a spreadsheet', async () => {
    const res = await importCsv(w.tokens.operator, {
      csv: '\uFEFFkind,plate,city\r\ntaxi,粤T00001,深圳\r\n',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rows: 1, created: 1 });
  });
});

describe('poster PDFs', () => {
  it("one carrier's A5 poster; A4 sheets of chosen carriers, two to a page", async () => {
    const token = await fleetManager();
    const made = [];
    for (const plate of ['粤P00001', '粤P00002', '粤P00003'])
      made.push(
        (await createCarrier(t, w.tokens.operator, { kind: 'bus', plate, route: '36', city: '深圳' }))
          .carrier,
      );
    const one = await pdf(token, `/v1/carriers/${made[0]!.id}/poster.pdf`);
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toBe('application/pdf');
    expect(one.headers['content-disposition']).toBe(`attachment; filename="poster-${made[0]!.id}.pdf"`);
    expect(pdfPages(one.body as Buffer)).toBe(1);

    const sheets = await pdf(token, `/v1/carriers/posters.pdf?ids=${made.map((c) => c.id).join(',')}`);
    expect(sheets.status).toBe(200);
    expect(pdfPages(sheets.body as Buffer)).toBe(2);
    const byPlate = await pdf(token, `/v1/carriers/posters.pdf?plate=${encodeURIComponent('粤p0000')}`);
    expect(pdfPages(byPlate.body as Buffer)).toBe(2);
  });

  it('refuses retired, foreign and unknown carriers, and files too large', async () => {
    const token = await fleetManager();
    const retired = (
      await createCarrier(t, w.tokens.operator, { kind: 'bus', plate: '粤P10001', city: '深圳' })
    ).carrier;
    await api().post(`/v1/carriers/${retired.id}/retire`).set('authorization', token).expect(200);
    const foreign = (
      await createCarrier(t, w.tokens.otherOperator, { kind: 'taxi', plate: '粤P10002', city: '深圳' })
    ).carrier;
    expectError(await pdf(token, `/v1/carriers/${retired.id}/poster.pdf`), 409, 'carrier_retired');
    expectError(await pdf(token, `/v1/carriers/${foreign.id}/poster.pdf`), 404, 'carrier_not_found');
    expectError(await pdf(token, `/v1/carriers/posters.pdf?ids=${foreign.id}`), 404, 'carrier_not_found');
    expectError(await pdf(token, `/v1/carriers/posters.pdf?ids=${retired.id}`), 404, 'carrier_not_found');
    expectError(await pdf(token, '/v1/carriers/posters.pdf?route=no-such-route'), 404, 'carrier_not_found');
    expectError(await pdf(token, '/v1/carriers/posters.pdf?ids=1,,2'), 400, 'validation_failed');
    expectError(
      await pdf(token, `/v1/carriers/posters.pdf?operatorId=${w.otherOperatorId}`),
      403,
      'forbidden',
    );

    const csv = `kind,plate,route,city\n${Array.from({ length: 201 }, (_, i) => `bus,粤W${String(i).padStart(4, '0')},W1,深圳`).join('\n')}\n`;
    expect((await importCsv(token, { csv })).status).toBe(200);
    expectError(await pdf(token, '/v1/carriers/posters.pdf?route=W1'), 400, 'too_many_posters');
  });

  function pdf(token: string, url: string) {
    return api()
      .get(url)
      .set('authorization', token)
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
  }
});

describe('GET /v1/staff-accounts', () => {
  it("lists the operator's staff accounts with their bindings; admins may name any operator", async () => {
    const token = await fleetManager();
    const carrier = (
      await createCarrier(t, w.tokens.operator, { kind: 'bus', plate: '粤K00001', city: '深圳' })
    ).carrier;
    await api()
      .post(`/v1/carriers/${carrier.id}/staff`)
      .set('authorization', token)
      .send({ clientId: w.staff.clientId })
      .expect(200);
    const own = await api().get('/v1/staff-accounts').set('authorization', token);
    expect(own.status).toBe(200);
    const items = (own.body as StaffAccountList).items;
    expect(items.every((s) => s.operatorId === w.operatorId)).toBe(true);
    expect(items.find((s) => s.clientId === w.staff.clientId)).toMatchObject({
      name: w.staff.name,
      disabled: false,
      carriers: expect.any(Number),
    });
    expect(items.find((s) => s.clientId === w.staff.clientId)!.carriers).toBeGreaterThanOrEqual(1);
    expectError(
      await api()
        .get('/v1/staff-accounts')
        .query({ operatorId: w.otherOperatorId })
        .set('authorization', token),
      403,
      'forbidden',
    );
    const byAdmin = async (operatorId: string) =>
      (
        await api().get('/v1/staff-accounts').query({ operatorId }).set('authorization', w.tokens.admin)
      ).body.items.map((s: { clientId: string }) => s.clientId);
    expect(await byAdmin(w.operatorId)).toEqual([w.staff.clientId, w.otherStaff.clientId]);
    expect(await byAdmin(w.otherOperatorId)).toEqual([]);
  });
});

describe('admin changes are audited', () => {
  it('creating an operator and a client, disabling it and rotating its secret name the admin', async () => {
    const token = await person(['admin']);
    await api()
      .post('/v1/admin/operators')
      .set('authorization', token)
      .send({ id: 'audit-ferry', name: '审计轮渡' });
    const client = await api()
      .post('/v1/admin/clients')
      .set('authorization', token)
      .send({ name: 'audit staff', role: 'staff', operatorId: 'audit-ferry' });
    const id = client.body.clientId as string;
    await api().post(`/v1/admin/clients/${id}/secret`).set('authorization', token).expect(200);
    await api().post(`/v1/admin/clients/${id}/disable`).set('authorization', w.tokens.admin).expect(200);
    const read = async (action: string) =>
      (await api().get('/v1/audit').query({ action, limit: '200' }).set('authorization', w.tokens.admin)).body
        .items as { actor: string; actorKind: string; detail: string }[];
    const clients = (await read('clients.admin')).filter((e) => e.detail.includes(id));
    expect(clients.map((e) => [e.actorKind, JSON.parse(e.detail).change])).toEqual([
      ['person', 'create'],
      ['person', 'rotate_secret'],
      ['system', 'disable'],
    ]);
    expect(clients.at(-1)!.actor).toBe(w.admin.clientId);
    const operators = (await read('operators.admin')).filter((e) => e.detail.includes('audit-ferry'));
    expect(operators).toHaveLength(1);
    expect(operators[0]!.actorKind).toBe('person');
  });
});
