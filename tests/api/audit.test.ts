import { appendAudit, createClient, verifyAuditChain, withDatabase } from '@ridetrace/server';
import type { ClientWithSecret } from '@ridetrace/shared';
import { sql, type RawBuilder } from 'kysely';
import { createHash, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { expectError, grantReveal } from '../support/flows.js';
import { runPnpm, type Run } from '../support/run-cli.js';
import { clientToken, confirmedPassenger, createCarrier } from '../support/test-app.js';

const MIN = 60_000;
const GENESIS = '0'.repeat(64);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Entry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  caseId: string | null;
  people: number;
  requestId: string | null;
  detail: string | null;
  prevHash: string;
  hash: string;
}

/** The entry hash as documented: sha256 over the JSON array of every field and the previous hash. */
function recompute(e: Entry): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at,
    e.actor,
    e.action,
    e.caseId,
    e.people,
    e.requestId,
    e.detail,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** `pnpm audit:verify` against the test database; resolves with the exit code and output. */
function runAuditVerify(databaseUrl: string): Promise<Run> {
  return runPnpm(['audit:verify'], { ...process.env, DATABASE_URL: databaseUrl });
}

const { t, w } = useWorld();
let reader: ClientWithSecret;
let readerToken: string;
let databaseUrl: string;

beforeAll(async () => {
  reader = await createClient(t.db, { name: 'r', role: 'official', scopes: ['trace:read'] });
  readerToken = await clientToken(t, reader);
  const name = await sql<{ name: string }>`select current_database() as name`.execute(t.db);
  databaseUrl = withDatabase(inject('pgAdminUrl'), name.rows[0]!.name);
});

/** The whole chain, read from the table (reading it through GET /v1/audit would append audit.read entries). */
async function allEntries(): Promise<Entry[]> {
  const rows = await t.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    caseId: r.case_id,
    people: r.people,
    requestId: r.request_id,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}

/** The JSON detail of an official's entry: who (snapshot), the note and the facts. */
const detailOf = (e: Entry) => JSON.parse(e.detail!) as Record<string, unknown> & { note: string | null };

function expectChain(entries: Entry[]) {
  expect(entries.length).toBeGreaterThan(0);
  entries.forEach((e, i) => {
    expect(e.seq).toBe(i + 1);
    expect(e.prevHash).toBe(i === 0 ? GENESIS : entries[i - 1]!.hash);
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(recompute(e)).toBe(e.hash);
  });
}

let counter = 0;

/** A bus with a case subject (20 min ago) and one contact (15 min ago); an open case on the subject. */
async function openScenario() {
  const k = ++counter;
  const { code } = await createCarrier(t, w.tokens.operator, {
    kind: 'bus',
    plate: `粤A${String(k).padStart(5, '0')}`,
    city: '广州',
  });
  const now = Date.now();
  const ago = (m: number) => new Date(now - m * MIN).toISOString();
  const subjectPhone = `135${String(k * 2).padStart(8, '0')}`;
  const contactPhone = `135${String(k * 2 + 1).padStart(8, '0')}`;
  const subject = await confirmedPassenger(t, `a${k}-case`, { name: '王大明', phone: subjectPhone });
  const contact = await confirmedPassenger(t, `a${k}-contact`, { name: '李四', phone: contactPhone });
  for (const [auth, m] of [
    [subject, 20],
    [contact, 15],
  ] as const) {
    await t
      .http()
      .post('/v1/rides')
      .set('authorization', auth)
      .send({ code: code.url, clientRideId: randomUUID(), scannedAt: ago(m) })
      .expect(201);
  }
  const contactId = (await t.http().get('/v1/passengers/me').set('authorization', contact).expect(200)).body
    .id as string;
  const c = await t
    .http()
    .post('/v1/cases')
    .set('authorization', w.tokens.official)
    .send({
      subject: { phone: subjectPhone },
      infectiousFrom: ago(600),
      infectiousTo: ago(1),
      caseNumber: `A-${k}`,
      reason: 'positive test',
    });
  expect(c.status).toBe(201);
  return { caseId: c.body.id as string, caseNumber: `A-${k}`, contact, contactId };
}

let flowCaseId = '';

