import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, seedWorld, type TestApp, type World } from '../support/test-app.js';

let t: TestApp;
let w: World;
beforeAll(async () => {
  t = await createTestApp();
  w = await seedWorld(t);
});
afterAll(() => t?.close());

it('a query cancelled by the statement timeout answers 503 service_unavailable, not 500', async () => {
  const locker = new pg.Client({ connectionString: t.url });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('lock table carriers in access exclusive mode');
    const res = await t.http().get('/v1/carriers').set('authorization', w.tokens.operator);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
  } finally {
    await locker.query('rollback');
    await locker.end();
  }
  await t.http().get('/v1/carriers').set('authorization', w.tokens.operator).expect(200);
});
