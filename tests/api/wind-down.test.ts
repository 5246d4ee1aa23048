/**
 * Ending the programme (`pnpm cli wind-down`): the CLI runs as a child process on the test app's database, as an
 * operator would run it beside the live servers.
 */
import { auditKeyId, verifyAuditChain } from '@ridetrace/server';
import { TABLE_COLUMNS } from '@ridetrace/server/testing';
import { sql } from 'kysely';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Response } from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCleanup, useNotifyWorld, useWorld } from '../support/fixtures.js';
import {
  createStaffedCarrier,
  enrolOfficial,
  expectError,
  grantReveal,
  notifyCase,
  registerManualRide,
  scanRide,
  seedCaseWithContact,
  signInOfficial,
  withCheckChar,
} from '../support/flows.js';
import { dump, publicTables, search, type Dump } from '../support/privacy-scan.js';
import { killCliAt, REPO_ROOT, runCli, type Run } from '../support/run-cli.js';
import {
  cliEnv,
  confirmedPassenger,
  createCarrier,
  passengerToken,
  type TestApp,
} from '../support/test-app.js';

const NAME = '深圳公交乘车登记 (wind-down test)';
const MIN = 60_000;

interface Person {
  user?: string;
  name: string;
  phone: string;
  idNumber?: string;
}

const subject: Person = { user: 'wd-subject', name: '欧阳娜娜', phone: '13912345678' };
const contact: Person = { user: 'wd-contact', name: '司马相如', phone: '13711223344' };
const rider: Person = {
  name: 'Zhang Wei',
  phone: '13887654321',
  idNumber: withCheckChar('11010119900307663'),
};
const otpPhone = '13655443322';
const CASE_REASON = 'Fever; household of 欧阳娜娜';

/** Every value that must be gone, as text and as the hex of its UTF-8 bytes (bytea columns dump as hex). */
function secrets(): string[] {
  const values = new Set<string>([otpPhone, CASE_REASON]);
  for (const p of [subject, contact, rider]) {
    values.add(p.name);
    values.add(p.phone);
    if (p.idNumber) values.add(p.idNumber);
    if (p.user) {
      values.add(`o_${p.user}`); // the openid the fake super-app returns
      values.add(`ok:${p.user}`); // the login code
    }
  }
  for (const u of ['wd-pending', 'wd-otp']) values.add(`o_${u}`);
  return [...values];
}

/** Rows per table of TABLE_COLUMNS (rides: all its partitions). */
async function counts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of Object.keys(TABLE_COLUMNS)) {
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.db);
    out[table] = r.rows[0]!.n;
  }
  return out;
}

