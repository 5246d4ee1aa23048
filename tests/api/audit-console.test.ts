/**
 * What the console's audit page reads: GET /v1/audit filtered by actor, action and time (server paging kept), and
 * GET /v1/audit/verify (the chain recomputed from the last signed checkpoint, bounded per call, itself audited).
 */
import {
  AUDIT_VERIFY_MAX_ENTRIES,
  auditKeyId,
  verifyAuditForConsole,
  writeCheckpoint,
  type Db,
} from '@ridetrace/server';
import { RideTraceClient } from '@ridetrace/sdk';
import type { AuditEntry, AuditVerify } from '@ridetrace/shared';
import { sql } from 'kysely';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { enrolOfficial, expectError, signInOfficial } from '../support/flows.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-audit-console-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = generateKeyPairSync('ed25519').privateKey;

// Checkpoints only where this test writes them (no interval), signed with the key the server verifies them by.
const { t, w } = useWorld({
  AUDIT_CHECKPOINT_DIR: dir,
  AUDIT_CHECKPOINT_SECONDS: '0',
  RIDETRACE_AUDIT_SIGNING_KEY: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
});

let auditor: { id: string; auth: string };
let other: { id: string; auth: string };

async function person(name: string) {
  const e = await enrolOfficial(t, w.tokens.admin, ['auditor'], { name });
  return { id: e.official.id, auth: `Bearer ${(await signInOfficial(t, e)).accessToken}` };
}

beforeAll(async () => {
  auditor = await person('审计员甲');
  other = await person('审计员乙');
}, 60_000);

async function list(query: string, auth = auditor.auth) {
  const res = await t.http().get(`/v1/audit?${query}`).set('authorization', auth);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { items: AuditEntry[]; nextCursor: string | null };
}

async function verify(auth = auditor.auth) {
  const res = await t.http().get('/v1/audit/verify').set('authorization', auth);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as AuditVerify;
}

async function headSeq(): Promise<number> {
  const r = await sql<{ n: number }>`select coalesce(max(seq), 0)::int as n from audit_log`.execute(t.db);
  return r.rows[0]!.n;
}

async function behindTheTrigger(db: Db, change: () => Promise<unknown>) {
  await sql`alter table audit_log disable trigger audit_log_no_update`.execute(db);
  try {
    await change();
  } finally {
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(db);
  }
}

