/** Opening, reading, listing and closing cases: who the subject is, which windows are valid, what is refused. */
import { randomUUID } from 'node:crypto';
import { maskName, maskPhone } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { expectError } from '../support/flows.js';
import {
  DAY,
  HOUR,
  iso,
  MIN,
  newName,
  newPhone,
  next,
  SEC,
  useTraceKit,
  withCheckChar,
} from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

describe('POST /v1/cases and the case lifecycle', () => {
  it('opens a case by phone (any spelling): 201 with the subject masked, unmasked under a reveal grant', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    expect(c).toMatchObject({
      status: 'open',
      infectiousFrom: iso(-HOUR),
      infectiousTo: iso(0),
      reason: 'positive PCR test',
      subject: { name: maskName(s.name), phone: maskPhone(s.phone), passengers: 1 },
      openedBy: w.official.clientId,
      closedAt: null,
    });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    const spelled = `+86 ${s.phone.slice(0, 3)}-${s.phone.slice(3, 7)}-${s.phone.slice(7)}`;
    expect((await k.readCase(c.id)).subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
    const again = await k.openCase({ phone: spelled }, -HOUR, 0);
    expect((await k.readCase(again.id)).subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
  });

  it('opens a case by ID number (lower-case x check character too)', async () => {
    let idNumber = '';
    for (let n = 0; !idNumber.endsWith('X'); n++)
      idNumber = withCheckChar(`44030419880101${String(n).padStart(3, '0')}`);
    // The ID card was seen by staff (a manual registration): only a checked ID number names a subject.
    const v = await k.vehicle('bus', { staff: true });
    const s = { name: '陈孔氄', phone: '13900077001' };
    await k.manualRide(v, { ...s, idNumber }, -5 * MIN);
    const c = await k.openCase({ idNumber }, -HOUR, 0);
    expect((await k.readCase(c.id)).subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
    const lower = await k.openCase({ idNumber: idNumber.toLowerCase() }, -HOUR, 0);
    expect((await k.readCase(lower.id)).subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
  });

  it('opens a case by passenger id (from GET /v1/passengers/me)', async () => {
    const s = await k.person();
    const c = await k.openCase({ passengerId: s.id }, -HOUR, 0);
    expect((await k.readCase(c.id)).subject).toEqual({ name: s.name, phone: s.phone, passengers: 1 });
  });

  it('opens a case for a rider known only through a staff registration', async () => {
    const v = await k.vehicle('bus', { staff: true });
    const who = { name: newName(next()), phone: newPhone(next()) };
    await k.manualRide(v, who, 0);
    const c = await k.openCase({ phone: who.phone }, -HOUR, HOUR);
    expect((await k.readCase(c.id)).subject).toEqual({ name: who.name, phone: who.phone, passengers: 1 });
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
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual([
      'case.open',
      'case.read',
      'case.close',
      'case.read',
    ]);
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