describe('the audit log', () => {
  it('every official action appends one chained entry with actor, case, people and request id', async () => {
    // The world's seed (operators and clients created) is audited before the scenario.
    const seeded = (await allEntries()).at(-1)?.seq ?? 0;
    const s = await openScenario();
    flowCaseId = s.caseId;
    const official = w.tokens.official;
    const at = (path: string) => `/v1/cases/${s.caseId}${path}`;
    await grantReveal(t, official, s.caseId);
    await t.http().get(at('/exposures?reveal=true')).set('authorization', official).expect(200);
    await t.http().get(at('/exposures')).set('authorization', readerToken).expect(200);
    await t.http().get(at('/exposures.csv')).set('authorization', official).expect(200);
    await t.http().post(at('/notify')).set('authorization', official).expect(200);
    await t
      .http()
      .post('/v1/status/clear')
      .set('authorization', official)
      .send({ personId: s.contactId, caseId: s.caseId, reason: 'negative test' })
      .expect(200);
    await t
      .http()
      .post(at('/close'))
      .set('authorization', official)
      .send({ reason: 'recovered' })
      .expect(200);

    const entries = await allEntries();
    expectChain(entries);
    const mine = entries.filter((e) => e.caseId === s.caseId);
    expect(mine.map((e) => e.seq)).toEqual(entries.filter((e) => e.seq > seeded).map((e) => e.seq));
    expect(mine.map(({ action, actor, people }) => ({ action, actor, people }))).toEqual([
      { action: 'case.open', actor: w.official.clientId, people: 1 },
      { action: 'reveal.grant', actor: w.official.clientId, people: 0 },
      { action: 'exposures.reveal', actor: w.official.clientId, people: 1 },
      { action: 'exposures.read', actor: reader.clientId, people: 1 },
      { action: 'exposures.export', actor: w.official.clientId, people: 1 },
      { action: 'case.notify', actor: w.official.clientId, people: 1 },
      { action: 'person.clear', actor: w.official.clientId, people: 1 },
      { action: 'case.close', actor: w.official.clientId, people: 1 },
    ]);
    expect(detailOf(mine[0]!)).toMatchObject({
      by: { kind: 'system', name: w.official.name, agency: null },
      note: s.caseNumber,
    });
    expect(detailOf(mine[2]!)).toMatchObject({ degree: 1, offset: 0, returned: 1, total: 1 });
    expect(detailOf(mine[2]!).grant).toEqual(expect.any(String));
    expect(detailOf(mine[5]!).note).toBe('queued=1');
    expect(detailOf(mine[6]!).note).toContain('negative test');
    expect(detailOf(mine[7]!).note).toBe('recovered');
    // One request, one id: every entry names a distinct request.
    for (const e of mine) expect(e.requestId).toMatch(UUID);
    expect(new Set(mine.map((e) => e.requestId)).size).toBe(mine.length);
    // Times never go backwards along the chain.
    const times = entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // No personal data in the log.
    const text = JSON.stringify(entries);
    for (const secret of ['王大明', '李四', '13500000002', '13500000003']) expect(text).not.toContain(secret);
  });

  it('refused and failed requests append nothing', async () => {
    const before = (await allEntries()).length;
    const s = await openScenario(); // +1 (case.open)
    const n = `/v1/cases/${s.caseId}/notify`;
    expectError(await t.http().post(n).set('authorization', readerToken), 403, 'forbidden');
    expectError(await t.http().post(n).set('authorization', s.contact), 403, 'forbidden');
    expectError(await t.http().post(n), 401, 'auth_required');
    expectError(
      await t.http().post(`/v1/cases/${randomUUID()}/notify`).set('authorization', w.tokens.official),
      404,
      'case_not_found',
    );
    expectError(
      await t.http().get(`/v1/cases/${randomUUID()}/exposures`).set('authorization', w.tokens.official),
      404,
      'case_not_found',
    );
    expectError(
      await t
        .http()
        .post('/v1/status/clear')
        .set('authorization', w.tokens.official)
        .send({ personId: randomUUID(), reason: 'x' }),
      404,
      'passenger_not_found',
    );
    const entries = await allEntries();
    expect(entries).toHaveLength(before + 1);
    expectChain(entries);
  });

  it('concurrent official actions keep the chain continuous', async () => {
    const s = await openScenario();
    const before = (await allEntries()).length;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t
          .http()
          .get(`/v1/cases/${s.caseId}/exposures`)
          .set('authorization', i % 2 ? readerToken : w.tokens.official),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const entries = await allEntries();
    expect(entries).toHaveLength(before + 8);
    expectChain(entries);
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, entries: entries.length, firstBroken: null });
  });

  it('the database appends the documented hash for any text: quotes, backslashes, control characters, unicode', async () => {
    const tricky = [
      'quote " backslash \\ slash / tab \t newline \n cr \r bell \u0007 esc \u001b del \u007f',
      '张*三 138****5678 — émoji 🚌 \u2028 line separator',
      "'; drop table audit_log; --",
    ];
    for (const detail of tricky) {
      await appendAudit(t.db, {
        actor: `actor ${detail}`,
        action: 'case.open',
        caseId: randomUUID(),
        people: 3,
        requestId: detail,
        detail,
      });
    }
    await appendAudit(t.db, { actor: 'a', action: 'case.close', caseId: null, people: 0, requestId: null });
    const entries = await allEntries();
    expect(entries.slice(-4).map((e) => e.detail)).toEqual([...tricky, null]);
    expectChain(entries);
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, entries: entries.length, firstBroken: null });
  });

  it('GET /v1/audit?caseId= filters to one case and pages', async () => {
    expect(flowCaseId).not.toBe('');
    const res = await t.http().get(`/v1/audit?caseId=${flowCaseId}`).set('authorization', w.tokens.admin);
    expect(res.status).toBe(200);
    const items = res.body.items as Entry[];
    expect(items.map((e) => e.action)).toEqual([
      'case.open',
      'reveal.grant',
      'exposures.reveal',
      'exposures.read',
      'exposures.export',
      'case.notify',
      'person.clear',
      'case.close',
    ]);
    expect(items.every((e) => e.caseId === flowCaseId)).toBe(true);
    expect(res.body.nextCursor).toBeNull();

    const p1 = await t
      .http()
      .get(`/v1/audit?caseId=${flowCaseId}&limit=4`)
      .set('authorization', w.tokens.admin)
      .expect(200);
    expect(p1.body.items).toHaveLength(4);
    expect(p1.body.nextCursor).not.toBeNull();
    const p2 = await t
      .http()
      .get(`/v1/audit?caseId=${flowCaseId}&limit=4&cursor=${p1.body.nextCursor}`)
      .set('authorization', w.tokens.admin)
      .expect(200);
    expect(p2.body.nextCursor).toBeNull();
    expect([...p1.body.items, ...p2.body.items]).toEqual(items);

    const none = await t.http().get(`/v1/audit?caseId=${randomUUID()}`).set('authorization', w.tokens.admin);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ items: [], nextCursor: null });
    expectError(
      await t.http().get('/v1/audit?caseId=nope').set('authorization', w.tokens.admin),
      400,
      'validation_failed',
    );
  });

  it('is for holders of audit:read only (admins, auditors)', async () => {
    const passenger = await confirmedPassenger(t, 'audit-nosy', { name: '赵六', phone: '13599999999' });
    for (const token of [w.tokens.official, readerToken, w.tokens.operator, w.tokens.staff, passenger]) {
      expectError(await t.http().get('/v1/audit').set('authorization', token), 403, 'forbidden');
    }
    expectError(await t.http().get('/v1/audit'), 401, 'auth_required');
    expectError(
      await t.http().get('/v1/audit').set('authorization', 'Bearer nonsense'),
      401,
      'token_invalid',
    );
  });

  it('refuses UPDATE, DELETE and TRUNCATE, even for the database owner (trigger)', async () => {
    const before = await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(t.db);
    const super_ = await sql<{
      s: boolean;
    }>`select rolsuper as s from pg_roles where rolname = current_user`.execute(t.db);
    expect(super_.rows[0]!.s).toBe(true);

    await expect(sql`update audit_log set detail = 'changed' where seq = 1`.execute(t.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`update audit_log set people = people + 1`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log where seq = 2`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(t.db)).rejects.toThrow(/append-only/);

    const after = await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(t.db);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('verifyAuditChain and `pnpm audit:verify` report an intact chain', async () => {
    const n = (await allEntries()).length;
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, entries: n, firstBroken: null });
    const cli = await runAuditVerify(databaseUrl);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('intact');
    expect(cli.stdout).toContain(`${n} entries`);
  }, 60_000);

  it('a row changed behind the trigger is found: the first broken seq, reason hash; the CLI exits 1', async () => {
    const tamper = async (statement: RawBuilder<unknown>) => {
      await sql`alter table audit_log disable trigger audit_log_no_update`.execute(t.db);
      try {
        await statement.execute(t.db);
      } finally {
        await sql`alter table audit_log enable trigger audit_log_no_update`.execute(t.db);
      }
    };
    const entries = await allEntries();
    expect(entries.length).toBeGreaterThanOrEqual(8);
    const target = entries[4]!;

    await tamper(sql`update audit_log set detail = 'nothing to see' where seq = ${target.seq}`);
    expect(await verifyAuditChain(t.db)).toEqual({
      ok: false,
      entries: target.seq,
      firstBroken: { seq: target.seq, reason: 'hash' },
    });
    const cli = await runAuditVerify(databaseUrl);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`seq=${target.seq}`);
    expect(cli.stdout).not.toContain('intact');

    // Put the detail back: intact again (the check is exact, not a false alarm).
    await tamper(sql`update audit_log set detail = ${target.detail} where seq = ${target.seq}`);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);

    // The people count of a later entry.
    const later = entries[6]!;
    await tamper(sql`update audit_log set people = people + 5 where seq = ${later.seq}`);
    expect((await verifyAuditChain(t.db)).firstBroken).toEqual({ seq: later.seq, reason: 'hash' });
    await tamper(sql`update audit_log set people = ${later.people} where seq = ${later.seq}`);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);

    // A deleted entry breaks the sequence at the next one.
    const gone = entries[2]!;
    await tamper(sql`delete from audit_log where seq = ${gone.seq}`);
    expect((await verifyAuditChain(t.db)).firstBroken).toEqual({ seq: gone.seq + 1, reason: 'sequence' });

    // The trigger is back in force.
    await expect(sql`delete from audit_log where seq = 1`.execute(t.db)).rejects.toThrow(/append-only/);
  }, 60_000);
});