describe('GET /v1/audit filters', () => {
  it('by actor, by action, and both', async () => {
    await list('limit=1', other.auth);
    await list('limit=1', other.auth);
    const byOther = await list(`actor=${other.id}`);
    expect(byOther.items.length).toBeGreaterThanOrEqual(2);
    expect(new Set(byOther.items.map((e) => e.actor))).toEqual(new Set([other.id]));

    const admin = await list('action=officials.admin');
    expect(admin.items.length).toBeGreaterThanOrEqual(2);
    expect(new Set(admin.items.map((e) => e.action))).toEqual(new Set(['officials.admin']));

    const both = await list(`actor=${other.id}&action=audit.read`);
    expect(both.items.map((e) => e.seq)).toEqual(
      byOther.items.filter((e) => e.action === 'audit.read').map((e) => e.seq),
    );
    expect(await list(`actor=${other.id}&action=case.open`)).toEqual({ items: [], nextCursor: null });
  });

  it('by time: from inclusive, to exclusive', async () => {
    const all = (await list('limit=200')).items;
    const pivot = all[Math.floor(all.length / 2)]!;
    const from = (await list(`from=${encodeURIComponent(pivot.at)}&limit=200`)).items;
    expect(from.length).toBeGreaterThan(0);
    expect(from.every((e) => e.at >= pivot.at)).toBe(true);
    expect(from.map((e) => e.seq)).toContain(pivot.seq);
    const to = (await list(`to=${encodeURIComponent(pivot.at)}&limit=200`)).items;
    expect(to.every((e) => e.at < pivot.at)).toBe(true);
    expect(to.map((e) => e.seq)).not.toContain(pivot.seq);
    const window = await list(`from=${encodeURIComponent(pivot.at)}&to=${encodeURIComponent(pivot.at)}`);
    expect(window.items).toEqual([]);
  });

  it('pages on the server with the filters kept', async () => {
    for (let i = 0; i < 3; i++) await list('limit=1', other.auth);
    const first = await list(`actor=${other.id}&limit=2`);
    expect(first.nextCursor).not.toBeNull();
    const second = await list(`actor=${other.id}&limit=2&cursor=${first.nextCursor}`);
    expect(second.items.length).toBeGreaterThan(0);
    expect(second.items.every((e) => e.actor === other.id && e.seq > first.items[1]!.seq)).toBe(true);
  });

  it('newest first: the same entries in reverse, paged backwards', async () => {
    const asc = (await list(`actor=${other.id}&limit=200`)).items.map((e) => e.seq);
    expect(asc.length).toBeGreaterThan(2);
    const first = await list(`actor=${other.id}&order=desc&limit=2`);
    const rest = await list(`actor=${other.id}&order=desc&limit=200&cursor=${first.nextCursor}`);
    expect([...first.items, ...rest.items].map((e) => e.seq)).toEqual([...asc].reverse());
    expect(rest.nextCursor).toBeNull();
  });

  it('refuses an unknown action, a bad time and a range that ends before it starts', async () => {
    const get = (q: string) => t.http().get(`/v1/audit?${q}`).set('authorization', auditor.auth);
    expectError(await get('action=case.delete'), 400, 'validation_failed');
    expectError(await get('from=yesterday'), 400, 'validation_failed');
    expectError(await get('order=newest'), 400, 'validation_failed');
    expectError(await get(`actor=${'x'.repeat(201)}`), 400, 'validation_failed');
    expectError(await get('from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'), 400, 'validation_failed');
  });

  it('records the filters in the audit.read entry', async () => {
    await list(`actor=${other.id}&action=audit.read&from=2026-01-01T00:00:00.000Z`);
    // The newest entry this list returns is the filtered read above (this read's own entry comes after it).
    const entry = (await list(`actor=${auditor.id}&action=audit.read&limit=200`)).items.at(-1);
    expect(JSON.parse(entry!.detail!)).toMatchObject({
      actor: other.id,
      action: 'audit.read',
      from: '2026-01-01T00:00:00.000Z',
      to: null,
    });
  });

  it('each filter reads through an index', async () => {
    const plans = await t.db.transaction().execute(async (trx) => {
      // A small log: without this the planner rightly reads the table instead.
      await sql`set local enable_seqscan = off`.execute(trx);
      const explain = async (where: ReturnType<typeof sql>) =>
        (
          await sql<{
            'QUERY PLAN': string;
          }>`explain select * from audit_log where ${where} order by seq limit 51`.execute(trx)
        ).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      return [
        await explain(sql`actor = ${other.id}`),
        await explain(sql`action = ${'audit.read'}`),
        await explain(sql`at >= ${new Date()}`),
      ];
    });
    expect(plans[0]).toContain('audit_log_actor');
    expect(plans[1]).toContain('audit_log_action');
    expect(plans[2]).toMatch(/audit_log_at|audit_log_pkey/);
  });
});

