/**
 * Each process keeps the subjects and window of the cases it used (server/src/modules/cases/case-facts.ts): two
 * servers on one database give the same exposures whether they hold a case's facts or read them, and the one fact
 * that changes, the status, is always read.
 */
import { caseFactsOf } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { useSharedDatabase } from '../support/fixtures.js';
import { expectError, grantReveal, notifyCase, seedCaseWithContact } from '../support/flows.js';
import { seedWorld, type TestApp, type World } from '../support/test-app.js';

const shared = useSharedDatabase();
let a: TestApp;
let b: TestApp;
let w: World;
let caseId: string;

beforeAll(async () => {
  a = await shared.server();
  b = await shared.server();
  w = await seedWorld(a);
  ({ caseId } = await seedCaseWithContact(a, w, {
    subject: { user: 'facts-subject', name: '王小明', phone: '13900000041' },
    contact: { user: 'facts-contact', name: '李四', phone: '13900000042' },
    caseNumber: 'FACTS-1',
    reason: 'case facts test',
  }));
  await grantReveal(a, w.tokens.official, caseId);
});

const exposures = (t: TestApp, id: string) =>
  t.http().get(`/v1/cases/${id}/exposures?reveal=true`).set('authorization', w.tokens.official);

it('the server that opened a case and one that reads it give the same exposures', async () => {
  expect(caseFactsOf(a.app.ctx).get(caseId)).toMatchObject({ id: caseId });
  expect(caseFactsOf(b.app.ctx).get(caseId)).toBeUndefined();

  const fromA = await exposures(a, caseId).expect(200);
  const fromB = await exposures(b, caseId).expect(200);
  expect(fromA.body.total).toBe(1);
  expect(fromA.body.items[0]).toMatchObject({ phone: '13900000042', degree: 1 });
  expect(fromB.body).toEqual(fromA.body);
  // Read once, then kept: the same facts as the opener's.
  expect(caseFactsOf(b.app.ctx).get(caseId)).toEqual(caseFactsOf(a.app.ctx).get(caseId));
  const again = await exposures(b, caseId).expect(200);
  expect(again.body).toEqual(fromA.body);
});

it('an unknown case is 404 on every try and is not kept', async () => {
  const unknown = randomUUID();
  expectError(await exposures(b, unknown), 404, 'case_not_found');
  expectError(await exposures(b, unknown), 404, 'case_not_found');
  expect(caseFactsOf(b.app.ctx).get(unknown)).toBeUndefined();
});

it('a case closed through one server cannot be notified through another that holds its facts', async () => {
  expect(caseFactsOf(b.app.ctx).get(caseId)).toBeDefined();
  await a
    .http()
    .post(`/v1/cases/${caseId}/close`)
    .set('authorization', w.tokens.official)
    .send({ reason: 'cleared' })
    .expect(200);
  expectError(await notifyCase(b, w.tokens.official, caseId), 409, 'case_closed');
  // Exposures of a closed case stay readable, masked (for the record), from the kept facts.
  const after = await b
    .http()
    .get(`/v1/cases/${caseId}/exposures`)
    .set('authorization', w.tokens.official)
    .expect(200);
  expect(after.body.total).toBe(1);
});
