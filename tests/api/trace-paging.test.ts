/** Paging through exposures: every person exactly once, the total on every page, bad cursors refused. */
import type { ExposurePage } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { expectError } from '../support/flows.js';
import { HOUR, MIN, useTraceKit, type Person } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

describe('exposures: paging', () => {
  it('limit + nextCursor walk every person exactly once; total is correct on every page', async () => {
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    const people: Person[] = [];
    for (let i = 1; i <= 5; i++) {
      const p = await k.person();
      await k.ride(p, v, i * 3 * MIN); // 3, 6, 9 close; 12, 15 possible
      people.push(p);
    }
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    const all = await k.exposures(c.id);
    expect(all.items.map((i) => i.personId)).toEqual(people.map((p) => p.id));

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: ExposurePage = await k.exposures(c.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.total).toBe(5);
      expect(page.caseRides).toBe(1);
      seen.push(...page.items.map((i) => i.personId));
      sizes.push(page.items.length);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(people.map((p) => p.id));
    expect(new Set(seen).size).toBe(5);

    const exact = await k.exposures(c.id, '?limit=5');
    expect(exact.items).toHaveLength(5);
    expect(exact.nextCursor).toBeNull();
    const beyond = await k.exposures(c.id, '?limit=2&cursor=10');
    expect(beyond).toMatchObject({ total: 5, items: [], nextCursor: null });

    const get = (q: string) =>
      t.http().get(`/v1/cases/${c.id}/exposures${q}`).set('authorization', w.tokens.official);
    expectError(await get('?cursor=abc'), 400, 'validation_failed');
    expectError(await get('?cursor=-2'), 400, 'validation_failed');
    expectError(await get('?cursor=1.5'), 400, 'validation_failed');
    expectError(await get('?limit=0'), 400, 'validation_failed');
    expectError(await get('?limit=201'), 400, 'validation_failed');
    expectError(await get('?degree=3'), 400, 'validation_failed');
    expectError(await get('?bogus=1'), 400, 'validation_failed');
  });
});
