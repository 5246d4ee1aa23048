import { keyStatus, rewrapAll } from '@ridetrace/server';
import { maskName, maskPhone } from '@ridetrace/shared';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSharedDatabase } from '../support/fixtures.js';
import { grantReveal, scanRide, seedCaseWithContact } from '../support/flows.js';
import { runCli } from '../support/run-cli.js';
import { cliEnv, confirmedPassenger, seedWorld, type TestApp, type World } from '../support/test-app.js';

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');
const K1 = `k1:${KEY1}`;
const K1K2 = `k1:${KEY1},k2:${KEY2}`;
const K2 = `k2:${KEY2}`;

const shared = useSharedDatabase();

/** A server on the shared database with the given RIDETRACE_MASTER_KEYS. */
const appWith = (masterKeys: string): Promise<TestApp> =>
  shared.server({ RIDETRACE_MASTER_KEY: '', RIDETRACE_MASTER_KEYS: masterKeys });

let a: TestApp;
let w: World;
let code: { url: string };
let aliceAuth: string;
let bobAuth: string;
let caseId: string;
let aliceRideId: string;

beforeAll(async () => {
  a = await appWith(K1);
  w = await seedWorld(a);
  const seeded = await seedCaseWithContact(a, w, {
    subject: { user: 'keys-alice', name: '王小明', phone: '13900000021' },
    contact: { user: 'keys-bob', name: '李四', phone: '13900000022' },
    caseNumber: 'KEYS-1',
    reason: 'key rotation test',
  });
  ({ code, caseId, subjectAuth: aliceAuth, contactAuth: bobAuth, subjectRideId: aliceRideId } = seeded);
  await grantReveal(a, w.tokens.official, caseId);
});

/** Everything written under k1 is readable through `t`. */
async function expectEverythingReadable(t: TestApp, exposed = 1) {
  const me = await t.http().get('/v1/passengers/me').set('authorization', aliceAuth).expect(200);
  expect(me.body).toMatchObject({
    confirmed: true,
    name: maskName('王小明'),
    phone: maskPhone('13900000021'),
  });
  const rides = await t.http().get('/v1/passengers/me/rides').set('authorization', aliceAuth).expect(200);
  expect(rides.body.items.map((r: { id: string }) => r.id)).toContain(aliceRideId);
  const c = await t
    .http()
    .get(`/v1/cases/${caseId}?reveal=true`)
    .set('authorization', w.tokens.official)
    .expect(200);
  expect(c.body.reason).toBe('key rotation test');
  expect(c.body.subject).toMatchObject({ name: '王小明', phone: '13900000021' });
  const ex = await t
    .http()
    .get(`/v1/cases/${caseId}/exposures?reveal=true`)
    .set('authorization', w.tokens.official)
    .expect(200);
  // Bob (and, after the rotation, Carol) rode with Alice.
  expect(ex.body.total).toBe(exposed);
  expect(ex.body.items.find((e: { name: string }) => e.name === '李四')).toMatchObject({
    phone: '13900000022',
    level: 'close',
  });
}

describe('master key rotation', () => {
  let b: TestApp;

  it('app A (k1) reads its own data', async () => {
    await expectEverythingReadable(a);
  });

  it('app B (k1,k2): before rewrap everything is readable and keyStatus shows k1 wraps pending', async () => {
    b = await appWith(K1K2);
    await expectEverythingReadable(b);
    const s = await keyStatus(shared.database.db, b.app.ctx.keyring);
    expect(s.activeMasterKeyId).toBe('k2');
    expect(s.configuredMasterKeyIds).toEqual(['k1', 'k2']);
    expect(s.wrapped.system_keys).toEqual({ k1: 5 });
    expect(Object.keys(s.wrapped.ride_day_keys)).toEqual(['k1']);
    expect(s.wrapped.ride_day_keys.k1).toBeGreaterThan(0);
    expect(s.wrapped.passengers).toEqual({ k1: 2 });
    expect(s.pending).toBe(5 + s.wrapped.ride_day_keys.k1! + 2);
  });

  it('`keys status` (CLI) prints the wraps per master key and what is pending', async () => {
    const s = await keyStatus(shared.database.db, b.app.ctx.keyring);
    const env = {
      ...cliEnv(a),
      RIDETRACE_MASTER_KEY: '',
      RIDETRACE_MASTER_KEYS: K1K2,
    };
    const out = await runCli(['keys', 'status'], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('active master key: k2 (configured: k1, k2)');
    expect(out.stdout).toContain('system_keys: k1=5');
    expect(out.stdout).toContain(`ride_day_keys: k1=${s.wrapped.ride_day_keys.k1}`);
    expect(out.stdout).toContain('passengers: k1=2');
    expect(out.stdout).toContain(`${s.pending} data key(s) to rewrap`);
  }, 120_000);

  it('rewrapAll moves every wrapped key to k2; everything stays readable, old posters still scan', async () => {
    const before = await keyStatus(shared.database.db, b.app.ctx.keyring);
    const done = await rewrapAll(shared.database.db, b.app.ctx.keyring, { batch: 2 });
    expect(done).toEqual({
      system_keys: 5,
      ride_day_keys: before.wrapped.ride_day_keys.k1,
      passengers: 2,
    });
    const s = await keyStatus(shared.database.db, b.app.ctx.keyring);
    expect(s.pending).toBe(0);
    expect(s.wrapped).toEqual({
      system_keys: { k2: 5 },
      ride_day_keys: { k2: before.wrapped.ride_day_keys.k1 },
      passengers: { k2: 2 },
    });
    // Idempotent.
    expect(await rewrapAll(shared.database.db, b.app.ctx.keyring)).toEqual({
      system_keys: 0,
      ride_day_keys: 0,
      passengers: 0,
    });

    await expectEverythingReadable(b);
    // The poster printed before the rotation still scans (its signing key was only rewrapped).
    const carol = await confirmedPassenger(b, 'keys-carol', { name: '赵六', phone: '13900000023' });
    await scanRide(b, carol, code.url);
    // New passengers get keys under k2.
    const s2 = await keyStatus(shared.database.db, b.app.ctx.keyring);
    expect(s2.wrapped.passengers).toEqual({ k2: 3 });
  });

  it('an app with only k2 reads everything', async () => {
    const c = await appWith(K2);
    await expectEverythingReadable(c, 2);
    // An hour back (offline): Bob's ride of a moment ago on this carrier would answer as a repeat scan.
    await scanRide(c, bobAuth, code.url, new Date(Date.now() - 3600_000).toISOString());
  });

  it('an app with only k1 fails to start after the rewrap', async () => {
    await expect(appWith(K1)).rejects.toThrow(/master key k2 is not configured/);
  });
});
