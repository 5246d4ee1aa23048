/**
 * Blind-index key rotation (`pnpm cli keys rotate-index`): every identity index (phone, ID document, super-app
 * subject, SMS codes) is recomputed under a new key generation, online, while lookups keep working; ride
 * idempotency keys stay under the first key. The rotation runs in a context of its own (another process's keyring
 * and view of the generations) or as the CLI, against a server that keeps serving.
 */
import {
  DevSuperAppLogin,
  indexKeyState,
  loadContext,
  rotateIndexKey,
  windDown,
  type AppContext,
  type IndexRotationReport,
} from '@ridetrace/server';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNotifyWorld, useWorld } from '../support/fixtures.js';
import {
  createStaffedCarrier,
  openCase,
  passengerIdOf,
  registerManualRide,
  scanRide,
  withCheckChar,
} from '../support/flows.js';
import { killCliAt, runCli } from '../support/run-cli.js';
import { newIdNumber, newName } from '../support/trace-kit.js';
import { cliEnv, confirmedPassenger, passengerToken, type TestApp } from '../support/test-app.js';

// Servers re-read the generations every second: a rotation's steps wait 1 s + RIDES_BATCH_QUEUE_MS + 2 s.
const ENV = {
  INDEX_KEYS_MAX_AGE_SECONDS: '1',
  RIDES_REPEAT_MINUTES: '0',
  OTP_TTL_SECONDS: '60',
  OTP_RESEND_SECONDS: '0',
  RATE_LIMIT_PER_IP_PER_MINUTE: '100000',
  RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
  RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '1000',
};

interface Person {
  user: string;
  name: string;
  phone: string;
  idNumber?: string;
}

/** What the person types or shows: name, phone and ID number, without the test's user name. */
const identityOf = ({ name, phone, idNumber }: Person) => ({
  name,
  phone,
  ...(idNumber ? { idNumber } : {}),
});

/** Another server process on the test's database: its own keyring, its own view of the key generations. */
function otherProcess(t: TestApp): Promise<AppContext> {
  return loadContext({
    config: t.config,
    db: t.db,
    masterKeys: { keys: t.config.masterKeys!, activeId: t.config.activeMasterKeyId!, source: 'env' },
    superApp: new DevSuperAppLogin(),
    now: () => new Date(Date.now() + t.clock.offsetMs),
  });
}

/** Waits by moving the test's clock (every server then finds its view of the generations old), then lets requests in flight finish. */
const clockSleep = (t: TestApp) => async (ms: number) => {
  t.clock.offsetMs += ms;
  await delay(50);
};

const signInId = async (t: TestApp, user: string) => passengerIdOf(t, await passengerToken(t, user));

