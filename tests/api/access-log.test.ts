import { RideTraceClient } from '@ridetrace/sdk';
import { recordDataAccess } from '@ridetrace/server/testing';
import type { AccessLogEntry } from '@ridetrace/shared';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { expectError, openCase, passengerIdOf } from '../support/flows.js';
import { confirmedPassenger } from '../support/test-app.js';

/**
 * GET /v1/passengers/me/access-log: entries recorded with recordDataAccess (as the cases and notifications modules
 * do when the health authority reads a passenger's data), each passenger seeing only their own. The passengers here
 * never ride, so no trace of the case below finds them: every entry they see is one recorded in this file.
 */

// Not a load test: no load shedding while parallel test files share the CPU.
const { t, w } = useWorld({ NOTIFY_WORKER: 'off', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 10:00 UTC five days ago: fixed hours of whole UTC days, whenever the test runs. */
const D0 = Math.floor(Date.now() / DAY) * DAY - 5 * DAY + 10 * HOUR;
const at = (ms: number) => new Date(D0 + ms);

const AGENCY = '深圳市卫生健康委员会';
const OTHER_AGENCY = '广州市疾病预防控制中心';
const subject = { name: '欧阳修', phone: '13900000041' };
const other = { name: '司马光', phone: '13900000042' };
const CASE_NUMBER = 'ACCESS-LOG-1';

let aliceAuth: string;
let bobAuth: string;
let aliceId: string;
let bobId: string;
let caseId: string;
let otherCaseId: string;

const record = (
  passengerIds: string[],
  purpose: AccessLogEntry['purpose'],
  when: Date,
  o: { caseId?: string | null; agency?: string } = {},
) =>
  recordDataAccess(t.app.ctx.db, {
    passengerIds,
    agency: o.agency ?? AGENCY,
    purpose,
    caseId: o.caseId === undefined ? caseId : o.caseId,
    at: when,
  });

const accessLog = (auth: string, query: Record<string, string | number> = {}) =>
  t.http().get('/v1/passengers/me/access-log').query(query).set('authorization', auth);

async function newPassenger(user: string, phone: string): Promise<{ auth: string; id: string }> {
  const auth = await confirmedPassenger(t, user, { name: '张三丰', phone });
  return { auth, id: await passengerIdOf(t, auth) };
}

async function entriesOf(passengerId: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from passenger_access where passenger_id = ${passengerId}`.execute(t.db);
  return r.rows[0]!.n;
}

beforeAll(async () => {
  ({ auth: aliceAuth, id: aliceId } = await newPassenger('access-alice', '13900000043'));
  ({ auth: bobAuth, id: bobId } = await newPassenger('access-bob', '13900000044'));
  await confirmedPassenger(t, 'access-subject', subject);
  await confirmedPassenger(t, 'access-other', other);
  const reason = 'access log test';
  caseId = (
    await openCase(t, w.tokens.official, {
      subject: { phone: subject.phone },
      caseNumber: CASE_NUMBER,
      reason,
    }).expect(201)
  ).body.id;
  otherCaseId = (
    await openCase(t, w.tokens.official, {
      subject: { phone: other.phone },
      caseNumber: 'ACCESS-LOG-2',
      reason,
    }).expect(201)
  ).body.id;

  // Recorded out of time order: the log is ordered by when the data was read, not by when it was recorded.
  await record([aliceId], 'notification', at(2 * DAY));
  await record([aliceId, bobId], 'contact_tracing', at(0));
  await record([bobId], 'case_investigation', at(3 * DAY), { caseId: null, agency: OTHER_AGENCY });
  await record([aliceId], 'contact_tracing', at(4 * DAY + 2 * HOUR));
});

describe('GET /v1/passengers/me/access-log', () => {
  it('each passenger sees only their own entries, newest first: when, which agency, why', async () => {
    const a = await accessLog(aliceAuth).expect(200);
    expect(a.headers['cache-control']).toBe('no-store');
    expect(a.body).toEqual({
      items: [
        { at: at(4 * DAY + 2 * HOUR).toISOString(), agency: AGENCY, purpose: 'contact_tracing' },
        { at: at(2 * DAY).toISOString(), agency: AGENCY, purpose: 'notification' },
        { at: at(0).toISOString(), agency: AGENCY, purpose: 'contact_tracing' },
      ],
      nextCursor: null,
    });
    const b = await accessLog(bobAuth).expect(200);
    expect(b.body).toEqual({
      items: [
        { at: at(3 * DAY).toISOString(), agency: OTHER_AGENCY, purpose: 'case_investigation' },
        { at: at(0).toISOString(), agency: AGENCY, purpose: 'contact_tracing' },
      ],
      nextCursor: null,
    });
  });

  it('never names the official, the case, its number or its subject', async () => {
    const res = await accessLog(aliceAuth).expect(200);
    const text = JSON.stringify(res.body);
    for (const v of [
      w.official.name,
      w.official.clientId,
      caseId,
      CASE_NUMBER,
      subject.name,
      subject.phone,
      aliceId,
      bobId,
    ])
      expect(text).not.toContain(v);
    for (const item of res.body.items) expect(Object.keys(item).sort()).toEqual(['agency', 'at', 'purpose']);
  });

  it('pages with limit and cursor; a cursor is worth nothing to another passenger; a bad one is a 400', async () => {
    const first = await accessLog(aliceAuth, { limit: 2 }).expect(200);
    expect(first.body.items.map((e: AccessLogEntry) => e.at)).toEqual([
      at(4 * DAY + 2 * HOUR).toISOString(),
      at(2 * DAY).toISOString(),
    ]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await accessLog(aliceAuth, { limit: 2, cursor: first.body.nextCursor }).expect(200);
    expect(second.body).toEqual({
      items: [{ at: at(0).toISOString(), agency: AGENCY, purpose: 'contact_tracing' }],
      nextCursor: null,
    });
    const stolen = await accessLog(bobAuth, { cursor: first.body.nextCursor }).expect(200);
    expect(stolen.body).toEqual({ items: [], nextCursor: null });
    expectError(await accessLog(aliceAuth, { cursor: 'abc' }), 400, 'validation_failed');
    expectError(await accessLog(aliceAuth, { limit: 0 }), 400, 'validation_failed');
  });

  it('the SDK reads it page by page (myAccessLog)', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const client = new RideTraceClient({ baseUrl: `http://127.0.0.1:${port}`, token: bobAuth.slice(7) });
    const page = await client.myAccessLog();
    expect(page.items.map((e) => e.purpose)).toEqual(['case_investigation', 'contact_tracing']);
    expect(page.nextCursor).toBeNull();
  });

  it('the data export holds the whole access log, every page of it, as the access log lists it', async () => {
    const exported = await t
      .http()
      .get('/v1/passengers/me/export')
      .set('authorization', aliceAuth)
      .expect(200);
    expect(exported.body.accessLog).toEqual((await accessLog(aliceAuth).expect(200)).body.items);
    expect(exported.body.accessLog).toHaveLength(3);

    // More entries than one page of the log holds (200): one a day for 205 days.
    const { auth, id } = await newPassenger('access-long', '13900000048');
    for (let i = 0; i < 205; i++) await record([id], 'contact_tracing', at(-i * DAY));
    const pages: AccessLogEntry[] = [];
    let cursor: string | null = null;
    do {
      const page = await accessLog(auth, { limit: 200, ...(cursor ? { cursor } : {}) }).expect(200);
      pages.push(...(page.body.items as AccessLogEntry[]));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null);
    expect(pages).toHaveLength(205);
    const long = await t.http().get('/v1/passengers/me/export').set('authorization', auth).expect(200);
    expect(long.body.accessLog).toEqual(pages);
    expect(long.body.accessLog[0]).toEqual({
      at: at(0).toISOString(),
      agency: AGENCY,
      purpose: 'contact_tracing',
    });
  });

  it('is for passengers only', async () => {
    expectError(await t.http().get('/v1/passengers/me/access-log'), 401, 'auth_required');
    for (const token of [w.tokens.official, w.tokens.admin, w.tokens.operator, w.tokens.staff])
      expectError(await accessLog(token), 403, 'forbidden');
  });
});