/** Every non-empty bytea value left in the database, as `table.column (key name)`. */
async function sealedValuesLeft(t: TestApp): Promise<string[]> {
  const cols = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_name = c.table_name and t.table_schema = c.table_schema
    where c.table_schema = 'public' and c.data_type = 'bytea' and t.table_type = 'BASE TABLE'
    order by 1, 2`.execute(t.db);
  const left: string[] = [];
  for (const { table_name, column_name } of cols.rows) {
    const label = table_name === 'system_keys' ? sql`name` : sql`null::text`;
    const r = await sql<{ label: string | null }>`
      select ${label} as label from ${sql.table(table_name)}
      where octet_length(${sql.ref(column_name)}) > 0`.execute(t.db);
    for (const row of r.rows) left.push(`${table_name}.${column_name}${row.label ? ` (${row.label})` : ''}`);
  }
  return left;
}

function windDownEnv(t: TestApp, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...cliEnv(t),
    DEPLOYMENT_NAME: NAME,
    // A short grace after registrations stop: the app under test answers at once.
    SUPERAPP_TIMEOUT_MS: '500',
    RIDES_BATCH_QUEUE_MS: '500',
    ...extra,
  };
}

interface PdfJs {
  getDocument(src: { data: Uint8Array; useSystemFonts: boolean }): {
    promise: Promise<{
      numPages: number;
      getPage(n: number): Promise<{ getTextContent(): Promise<{ items: { str?: string }[] }> }>;
      destroy(): Promise<void>;
    }>;
  };
}

/** The text of every page, through pdf.js (a dependency of the scripts package). */
async function pdfText(buf: Buffer): Promise<string> {
  const req = createRequire(path.join(REPO_ROOT, 'scripts/package.json'));
  const pdfjs = (await import(pathToFileURL(req.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href)) as PdfJs;
  const pdf = await pdfjs.getDocument({ data: new Uint8Array(buf), useSystemFonts: false }).promise;
  const parts: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    parts.push(content.items.map((item) => item.str ?? '').join(''));
  }
  await pdf.destroy();
  return parts.join('\n');
}

interface Certificate {
  certificate: {
    deployment: string;
    registrationsStoppedAt: string;
    destroyedAt: string;
    tables: Record<string, { fate: string; before: number; after: number }>;
    personalData: Record<string, { before: number; after: number }>;
    keysDestroyed: { dayKeys: string[]; systemKeys: string[]; passengerDataKeys: number };
    keysKept: { systemKeys: string[] };
    ridePartitionsDropped: string[];
    casesClosed: number;
    accountsDisabled: { officials: number; officialClients: number };
    auditHead: { seq: number; hash: string };
    outsideTheDatabase: { masterKeyIds: string[] };
  };
  signature: { algorithm: string; keyId: string; key: string; publicKey: string; value: string };
}

describe('wind-down with the audit signing key', () => {
  const { t, w } = useNotifyWorld({ NOTIFY_WORKER: 'off' });
  const cleanup = useCleanup();
  const signingSeed = randomBytes(32).toString('base64');
  const signingKey = createPrivateKey({
    key: Buffer.concat([
      Buffer.from('302e020100300506032b657004220420', 'hex'),
      Buffer.from(signingSeed, 'base64'),
    ]),
    format: 'der',
    type: 'pkcs8',
  });
  let out: string;
  let env: NodeJS.ProcessEnv;
  let staffCarrierId: number;
  let codeUrl: string;
  let passengerAuth: string;
  let pendingAuth: string;
  let before: {
    dump: Dump;
    counts: Record<string, number>;
    dayKeys: string[];
    sealed: string[];
  };
  let runs: {
    wrong: Run[];
    refusedDump: Dump;
    paused: string;
    state: {
      steps: string[];
      completed: boolean;
      certificate: boolean;
      dayKeys: number;
      partitions: number;
      files: boolean;
      replies: Record<string, Response>;
    };
    resumed: Run;
  };
  let after: { dump: Dump; counts: Record<string, number> };
  let cert: Certificate;

  /** A scan, a confirmation, a staff registration, a login and an SMS code request. */
  async function refusals(): Promise<Record<string, Response>> {
    const someone = { name: '李雷', phone: '13500001111' };
    return {
      scan: await t
        .http()
        .post('/v1/rides')
        .set('authorization', passengerAuth)
        .send({ code: codeUrl, clientRideId: randomUUID() }),
      confirm: await t
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', pendingAuth)
        .send({ ...someone, consentVersion: t.config.consentVersion }),
      manual: await t
        .http()
        .post(`/v1/carriers/${staffCarrierId}/manual-rides`)
        .set('authorization', w.tokens.staff)
        .send({ ...someone, boardedAt: new Date().toISOString() }),
      login: await t.http().post('/v1/auth/passenger').send({ loginCode: 'ok:wd-new' }),
      otp: await t
        .http()
        .post('/v1/passengers/me/phone/otp')
        .set('authorization', pendingAuth)
        .send({ phone: someone.phone }),
    };
  }

  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'rt-wind-down-'));
    cleanup.add(() => rm(out, { recursive: true, force: true }));
    env = windDownEnv(t, { RIDETRACE_AUDIT_SIGNING_KEY: signingSeed });

    // A case with its subject and a contact (rides, exposure marks, notifications queued, a reveal grant).
    const seeded = await seedCaseWithContact(t, w, {
      subject: subject as Required<Omit<Person, 'idNumber'>>,
      contact: contact as Required<Omit<Person, 'idNumber'>>,
      caseNumber: 'WD-1',
      reason: CASE_REASON,
    });
    codeUrl = seeded.code.url;
    passengerAuth = seeded.contactAuth;
    await grantReveal(t, w.tokens.official, seeded.caseId);
    await notifyCase(t, w.tokens.official, seeded.caseId).expect(200);
    // An offline ride three hours back, a rider registered by staff with an ID number, a scan left pending.
    await scanRide(t, seeded.subjectAuth, codeUrl, new Date(Date.now() - 3 * 60 * MIN).toISOString());
    const { carrier } = await createStaffedCarrier(t, w, {
      kind: 'taxi',
      plate: '粤B7T123',
      city: '深圳',
    });
    staffCarrierId = carrier.id;
    await registerManualRide(t, w, carrier.id, {
      name: rider.name,
      phone: rider.phone,
      idNumber: rider.idNumber!,
      boardedAt: new Date(Date.now() - 10 * MIN).toISOString(),
    });
    pendingAuth = await passengerToken(t, 'wd-pending');
    await t
      .http()
      .post('/v1/rides')
      .set('authorization', pendingAuth)
      .send({ code: codeUrl, clientRideId: randomUUID() })
      .expect(202);
    // An SMS code asked for (a phone_otps row), and an official person signed in (TOTP secret, session).
    const otpAuth = await passengerToken(t, 'wd-otp');
    await t
      .http()
      .post('/v1/passengers/me/phone/otp')
      .set('authorization', otpAuth)
      .send({ phone: otpPhone })
      .expect(200);
    await signInOfficial(t, await enrolOfficial(t, w.tokens.admin, ['tracer']));

    const dayKeys = (await t.db.selectFrom('ride_day_keys').select('day').orderBy('day').execute()).map(
      (r) => r.day,
    );
    before = { dump: await dump(t.db), counts: await counts(t), dayKeys, sealed: await sealedValuesLeft(t) };

    // Refusals: a wrong name, the name with a trailing space, no DEPLOYMENT_NAME at all.
    const wrong = await Promise.all([
      runCli(['wind-down', '--confirm', '深圳公交乘车登记', '--out', out], env),
      runCli(['wind-down', '--confirm', `${NAME} `, '--out', out], env),
      runCli(['wind-down', '--confirm', NAME, '--out', out], { ...env, DEPLOYMENT_NAME: '' }),
    ]);
    const refusedDump = await dump(t.db);

    // Killed right after the keys were destroyed, before the partitions were dropped; then run again.
    const paused = await killCliAt(
      ['wind-down', '--confirm', NAME, '--out', out, '--pause-after', 'keys'],
      env,
      'paused after keys',
    );
    const row = await t.db.selectFrom('programme').selectAll().executeTakeFirstOrThrow();
    const state = {
      steps: row.steps,
      completed: row.completed_at !== null,
      certificate: row.certificate !== null,
      dayKeys: (await t.db.selectFrom('ride_day_keys').select('day').execute()).length,
      partitions: (await publicTables(t.db)).filter((n) => /^rides_\d{8}$/.test(n)).length,
      files: existsSync(path.join(out, 'destruction-certificate.json')),
      replies: await refusals(),
    };
    const resumed = await runCli(['wind-down', '--confirm', NAME, '--out', out], env, 120_000);
    runs = { wrong, refusedDump, paused, state, resumed };
    after = { dump: await dump(t.db), counts: await counts(t) };
    cert = JSON.parse(await readFile(path.join(out, 'destruction-certificate.json'), 'utf8')) as Certificate;
  }, 240_000);

  it('a wrong confirmation (or none configured) is refused with exit 1 and changes nothing', () => {
    for (const r of runs.wrong) {
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/DEPLOYMENT_NAME/);
      expect(r.stderr).toMatch(/nothing was changed/);
    }
    expect(runs.wrong[2]!.stderr).toMatch(/not set/);
    expect(runs.refusedDump).toEqual(before.dump);
    expect(before.counts.programme).toBe(0);
  });

  it('a run killed after a step leaves registrations refused, and the rerun completes', () => {
    expect(runs.paused).toContain('✓ stop:');
    expect(runs.paused).toContain('✓ keys:');
    expect(runs.state).toMatchObject({
      steps: ['stop', 'census', 'keys'],
      completed: false,
      certificate: false,
      dayKeys: 0,
      files: false,
    });
    expect(runs.state.partitions).toBeGreaterThan(0);
    // Registrations stopped at the first step: every way to give personal data is refused, whatever the servers'
    // state (this one never restarted).
    for (const [what, res] of Object.entries(runs.state.replies)) {
      expect({ what, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({
        what,
        code: 'programme_ended',
      });
      expectError(res, 503, 'programme_ended');
    }
    expect(runs.resumed.code, runs.resumed.stderr).toBe(0);
    expect(runs.resumed.stdout).toContain('Resumed and completed');
    expect(runs.resumed.stdout).toContain('(counted by an earlier run)');
  });

  it('no name, phone, ID number, openid or login code is left anywhere in the database, as text or hex', () => {
    // The control: before, the scan finds the openids and login-less values that are stored as text or hex.
    expect(search(before.dump, ['粤B7T123']).length).toBeGreaterThan(0);
    expect(search(after.dump, secrets())).toEqual([]);
    // The control: kept data is still found (a vehicle plate, an official's name as the audit log names them).
    expect(search(after.dump, ['粤B7T123', '测试官员']).length).toBeGreaterThan(0);
  });

  it('no sealed value and no key to open one is left: only code-signing keys remain', async () => {
    expect(before.sealed).toEqual(
      expect.arrayContaining([
        'passengers.name_sealed',
        'passengers.dek_wrapped',
        'ride_day_keys.wrapped',
        'cases.reason_sealed',
        'officials.totp_sealed',
        'system_keys.wrapped (blind-index)',
      ]),
    );
    expect(await sealedValuesLeft(t)).toEqual(['system_keys.wrapped (code-1)']);
    expect(after.counts.ride_day_keys).toBe(0);
    expect(after.counts.rides).toBe(0);
    expect((await publicTables(t.db)).filter((n) => /^rides_/.test(n))).toEqual([]);
    const names = (await t.db.selectFrom('system_keys').select('name').execute()).map((r) => r.name);
    expect(names).toEqual(['code-1']);
    const passengers = await t.db.selectFrom('passengers').selectAll().execute();
    expect(passengers.length).toBe(before.counts.passengers);
    for (const p of passengers) {
      expect(p).toMatchObject({
        dek_wrapped: null,
        name_sealed: null,
        phone_sealed: null,
        id_number_sealed: null,
        phone_index: null,
        id_number_index: null,
        subject_index: null,
        openid_sealed: null,
        pending_sealed: null,
        link_phone_index: null,
        link_id_index: null,
      });
      expect(p.deleted_at).not.toBeNull();
    }
    for (const table of [
      'phone_otps',
      'notifications',
      'exposure_marks',
      'case_subjects',
      'case_claims',
      'passenger_access',
      'ride_requests',
      'official_sessions',
    ])
      expect({ table, rows: after.counts[table] }).toEqual({ table, rows: 0 });
    for (const table of ['phone_otps', 'notifications', 'exposure_marks', 'case_subjects'])
      expect({ table, rows: before.counts[table]! > 0 }).toEqual({ table, rows: true });
  });

  it('cases are closed with their reason gone; reveal grants and official accounts end', async () => {
    const cases = await t.db.selectFrom('cases').selectAll().execute();
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ case_number: 'WD-1', status: 'closed', closed_by: 'cli:wind-down' });
    expect(cases[0]!.reason_sealed.length).toBe(0);
    const reveals = await t.db.selectFrom('reveal_requests').selectAll().execute();
    expect(reveals.length).toBeGreaterThan(0);
    for (const r of reveals) {
      expect(r.reason_sealed.length).toBe(0);
      expect(r.expires_at.getTime()).toBeLessThanOrEqual(Date.now());
    }
    const officials = await t.db.selectFrom('officials').selectAll().execute();
    for (const o of officials) {
      expect(o.disabled_at).not.toBeNull();
      expect(o.totp_sealed.length).toBe(0);
    }
    // The health system's API client is disabled with them; operators' and staff clients stay.
    const clients = await t.db.selectFrom('clients').select(['role', 'disabled_at']).execute();
    for (const c of clients)
      expect({ role: c.role, disabled: c.disabled_at !== null }).toEqual({
        role: c.role,
        disabled: c.role === 'official',
      });
  });

  it('after it, scans, staff registrations and logins answer 503 programme_ended (final: no Retry-After)', async () => {
    const replies = await refusals();
    for (const what of ['scan', 'manual', 'login']) {
      const res = replies[what]!;
      expect({ what, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({
        what,
        code: 'programme_ended',
      });
      expectError(res, 503, 'programme_ended');
      expect(res.headers['retry-after']).toBeUndefined();
    }
    // The accounts are tombstones now: their tokens are dead, and signing in again answers programme_ended.
    expectError(replies.confirm!, 401, 'token_invalid');
    expectError(replies.otp!, 401, 'token_invalid');
    expect(await counts(t)).toEqual(after.counts);
  });

  it('the certificate states the counts before and after, the keys destroyed and the audit head', async () => {
    const c = cert.certificate;
    expect(c.deployment).toBe(NAME);
    // The census counted after the programme row was written, before anything was destroyed.
    const expectedBefore: Record<string, number> = { ...before.counts, programme: 1 };
    for (const table of Object.keys(TABLE_COLUMNS)) {
      expect({ table, before: c.tables[table]?.before, after: c.tables[table]?.after }).toEqual({
        table,
        before: expectedBefore[table],
        after: after.counts[table],
      });
    }
    expect(c.tables.rides).toMatchObject({ fate: 'partitions', before: 4, after: 0 });
    expect(c.tables.passengers!.before).toBe(5);
    expect(c.personalData['passengers.name_sealed']).toEqual({ before: 3, after: 0 });
    expect(c.personalData['passengers.id_number_sealed']).toEqual({ before: 1, after: 0 });
    for (const [column, n] of Object.entries(c.personalData))
      expect({ column, after: n.after }).toEqual({ column, after: 0 });
    expect(c.keysDestroyed.dayKeys).toEqual(before.dayKeys);
    expect(c.keysDestroyed.dayKeys.length).toBeGreaterThan(0);
    expect(c.keysDestroyed.passengerDataKeys).toBe(5);
    expect([...c.keysDestroyed.systemKeys].sort()).toEqual(['blind-index', 'cases-1', 'jwt', 'status-1']);
    expect(c.keysKept.systemKeys).toEqual(['code-1']);
    expect(c.ridePartitionsDropped.length).toBeGreaterThan(0);
    expect(c.casesClosed).toBe(1);
    expect(c.accountsDisabled).toEqual({ officials: 1, officialClients: 1 });
    expect(c.outsideTheDatabase.masterKeyIds).toEqual(['k1']);
    // The audit head is the wind-down's own entry, and the chain verifies.
    const entry = await t.db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where('action', '=', 'programme.wind_down')
      .execute();
    expect(entry).toEqual([c.auditHead]);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
    expect(cert.signature).toMatchObject({ algorithm: 'Ed25519', key: 'audit-signing-key' });
    expect(cert.signature.keyId).toBe(auditKeyId(signingKey));
  });

  it('verify accepts the certificate with the audit key and refuses an edited copy', async () => {
    const file = path.join(out, 'destruction-certificate.json');
    const pub = path.join(out, 'audit-public.pem');
    await writeFile(pub, createPublicKey(signingKey).export({ format: 'pem', type: 'spki' }));
    const edited = path.join(out, 'edited.json');
    const copy = structuredClone(cert);
    copy.certificate.tables.passengers!.after = 0;
    await writeFile(edited, JSON.stringify(copy));
    const other = path.join(out, 'other.pem');
    await writeFile(other, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
    const [configured, withFile, tampered, wrongKey] = await Promise.all([
      runCli(['wind-down', 'verify', file], env),
      runCli(['wind-down', 'verify', file, '--public-key', pub], { ...cliEnv(t) }),
      runCli(['wind-down', 'verify', edited, '--public-key', pub], env),
      runCli(['wind-down', 'verify', file, '--public-key', other], env),
    ]);
    for (const r of [configured, withFile]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`valid: signed by key ${cert.signature.keyId}`);
      expect(r.stdout).not.toContain('the public key the certificate carries');
      expect(r.stdout).toContain(NAME);
    }
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('changed after signing');
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('no public key given');
  }, 120_000);

  it('the PDF shows the same facts, and the public key is written beside the certificate', async () => {
    const pdf = await readFile(path.join(out, 'destruction-certificate.pdf'));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = (await pdfText(pdf)).replace(/\s+/g, ' ');
    for (const s of [
      NAME,
      '数据销毁证明',
      'Destruction certificate',
      cert.certificate.auditHead.hash,
      cert.signature.keyId,
    ])
      expect(text).toContain(s);
    const pem = await readFile(path.join(out, 'destruction-certificate.pub.pem'), 'utf8');
    expect(auditKeyId(createPublicKey(pem))).toBe(cert.signature.keyId);
  });

  it('a second run says it already happened and changes nothing', async () => {
    const snapshot = await dump(t.db);
    const json = await readFile(path.join(out, 'destruction-certificate.json'), 'utf8');
    const again = await runCli(['wind-down', '--confirm', NAME, '--out', out], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already ended');
    expect(again.stdout).toContain('Nothing was changed');
    expect(await dump(t.db)).toEqual(snapshot);
    expect(await readFile(path.join(out, 'destruction-certificate.json'), 'utf8')).toBe(json);
  }, 120_000);
});

describe('wind-down without an audit signing key', () => {
  const { t, w } = useWorld({ NOTIFY_WORKER: 'off' });
  const cleanup = useCleanup();
  let out: string;
  let run: Run;

  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'rt-wind-down-'));
    cleanup.add(() => rm(out, { recursive: true, force: true }));
    const { code } = await createCarrier(t, w.tokens.operator);
    await scanRide(
      t,
      await confirmedPassenger(t, 'wd-solo', { name: '韩梅梅', phone: '13600001111' }),
      code.url,
    );
    run = await runCli(['wind-down', '--confirm', NAME, '--out', out], windDownEnv(t), 120_000);
  }, 180_000);

  it('signs with a key generated for the certificate, whose public half is written beside it', async () => {
    expect(run.code, run.stderr).toBe(0);
    const cert = JSON.parse(
      await readFile(path.join(out, 'destruction-certificate.json'), 'utf8'),
    ) as Certificate;
    expect(cert.signature.key).toBe('generated');
    const pem = path.join(out, 'destruction-certificate.pub.pem');
    expect(auditKeyId(createPublicKey(await readFile(pem, 'utf8')))).toBe(cert.signature.keyId);
    const [own, trusted] = await Promise.all([
      runCli(['wind-down', 'verify', path.join(out, 'destruction-certificate.json')], cliEnv(t)),
      runCli(
        ['wind-down', 'verify', path.join(out, 'destruction-certificate.json'), '--public-key', pem],
        cliEnv(t),
      ),
    ]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toContain('the public key the certificate carries');
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).not.toContain('the public key the certificate carries');
    expectError(
      await t.http().post('/v1/auth/passenger').send({ loginCode: 'ok:wd-late' }),
      503,
      'programme_ended',
    );
  }, 120_000);
});
