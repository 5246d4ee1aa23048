/**
 * Case-number search (GET /v1/cases?caseNumber=…): a case-insensitive prefix match served by an index, combined
 * with the status filter and server paging, audited like every case list.
 */
import type { Case } from '@ridetrace/shared';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, openCase } from '../support/flows.js';
import { useTraceKit } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

const NUMBERS = ['SZ-2026-0001', 'sz-2026-0002', 'SZ-2027-0001', 'A_B-1', 'AXB-1', '粤卫-2026/7'];
const ids = new Map<string, string>();

beforeAll(async () => {
  const subject = await k.person();
  for (const caseNumber of NUMBERS) {
    const res = await openCase(t, w.tokens.official, {
      subject: { phone: subject.phone },
      caseNumber,
      reason: 'positive PCR test',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.set(caseNumber, (res.body as Case).id);
  }
  const closed = ids.get('SZ-2027-0001')!;
  await t.http().post(`/v1/cases/${closed}/close`).set('authorization', w.tokens.official).expect(200);
}, 60_000);

async function search(query: string) {
  const res = await t.http().get(`/v1/cases?${query}`).set('authorization', w.tokens.official);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { items: Case[]; nextCursor: string | null };
}

const numbersOf = (page: { items: Case[] }) => page.items.map((c) => c.caseNumber).sort();

describe('GET /v1/cases?caseNumber=', () => {
  it('finds the numbers that start with the term, whatever the letter case', async () => {
    expect(numbersOf(await search('caseNumber=sz-2026'))).toEqual(['SZ-2026-0001', 'sz-2026-0002']);
    expect(numbersOf(await search('caseNumber=SZ-'))).toEqual([
      'SZ-2026-0001',
      'SZ-2027-0001',
      'sz-2026-0002',
    ]);
    expect(numbersOf(await search('caseNumber=SZ-2026-0001'))).toEqual(['SZ-2026-0001']);
    expect(numbersOf(await search(`caseNumber=${encodeURIComponent('粤卫')}`))).toEqual(['粤卫-2026/7']);
    // A prefix, not a substring.
    expect(numbersOf(await search('caseNumber=2026'))).toEqual([]);
  });

  it('takes `_` literally, not as a LIKE wildcard', async () => {
    expect(numbersOf(await search('caseNumber=A_B'))).toEqual(['A_B-1']);
    expect(numbersOf(await search('caseNumber=AXB'))).toEqual(['AXB-1']);
  });

  it('combines with the status filter and pages on the server', async () => {
    expect(numbersOf(await search('caseNumber=SZ&status=closed'))).toEqual(['SZ-2027-0001']);
    expect(numbersOf(await search('caseNumber=SZ&status=open'))).toEqual(['SZ-2026-0001', 'sz-2026-0002']);
    const first = await search('caseNumber=SZ&limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await search(`caseNumber=SZ&limit=2&cursor=${first.nextCursor}`);
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(numbersOf({ items: [...first.items, ...second.items] })).toEqual([
      'SZ-2026-0001',
      'SZ-2027-0001',
      'sz-2026-0002',
    ]);
  });

  it('refuses a term no case number could start with', async () => {
    for (const bad of ['SZ%202026', '%25', '', 'x'.repeat(65)])
      expectError(
        await t.http().get(`/v1/cases?caseNumber=${bad}`).set('authorization', w.tokens.official),
        400,
        'validation_failed',
      );
  });

  it('is audited as a case list naming the term', async () => {
    await search('caseNumber=SZ-2026');
    const entry = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'case.list')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(entry.detail!)).toMatchObject({ caseNumber: 'SZ-2026', cases: 2 });
    expect(entry.people).toBe(2);
  });

  it('uses the case-number index', async () => {
    const plan = await t.db.transaction().execute(async (trx) => {
      // A few rows: without this the planner rightly reads the table instead.
      await sql`set local enable_seqscan = off`.execute(trx);
      return sql<{ 'QUERY PLAN': string }>`explain select * from cases
        where lower(case_number) like lower(${'sz-2026'}) || '%'`.execute(trx);
    });
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('cases_case_number');
  });
});