async function passengerCount(t: TestApp): Promise<number> {
  const r = await t.db
    .selectFrom('passengers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function caseSubjects(t: TestApp, caseId: string): Promise<{ subjects: string[]; claims: string[] }> {
  const subjects = await t.db
    .selectFrom('case_subjects')
    .select('passenger_id')
    .where('case_id', '=', caseId)
    .execute();
  const claims = await t.db
    .selectFrom('case_claims')
    .select('passenger_id')
    .where('case_id', '=', caseId)
    .execute();
  return { subjects: subjects.map((r) => r.passenger_id), claims: claims.map((r) => r.passenger_id) };
}

/** Every identity index stored anywhere (passengers and SMS codes), as hex. */
async function storedIndexes(t: TestApp): Promise<Set<string>> {
  const r = await sql<{ b: Buffer }>`
    select subject_index as b from passengers where subject_index is not null
    union all select phone_index from passengers where phone_index is not null
    union all select id_number_index from passengers where id_number_index is not null
    union all select phone_index from phone_otps union all select requester_index from phone_otps
    union all select code_hash from phone_otps`.execute(t.db);
  return new Set(r.rows.map((x) => x.b.toString('hex')));
}

/** Rows holding an identity index under a generation below `generation` (as the rotation counts them). */
async function rowsBelow(t: TestApp, generation: number): Promise<number> {
  const r = await sql<{ n: number }>`
    select (select count(*) from passengers where index_generation < ${generation}
        and (subject_index is not null or phone_index is not null or id_number_index is not null))
      + (select count(*) from phone_otps where index_generation < ${generation}) as n`.execute(t.db);
  return Number(r.rows[0]!.n);
}

async function systemKeyNames(t: TestApp): Promise<string[]> {
  return (await t.db.selectFrom('system_keys').select('name').orderBy('name').execute()).map((r) => r.name);
}

async function rotationAudits(t: TestApp) {
  return t.db
    .selectFrom('audit_log')
    .select(['actor', 'people', 'detail'])
    .where('action', '=', 'keys.rotate_index')
    .orderBy('seq')
    .execute();
}

describe('a rotation', () => {
  const { t, w, sms } = useNotifyWorld(ENV);
  const alice: Person = {
    user: 'rot-alice',
    name: '张晓明',
    phone: '13900000001',
    idNumber: withCheckChar('11010519491231002'),
  };
  // Typed, never verified: her phone only claims a case subject.
  const bob: Person = { user: 'rot-bob', name: '李明', phone: '13900000002' };
  // Registered by staff from her document: phone and ID number link her.
  const carol: Person = {
    user: 'rot-carol',
    name: '王芳',
    phone: '13900000003',
    idNumber: withCheckChar('44030419800101123'),
  };
  // Signed in only: a super-app subject index and nothing else.
  const dave = 'rot-dave';
  // Verifies a phone with an SMS code sent before the rotation, while it runs.
  const erin = { user: 'rot-erin', phone: '13900000005' };
  // Asks for an SMS code while the rotation runs, and uses it after.
  const fred = { user: 'rot-fred', phone: '13900000006' };
  // A case subject, and a contact of hers registered twice (by staff, then in the app, one verified phone): while
  // only one of pat's two registrations is recomputed, they still link and merge into one person.
  const sam: Person = { user: 'rot-sam', name: newName(300), phone: '13900000007' };
  const pat: Person = { user: 'rot-pat', name: newName(301), phone: '13900000008' };
  let patIds: string[];

  let carrierId: number;
  let codeUrl: string;
  const ids: Record<string, string> = {};
  let carolId: string;
  let before: number;
  let gen1: Set<string>;
  let aliceRide: { clientRideId: string; id: string };
  let erinAuth: string;
  let fredAuth: string;
  let report: IndexRotationReport;
  const midway: Record<string, unknown> = {};

  const requestCode = (auth: string, phone: string) =>
    t.http().post('/v1/passengers/me/phone/otp').set('authorization', auth).send({ phone });
  const verifyCode = (auth: string, phone: string, code: string) =>
    t.http().post('/v1/passengers/me/phone/verify').set('authorization', auth).send({ phone, code });
  const lastCodeTo = (phone: string) =>
    (
      sms.received.filter((r) => r.body.phone === phone && r.body.template === 'ridetrace_otp').at(-1)!.body
        .params as { code: string }
    ).code;

  beforeAll(async () => {
    const staffed = await createStaffedCarrier(t, w);
    carrierId = staffed.carrier.id;
    codeUrl = staffed.code.url;
    const aliceAuth = await confirmedPassenger(t, alice.user, identityOf(alice));
    ids[alice.user] = await passengerIdOf(t, aliceAuth);
    ids[bob.user] = await passengerIdOf(
      t,
      await confirmedPassenger(t, bob.user, identityOf(bob), { verified: false }),
    );
    await registerManualRide(t, w, carrierId, { ...identityOf(carol), boardedAt: new Date().toISOString() });
    carolId = (
      await t.db.selectFrom('passengers').select('id').where('kind', '=', 'manual').executeTakeFirstOrThrow()
    ).id;
    ids[dave] = await signInId(t, dave);
    erinAuth = await passengerToken(t, erin.user);
    ids[erin.user] = await passengerIdOf(t, erinAuth);
    expect((await requestCode(erinAuth, erin.phone)).status).toBe(200);
    fredAuth = await passengerToken(t, fred.user);
    ids[fred.user] = await passengerIdOf(t, fredAuth);
    const clientRideId = randomUUID();
    const ride = await t
      .http()
      .post('/v1/rides')
      .set('authorization', aliceAuth)
      .send({ code: codeUrl, clientRideId })
      .expect(201);
    aliceRide = { clientRideId, id: ride.body.ride.id as string };
    await scanRide(t, await confirmedPassenger(t, sam.user, identityOf(sam)), codeUrl);
    ids[sam.user] = await signInId(t, sam.user);
    await registerManualRide(t, w, carrierId, { ...identityOf(pat), boardedAt: new Date().toISOString() });
    const patAuth = await confirmedPassenger(t, pat.user, identityOf(pat));
    await scanRide(t, patAuth, codeUrl);
    ids[pat.user] = await passengerIdOf(t, patAuth);
    const patManual = await t.db
      .selectFrom('passengers')
      .select('id')
      .where('kind', '=', 'manual')
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    patIds = [ids[pat.user]!, patManual.id];
    before = await passengerCount(t);
    gen1 = await storedIndexes(t);

    const rotator = await otherProcess(t);
    report = await rotateIndexKey(rotator, {
      batch: 1,
      sleep: clockSleep(t),
      afterBatch: async (n) => {
        if (midway.patLinked === undefined) await whileOnlyOneOfPatIsRecomputed();
        // After the first batch: the switch is done, every row but one still holds indexes of generation 1.
        if (n !== 1) return;
        midway.state = await indexKeyState(t.db);
        midway.signIns = await Promise.all([alice.user, dave, bob.user].map((u) => signInId(t, u)));
        midway.manual = await registerManualRide(t, w, carrierId, {
          name: alice.name,
          phone: alice.phone,
          boardedAt: new Date(Date.now() + t.clock.offsetMs).toISOString(),
        });
        const c = await openCase(t, w.tokens.official, {
          subject: { phone: alice.phone },
          caseNumber: 'ROT-MID',
          reason: 'test: a case opened during the rotation',
        }).expect(201);
        midway.caseSubjects = await caseSubjects(t, c.body.id as string);
        const verified = await verifyCode(erinAuth, erin.phone, lastCodeTo(erin.phone));
        midway.erinVerified = [verified.status, verified.body.phoneVerified];
        midway.fredCode = (await requestCode(fredAuth, fred.phone)).status;
      },
    });
  }, 120_000);

  /** Pat's two registrations once they are of different generations (some batch recomputes one before the other). */
  async function whileOnlyOneOfPatIsRecomputed(): Promise<void> {
    const gens = await t.db
      .selectFrom('passengers')
      .select('index_generation')
      .where('id', 'in', patIds)
      .execute();
    if (new Set(gens.map((g) => g.index_generation)).size !== 2) return;
    const byId = await openCase(t, w.tokens.official, {
      subject: { passengerId: ids[pat.user] },
      caseNumber: 'ROT-PAT',
      reason: 'test: pat is the subject',
    }).expect(201);
    midway.patLinked = (await caseSubjects(t, byId.body.id as string)).subjects.sort();
    const bySam = await openCase(t, w.tokens.official, {
      subject: { phone: sam.phone },
      caseNumber: 'ROT-SAM',
      reason: 'test: sam is the subject',
    }).expect(201);
    const page = await t
      .http()
      .get(`/v1/cases/${bySam.body.id as string}/exposures`)
      .set('authorization', w.tokens.official)
      .expect(200);
    midway.patAsContacts = (page.body.items as { personId: string }[]).filter((i) =>
      patIds.includes(i.personId),
    ).length;
  }

  it('two registrations of one person, one recomputed and one not, still link and merge into one contact', () => {
    expect(midway.patLinked).toEqual([...patIds].sort());
    expect(midway.patAsContacts).toBe(1);
  });

  it('lookups work in the middle of it: sign-in, staff by phone, a case by phone, an SMS code sent before', () => {
    expect(midway.state).toMatchObject({ phase: 'switched', generation: 2, otherGeneration: 1 });
    expect(midway.signIns).toEqual([ids[alice.user], ids[dave], ids[bob.user]]);
    expect(midway.manual).toMatchObject({ rider: { matched: true } });
    expect(midway.caseSubjects).toEqual({ subjects: [ids[alice.user]], claims: [] });
    expect(midway.erinVerified).toEqual([200, true]);
    expect(midway.fredCode).toBe(200);
  });

  it('reports generation 1 → 2, every registration recomputed, the first key kept', async () => {
    expect(report).toMatchObject({ from: 1, to: 2, resumed: false, dropped: 0, keyDestroyed: false });
    // alice, bob, carol, dave, erin, fred, sam and pat's two registrations.
    expect(report.indexed).toBe(9);
    expect(report.codesCleared).toBe(1);
    expect(await indexKeyState(t.db)).toMatchObject({
      phase: 'settled',
      generation: 2,
      otherGeneration: null,
    });
    expect(await systemKeyNames(t)).toEqual(expect.arrayContaining(['blind-index', 'blind-index-2']));
  });

  it('every passenger signs in to the same pseudonym', async () => {
    for (const user of [alice.user, bob.user, dave, erin.user, fred.user])
      expect(await signInId(t, user), user).toBe(ids[user]);
    expect(await passengerCount(t)).toBe(before);
  });

  it('staff find the same rider by phone and by ID document; nobody new is created', async () => {
    const now = () => new Date(Date.now() + t.clock.offsetMs).toISOString();
    const byPhone = await registerManualRide(t, w, carrierId, {
      name: alice.name,
      phone: alice.phone,
      boardedAt: now(),
    });
    expect(byPhone.rider.matched).toBe(true);
    const byId = await registerManualRide(t, w, carrierId, {
      name: carol.name,
      phone: '13900000099',
      idNumber: carol.idNumber!,
      boardedAt: now(),
    });
    expect(byId.rider.matched).toBe(true);
    // Erin's phone, verified during the rotation, links her too.
    const byErin = await registerManualRide(t, w, carrierId, {
      name: '赵六',
      phone: erin.phone,
      boardedAt: now(),
    });
    expect(byErin.rider.matched).toBe(true);
    expect(await passengerCount(t)).toBe(before);
  });

  it('an official opening a case by phone or ID document finds the subject (and a typed phone a claim)', async () => {
    const byPhone = await openCase(t, w.tokens.official, {
      subject: { phone: alice.phone },
      caseNumber: 'ROT-1',
      reason: 'test',
    }).expect(201);
    expect(await caseSubjects(t, byPhone.body.id as string)).toEqual({
      subjects: [ids[alice.user]],
      claims: [],
    });
    const byId = await openCase(t, w.tokens.official, {
      subject: { idType: 'cn_id', idNumber: carol.idNumber },
      caseNumber: 'ROT-2',
      reason: 'test',
    }).expect(201);
    expect(await caseSubjects(t, byId.body.id as string)).toEqual({ subjects: [carolId], claims: [] });
    const claimed = await openCase(t, w.tokens.official, {
      subject: { phone: bob.phone },
      caseNumber: 'ROT-3',
      reason: 'test',
    }).expect(201);
    expect(await caseSubjects(t, claimed.body.id as string)).toEqual({
      subjects: [],
      claims: [ids[bob.user]],
    });
  });

  it('no row holds an index of generation 1 any more; the indexes are those of generation 2', async () => {
    expect(await rowsBelow(t, 2)).toBe(0);
    const now = await storedIndexes(t);
    expect([...gen1].filter((h) => now.has(h))).toEqual([]);
    const k = await otherProcess(t);
    await k.keyring.syncIndexKeys(t.db, k.now(), 1);
    expect(k.keyring.indexGenerations).toEqual([2]);
    expect(now.has(k.keyring.blindIndexAt(2, 'phone', alice.phone)!.toString('hex'))).toBe(true);
    expect(now.has(k.keyring.blindIndexAt(2, 'subject', `superapp:o_${dave}`)!.toString('hex'))).toBe(true);
  });

  it('a code asked for during the rotation verifies after it', async () => {
    const res = await verifyCode(fredAuth, fred.phone, lastCodeTo(fred.phone));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.phoneVerified).toBe(true);
  });

  it('ride idempotency keys stay under the first key: the same clientRideId returns the same ride', async () => {
    const again = await t
      .http()
      .post('/v1/rides')
      .set('authorization', await passengerToken(t, alice.user))
      .send({ code: codeUrl, clientRideId: aliceRide.clientRideId });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.ride.id).toBe(aliceRide.id);
  });

  it('writes one audit entry with generations and counts, never a value', async () => {
    const entries = await rotationAudits(t);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'cli:keys rotate-index', people: 9 });
    expect(JSON.parse(entries[0]!.detail!)).toMatchObject({
      from: 1,
      to: 2,
      indexed: 9,
      recomputed: 9,
      dropped: 0,
      codesCleared: 1,
      keyDestroyed: false,
      resumed: false,
    });
    for (const value of [alice.phone, alice.name, carol.idNumber!, 'o_rot'])
      expect(entries[0]!.detail).not.toContain(value);
  });
});

