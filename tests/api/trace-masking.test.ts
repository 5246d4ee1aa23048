/** Officials without trace:reveal see masked names and phones and no ID numbers, in every reply and export. */
import { createClient } from '@ridetrace/server';
import { maskName, maskPhone, type Case, type ExposurePage } from '@ridetrace/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { byKey, csvFromPage, csvRecords } from '../support/exposures-csv.js';
import { expectError } from '../support/flows.js';
import { clientToken } from '../support/test-app.js';
import {
  expectNoRaw,
  HOUR,
  iso,
  MIN,
  useTraceKit,
  withCheckChar,
  type Person,
} from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

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
    const client = await createClient(t.db, {
      name: 'o',
      role: 'official',
      scopes: ['trace:read', 'case:write'],
    });
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
        subject: { phone: S.phone },
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
        // Asking to unmask needs trace:reveal (and then a grant), and so does asking for a grant.
        expectError(res, 403, 'forbidden');
        expectError(
          await t
            .http()
            .post(`/v1/cases/${caseId}/reveal-requests`)
            .set('authorization', readOnly)
            .send({ reason: 'curious' }),
          403,
          'forbidden',
        );
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

  it('a full official (trace:reveal) with a reveal grant gets the raw values and revealed: true', async () => {
    const got = await k.readCase(caseId);
    expect(got.subject).toEqual({ name: S.name, phone: S.phone, passengers: 1 });
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
    // Who did what: the official without trace:reveal opened, read (masked) and closed; the full official revealed.
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
