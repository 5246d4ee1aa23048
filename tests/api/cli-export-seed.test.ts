import { createClient, DevSuperAppLogin } from '@ridetrace/server';
import type { ClientWithSecret } from '@ridetrace/shared';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { seedDemo } from '../../scripts/src/commands/seed.js';
import { grantReveal, seedCaseWithContact } from '../support/flows.js';
import { runCli, type Run } from '../support/run-cli.js';
import { cliEnv, clientToken } from '../support/test-app.js';

const DAY = 86_400_000;

// Not a load test: no load shedding while parallel test files and CLI child processes share the CPU.
const { t, w } = useWorld({ NOTIFY_WORKER: 'off', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
let api: string;
let reader: ClientWithSecret;
let caseId: string;

/** `pnpm -s cli export case …` as a child process with the given client's credentials. */
function exportCli(client: ClientWithSecret, args: string[]): Promise<Run> {
  const env = {
    ...cliEnv(t),
    RIDETRACE_CLIENT_ID: client.clientId,
    RIDETRACE_CLIENT_SECRET: client.clientSecret,
  };
  return runCli(['export', 'case', ...args, '--api', api], env);
}

async function auditCount(actor: string, action: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select count(*)::int as n from audit_log where actor = ${actor} and action = ${action}`.execute(t.db);
  return r.rows[0]!.n;
}

const stripBom = (s: string) => s.replace(/^\uFEFF/, '');

beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  api = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  reader = await createClient(t.db, { name: 'reader', role: 'official', scopes: ['trace:read'] });

  ({ caseId } = await seedCaseWithContact(t, w, {
    subject: { user: 'cli-case', name: '王小明', phone: '13900000051' },
    contact: { user: 'cli-contact', name: '李四', phone: '13900000052' },
    caseNumber: 'CLI-1',
    reason: 'cli export test',
  }));
});

describe('export case (CLI over HTTP)', () => {
  const out: Record<string, Run> = {};

  beforeAll(async () => {
    // Unmasking needs a reveal grant for the case, as over the API.
    out.noGrant = await exportCli(w.official, [caseId, '--format', 'json', '--reveal']);
    await grantReveal(t, w.tokens.official, caseId);
    [out.fullCsv, out.fullJson, out.readerCsv, out.readerJson, out.badId] = await Promise.all([
      exportCli(w.official, [caseId, '--format', 'csv', '--reveal']),
      exportCli(w.official, [caseId, '--format', 'json', '--reveal']),
      exportCli(reader, [caseId, '--format', 'csv']),
      exportCli(reader, [caseId, '--format', 'json']),
      exportCli(w.official, [randomUUID(), '--format', 'json']),
    ]);
  }, 120_000);

  it('exits 0 for every export', () => {
    for (const k of ['fullCsv', 'fullJson', 'readerCsv', 'readerJson']) {
      expect({ k, code: out[k]!.code, stderr: out[k]!.stderr }).toEqual({ k, code: 0, stderr: '' });
    }
  });

  it('--reveal without a reveal grant: exit 1 with reveal_grant_required, nothing written', () => {
    expect(out.noGrant!.code).toBe(1);
    expect(out.noGrant!.stderr).toContain('reveal_grant_required');
    expect(out.noGrant!.stdout).toBe('');
  });

  it('the full official with a grant gets unmasked data, the trace:read-only client masked data', () => {
    const full = JSON.parse(out.fullJson!.stdout);
    expect(full.degree).toBe(1);
    expect(full.case).toMatchObject({ id: caseId, caseNumber: 'CLI-1', subject: { name: '王小明' } });
    expect(full.exposures).toHaveLength(1);
    expect(full.exposures[0]).toMatchObject({ name: '李四', phone: '13900000052', level: 'close' });

    const masked = JSON.parse(out.readerJson!.stdout);
    expect(masked.case.subject).toMatchObject({ name: '王*明', phone: '139****0051' });
    expect(masked.exposures[0]).toMatchObject({ name: '李*', phone: '139****0052', idNumber: null });
    expect(out.readerJson!.stdout).not.toContain('13900000052');

    expect(out.fullCsv!.stdout).toContain(',李四,13900000052,');
    expect(out.readerCsv!.stdout).toContain(',李*,139****0052,');
    expect(out.readerCsv!.stdout).not.toContain('13900000052');
    expect(out.readerCsv!.stdout).not.toContain('李四');
  });

  it('every export is audited: exposures.export for CSV, exposures.reveal / exposures.read for JSON', async () => {
    expect(await auditCount(w.official.clientId, 'exposures.export')).toBe(1);
    expect(await auditCount(w.official.clientId, 'exposures.reveal')).toBe(1);
    expect(await auditCount(reader.clientId, 'exposures.export')).toBe(1);
    expect(await auditCount(reader.clientId, 'exposures.read')).toBe(1);
    const details = await t.db
      .selectFrom('audit_log')
      .select(['actor', 'detail'])
      .where('action', '=', 'exposures.export')
      .execute();
    const factsOf = (actor: string) => JSON.parse(details.find((d) => d.actor === actor)!.detail!) as object;
    expect(factsOf(reader.clientId)).toMatchObject({ degree: 1, revealed: false, by: { name: 'reader' } });
    expect(factsOf(w.official.clientId)).toMatchObject({ degree: 1, revealed: true, by: { kind: 'system' } });
  });

  it('the same data and masking as the API', async () => {
    for (const [client, run, runJson, q] of [
      [w.official, out.fullCsv!, out.fullJson!, '?reveal=true'],
      [reader, out.readerCsv!, out.readerJson!, ''],
    ] as const) {
      const token = await clientToken(t, client);
      const csv = await t
        .http()
        .get(`/v1/cases/${caseId}/exposures.csv${q}`)
        .set('authorization', token)
        .expect(200);
      expect(stripBom(run.stdout)).toBe(stripBom(csv.text));
      const page = await t
        .http()
        .get(`/v1/cases/${caseId}/exposures${q}`)
        .set('authorization', token)
        .expect(200);
      expect(JSON.parse(runJson.stdout).exposures).toEqual(page.body.items);
    }
  });

  it('the CSV keeps the UTF-8 BOM the API sends (Excel needs it for Chinese names)', () => {
    expect(out.fullCsv!.stdout.startsWith('\uFEFF')).toBe(true);
    expect(out.readerCsv!.stdout.startsWith('\uFEFF')).toBe(true);
  });

  it('an unknown case id: exit 1 with the error code in stderr', () => {
    expect(out.badId!.code).toBe(1);
    expect(out.badId!.stderr).toContain('case_not_found');
    expect(out.badId!.stdout).toBe('');
  });
});

describe('seed demo', () => {
  async function count(
    table: 'operators' | 'carriers' | 'passengers' | 'rides' | 'clients',
  ): Promise<number> {
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.db);
    return r.rows[0]!.n;
  }

  it('seedDemo(ctx, { passengers: 5, days: 2, seed: 7 }) creates operators, carriers, clients, passengers, rides', async () => {
    const before = {
      operators: await count('operators'),
      carriers: await count('carriers'),
      passengers: await count('passengers'),
      rides: await count('rides'),
      clients: await count('clients'),
    };
    // The demo passengers log in with dev login codes (`dev:demo-<seed>-<n>`), as the CLI's context does.
    const ctx = { ...t.app.ctx, superApp: new DevSuperAppLogin() };
    const report = await seedDemo(ctx, { passengers: 5, days: 2, seed: 7 });
    expect(report).toMatchObject({ operators: 3, carriers: 36, passengers: 5, rides: 20 });
    expect(report.clients).toHaveLength(7);
    expect(report.clients.map((c) => c.role)).toContain('official');

    expect(await count('operators')).toBe(before.operators + 3);
    expect(await count('carriers')).toBe(before.carriers + 36);
    expect(await count('passengers')).toBe(before.passengers + 5);
    expect(await count('rides')).toBe(before.rides + 20);
    expect(await count('clients')).toBe(before.clients + 7);
    const demoOps = await t.db.selectFrom('operators').select('id').where('id', 'like', 'demo-%-7').execute();
    expect(demoOps.map((o) => o.id).sort()).toEqual(['demo-bus-7', 'demo-metro-7', 'demo-taxi-7']);
    // Every demo passenger is confirmed.
    const confirmed = await t.db
      .selectFrom('passengers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('consent_version', '=', t.config.consentVersion)
      .where('kind', '=', 'app')
      .executeTakeFirstOrThrow();
    expect(Number(confirmed.n)).toBe(5 + 2); // the demo passengers and the two export-test passengers
    // Rides lie within the last 2 days.
    const r = await sql<{ oldest: Date }>`select min(boarded_at) as oldest from rides`.execute(t.db);
    expect(Date.now() - r.rows[0]!.oldest.getTime()).toBeLessThanOrEqual(2 * DAY + 60_000);
  });

  it('seeding the same city again does not fail (operators and carriers are kept)', async () => {
    const ctx = { ...t.app.ctx, superApp: new DevSuperAppLogin() };
    const carriers = await count('carriers');
    const passengers = await count('passengers');
    const report = await seedDemo(ctx, { passengers: 5, days: 2, seed: 7 });
    expect(report.carriers).toBe(0);
    expect(await count('carriers')).toBe(carriers);
    expect(await count('passengers')).toBe(passengers);
  });
});