describe('under scan load', () => {
  const { t, w } = useWorld(ENV);
  const people: Person[] = Array.from({ length: 24 }, (_, i) => ({
    user: `load-${i}`,
    name: newName(i),
    phone: `1381000${String(i).padStart(4, '0')}`,
  }));
  const ids = new Map<string, string>();
  const auths = new Map<string, string>();
  const joined: Person[] = [];
  const failures: string[] = [];
  let carrierId: number;
  let codeUrl: string;
  let before: number;
  let requests = 0;
  let report: IndexRotationReport;

  /** One random request of the kinds a live system sees, checked; a mismatch or an error is a failure. */
  async function oneRequest(n: number): Promise<void> {
    const p = people[n % people.length]!;
    const now = new Date().toISOString();
    switch (n % 4) {
      case 0: {
        const id = await signInId(t, p.user);
        if (id !== ids.get(p.user)) failures.push(`${p.user} signed in as ${id}`);
        break;
      }
      case 1: {
        const res = await t
          .http()
          .post(`/v1/carriers/${carrierId}/manual-rides`)
          .set('authorization', w.tokens.staff)
          .send({ name: p.name, phone: p.phone, boardedAt: now });
        if (res.status !== 201 || res.body.rider?.matched !== true)
          failures.push(`manual ride of ${p.user}: ${res.status} ${JSON.stringify(res.body)}`);
        break;
      }
      case 2: {
        const res = await t
          .http()
          .post('/v1/rides')
          .set('authorization', auths.get(p.user)!)
          .send({ code: codeUrl, clientRideId: randomUUID() });
        if (res.status !== 201) failures.push(`scan of ${p.user}: ${res.status} ${JSON.stringify(res.body)}`);
        break;
      }
      default: {
        const q: Person = {
          user: `load-new-${n}`,
          name: newName(200 + n),
          phone: `1382000${String(n).padStart(4, '0')}`,
        };
        const auth = await confirmedPassenger(t, q.user, identityOf(q));
        ids.set(q.user, await passengerIdOf(t, auth));
        joined.push(q);
      }
    }
  }

  beforeAll(async () => {
    const staffed = await createStaffedCarrier(t, w);
    carrierId = staffed.carrier.id;
    codeUrl = staffed.code.url;
    for (const p of people) {
      const auth = await confirmedPassenger(t, p.user, identityOf(p));
      auths.set(p.user, auth);
      ids.set(p.user, await passengerIdOf(t, auth));
    }
    for (let i = 0; i < 6; i++)
      await registerManualRide(t, w, carrierId, {
        name: newName(50 + i),
        phone: `1383000${String(i).padStart(4, '0')}`,
        idNumber: newIdNumber(i),
        boardedAt: new Date().toISOString(),
      });
    before = await passengerCount(t);

    const rotator = await otherProcess(t);
    let done = false;
    const rotation = rotateIndexKey(rotator, {
      batch: 3,
      // Real time: the servers learn of each step by re-reading, as in production.
      afterBatch: () => delay(100),
    }).finally(() => (done = true));
    let n = 0;
    const worker = async () => {
      while (!done) {
        const i = n++;
        await oneRequest(i).catch((err: unknown) => failures.push(`request ${i}: ${String(err)}`));
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    report = await rotation;
    requests = n;
  }, 180_000);

  it('not one lookup fails or lands on another passenger while it runs', () => {
    // Requests ran through every step (each waits 4 s), not just before it.
    expect(requests).toBeGreaterThan(40);
    expect(failures).toEqual([]);
    expect(report).toMatchObject({ from: 1, to: 2, dropped: 0 });
  });

  it('creates no duplicate: every passenger, old and new, signs in to the same pseudonym and is found by phone', async () => {
    expect(joined.length).toBeGreaterThan(0);
    expect(await passengerCount(t)).toBe(before + joined.length);
    for (const p of [...people, ...joined]) {
      expect(await signInId(t, p.user), p.user).toBe(ids.get(p.user));
      const res = await registerManualRide(t, w, carrierId, {
        ...identityOf(p),
        boardedAt: new Date().toISOString(),
      });
      expect(res.rider.matched, p.user).toBe(true);
    }
    expect(await passengerCount(t)).toBe(before + joined.length);
    expect(await rowsBelow(t, 2)).toBe(0);
  });
});

describe('pnpm cli keys rotate-index: killed, run again, run twice, then the wind-down', () => {
  const { t, w } = useWorld(ENV);
  const people: Person[] = Array.from({ length: 7 }, (_, i) => ({
    user: `cli-${i}`,
    name: newName(100 + i),
    phone: `1384000${String(i).padStart(4, '0')}`,
  }));
  const ids = new Map<string, string>();
  let carrierId: number;
  const env = () => ({ ...cliEnv(t), INDEX_KEYS_MAX_AGE_SECONDS: '1', RIDES_BATCH_QUEUE_MS: '500' });

  const everyoneFound = async () => {
    for (const p of people) expect(await signInId(t, p.user), p.user).toBe(ids.get(p.user));
    const res = await registerManualRide(t, w, carrierId, {
      ...identityOf(people[0]!),
      boardedAt: new Date().toISOString(),
    });
    expect(res.rider.matched).toBe(true);
  };

  beforeAll(async () => {
    const staffed = await createStaffedCarrier(t, w);
    carrierId = staffed.carrier.id;
    for (const p of people)
      ids.set(p.user, await passengerIdOf(t, await confirmedPassenger(t, p.user, identityOf(p))));
    await scanRide(t, await passengerToken(t, people[0]!.user), staffed.code.url);
  });

  it('a run killed mid-way leaves lookups working, and the rerun continues where it stopped', async () => {
    const out = await killCliAt(
      ['keys', 'rotate-index', '--batch', '2', '--pause-after-batches', '1'],
      env(),
      'paused after 1 batch',
    );
    expect(out).toContain('✓ announce:');
    expect(out).toContain('✓ switch:');
    expect(await indexKeyState(t.db)).toMatchObject({ phase: 'switched', generation: 2, otherGeneration: 1 });
    const left = await rowsBelow(t, 2);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(people.length);
    await everyoneFound();

    const rerun = await runCli(['keys', 'rotate-index', '--batch', '2'], env(), 120_000);
    expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
    expect(rerun.stdout).toContain('generation 1 → 2 (continued an interrupted run)');
    expect(rerun.stdout).toMatch(/recomputing indexes \d+\/\d+/);
    expect(rerun.stdout).not.toContain('✓ announce:');
    expect(await rowsBelow(t, 2)).toBe(0);
    expect(await indexKeyState(t.db)).toMatchObject({ phase: 'settled', generation: 2 });
    await everyoneFound();
    const audits = await rotationAudits(t);
    expect(audits).toHaveLength(1);
    expect(JSON.parse(audits[0]!.detail!)).toMatchObject({ from: 1, to: 2, resumed: true });
  }, 180_000);

  it('a second run rotates again and destroys the key of generation 2; the first key stays', async () => {
    const run = await runCli(['keys', 'rotate-index'], env(), 120_000);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('blind-index key rotated: generation 2 → 3');
    expect(run.stdout).toContain('key of generation 2: destroyed');
    const names = await systemKeyNames(t);
    expect(names).toEqual(expect.arrayContaining(['blind-index', 'blind-index-3']));
    expect(names).not.toContain('blind-index-2');
    expect(await rowsBelow(t, 3)).toBe(0);
    await everyoneFound();
    expect(await rotationAudits(t)).toHaveLength(2);
  }, 180_000);

  it('another run while one holds the lock changes nothing', async () => {
    const held = await t.db.connection().execute(async (db) => {
      await sql`select pg_advisory_lock(hashtext('ridetrace.index-keys'))`.execute(db);
      try {
        return await runCli(['keys', 'rotate-index'], env(), 60_000);
      } finally {
        await sql`select pg_advisory_unlock(hashtext('ridetrace.index-keys'))`.execute(db);
      }
    });
    expect(held.code).toBe(1);
    expect(held.stderr).toContain('another blind-index key rotation is running; nothing was changed');
    expect(await indexKeyState(t.db)).toMatchObject({ phase: 'settled', generation: 3 });
  }, 90_000);

  it('the wind-down destroys every blind-index key, the rotated ones included', async () => {
    await windDown(
      { config: { ...t.config, deploymentName: 'rotation test' }, db: t.db },
      { confirm: 'rotation test', graceMs: 0, publish: async () => undefined },
    );
    expect((await systemKeyNames(t)).filter((n) => n.startsWith('blind-index'))).toEqual([]);
  }, 90_000);
});