describe('GET /v1/audit/verify', () => {
  it('without a checkpoint: the whole chain from its start; the check is an audit entry with counts only', async () => {
    const head = await headSeq();
    const report = await verify();
    expect(report).toEqual({
      ok: true,
      entries: head,
      fromSeq: 1,
      toSeq: head,
      anchor: 'genesis',
      firstBroken: null,
      lastCheckpoint: null,
    });
    const entry = (await list(`action=audit.verify&actor=${auditor.id}`)).items.at(-1)!;
    expect(entry).toMatchObject({ seq: head + 1, people: 0, caseId: null, actorName: '审计员甲' });
    expect(JSON.parse(entry.detail!)).toMatchObject({ ok: true, entries: head, fromSeq: 1, toSeq: head });
  });

  it('from the last signed checkpoint on, and names it', async () => {
    const c = (await writeCheckpoint({ db: t.db, dir, signingKey: key }))!;
    await list('limit=1');
    await list('limit=1');
    const head = await headSeq();
    const report = await verify();
    expect(report).toMatchObject({
      ok: true,
      entries: head - c.seq,
      fromSeq: c.seq + 1,
      toSeq: head,
      anchor: 'checkpoint',
      firstBroken: null,
    });
    expect(report.lastCheckpoint).toEqual({
      seq: c.seq,
      at: c.at,
      keyId: auditKeyId(key),
      hash: c.hash,
      file: `checkpoints-${c.at.slice(0, 7)}.jsonl`,
      verified: true,
    });
  });

  it('a changed entry after the checkpoint is reported by seq and reason', async () => {
    const target = await headSeq();
    await list('limit=1');
    await behindTheTrigger(t.db, () =>
      sql`update audit_log set people = people + 1 where seq = ${target}`.execute(t.db),
    );
    try {
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.firstBroken).toEqual({ seq: target, reason: 'hash' });
      expect(report.anchor).toBe('checkpoint');
    } finally {
      await behindTheTrigger(t.db, () =>
        sql`update audit_log set people = people - 1 where seq = ${target}`.execute(t.db),
      );
    }
    expect((await verify()).ok).toBe(true);
  });

  it('a checkpoint signed by an unknown key is broken, and the chain is checked from its start instead', async () => {
    const forger = generateKeyPairSync('ed25519').privateKey;
    const forged = (await writeCheckpoint({ db: t.db, dir, signingKey: forger }))!;
    const head = await headSeq();
    const report = await verify();
    expect(report).toMatchObject({
      ok: false,
      entries: head,
      fromSeq: 1,
      anchor: 'genesis',
      firstBroken: { seq: forged.seq, reason: 'checkpoint' },
      lastCheckpoint: { seq: forged.seq, keyId: auditKeyId(forger), verified: false },
    });
    // A good checkpoint written after it is the last one again.
    await writeCheckpoint({ db: t.db, dir, signingKey: key });
    expect((await verify()).ok).toBe(true);
  });

  it('checks at most the newest entries of a long unanchored stretch, and says so', async () => {
    expect(AUDIT_VERIFY_MAX_ENTRIES).toBeGreaterThanOrEqual(10_000);
    for (let i = 0; i < 4; i++) await list('limit=1');
    const head = await headSeq();
    const who = {
      id: auditor.id,
      kind: 'person' as const,
      name: '审计员甲',
      agency: null,
      jurisdiction: [],
      reveal: false,
      requestId: 'test',
    };
    const bounded = await verifyAuditForConsole({ db: t.db, config: t.config }, who, { maxEntries: 3 });
    expect(bounded).toMatchObject({ ok: true, entries: 3, fromSeq: head - 2, toSeq: head, anchor: 'none' });
    // Without a checkpoint directory: no checkpoint (null), still bounded.
    const noDir = { ...t.config, audit: { ...t.config.audit, checkpointDir: undefined } };
    expect(await verifyAuditForConsole({ db: t.db, config: noDir }, who, { maxEntries: 2 })).toMatchObject({
      ok: true,
      entries: 2,
      anchor: 'none',
      lastCheckpoint: null,
    });
  });

  it('needs audit:read', async () => {
    expectError(
      await t.http().get('/v1/audit/verify').set('authorization', w.tokens.official),
      403,
      'forbidden',
    );
    expectError(await t.http().get('/v1/audit/verify'), 401, 'auth_required');
  });
});

describe('the SDK', () => {
  it('passes the audit filters and the case-number search, and reads the verification', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const sdk = (c: { clientId: string; clientSecret: string }) => {
      const client = new RideTraceClient({ baseUrl: `http://127.0.0.1:${port}` });
      return client.loginClient(c.clientId, c.clientSecret).then(() => client);
    };
    const admin = await sdk(w.admin);
    const page = await admin.audit({
      actor: other.id,
      action: 'audit.read',
      from: '2026-01-01T00:00:00Z',
      limit: 2,
    });
    expect(page.items.length).toBe(2);
    expect(page.items.every((e) => e.actor === other.id && e.action === 'audit.read')).toBe(true);
    expect(await admin.verifyAudit()).toMatchObject({ ok: true, anchor: 'checkpoint' });

    const official = await sdk(w.official);
    expect((await official.listCases({ caseNumber: 'NOPE-', status: 'open' })).items).toEqual([]);
    const [listed] = (await admin.audit({ actor: w.official.clientId, action: 'case.list' })).items.slice(-1);
    expect(JSON.parse(listed!.detail!)).toMatchObject({ caseNumber: 'NOPE-', status: 'open', cases: 0 });
  });
});