describe('recordDataAccess', () => {
  it('one entry per passenger, case, purpose and UTC day: repeated reads of a day add nothing', async () => {
    const { auth, id } = await newPassenger('access-carol', '13900000045');
    const day = at(HOUR);
    // An official pages through the exposures: the same case read again and again, the same id twice in a call.
    for (let i = 0; i < 5; i++) await record([id, id], 'contact_tracing', new Date(day.getTime() + i * HOUR));
    // Without a case too.
    for (let i = 0; i < 3; i++)
      await record([id], 'case_investigation', new Date(day.getTime() + i * HOUR), { caseId: null });
    expect(await entriesOf(id)).toBe(2);
    // Another purpose, another case or another day: entries of their own.
    await record([id], 'notification', new Date(day.getTime() + HOUR));
    await record([id], 'contact_tracing', new Date(day.getTime() + HOUR), { caseId: otherCaseId });
    await record([id], 'contact_tracing', new Date(day.getTime() + DAY));
    expect(await entriesOf(id)).toBe(5);
    // The day's entry keeps the first read.
    const log = (await accessLog(auth).expect(200)).body.items as AccessLogEntry[];
    expect(log.filter((e) => e.purpose === 'case_investigation')).toEqual([
      { at: day.toISOString(), agency: AGENCY, purpose: 'case_investigation' },
    ]);
  });

  it("commits with the caller's transaction, and not when it rolls back", async () => {
    const { id } = await newPassenger('access-dave', '13900000046');
    await expect(
      t.db.transaction().execute(async (tx) => {
        await recordDataAccess(tx, {
          passengerIds: [id],
          agency: AGENCY,
          purpose: 'notification',
          caseId,
          at: at(0),
        });
        expect(
          await sql<{
            n: number;
          }>`select count(*)::int as n from passenger_access where passenger_id = ${id}`.execute(tx),
        ).toMatchObject({ rows: [{ n: 1 }] });
        throw new Error('the read failed');
      }),
    ).rejects.toThrow('the read failed');
    expect(await entriesOf(id)).toBe(0);
  });

  it('skips unknown ids and does nothing for none', async () => {
    const unknown = randomUUID();
    await record([unknown], 'contact_tracing', at(0));
    await record([], 'contact_tracing', at(0));
    expect(await entriesOf(unknown)).toBe(0);
  });

  it("a deleted account's log is deleted with it, and no entry is recorded for it afterwards", async () => {
    const { auth, id } = await newPassenger('access-erin', '13900000047');
    await record([id], 'contact_tracing', at(0));
    await record([id], 'notification', at(DAY));
    expect((await accessLog(auth).expect(200)).body.items).toHaveLength(2);
    await t.http().delete('/v1/passengers/me').set('authorization', auth).expect(204);
    expect(await entriesOf(id)).toBe(0);
    await record([id, aliceId], 'contact_tracing', at(2 * DAY));
    expect(await entriesOf(id)).toBe(0);
    // The deleted account's token reads nothing any more, not even an empty log.
    expect((await accessLog(auth).expect(401)).body.error.code).toBe('token_invalid');
    // Alice's log, recorded in the same call, is untouched.
    expect(await entriesOf(aliceId)).toBe(4);
  });
});
