/** Every successful read of a case's exposures is audited once, with the people it showed. */
import { createClient } from '@ridetrace/server';
import { describe, expect, it } from 'vitest';
import { clientToken } from '../support/test-app.js';
import { HOUR, MIN, useTraceKit } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

describe('audit of exposure reads', () => {
  it('every read adds one entry: exposures.read / exposures.reveal / exposures.export with people', async () => {
    const client = await createClient(t.db, { name: 'o', role: 'official', scopes: ['trace:read'] });
    const readOnly = await clientToken(t, client);
    const v = await k.vehicle('bus');
    const s = await k.person();
    await k.ride(s, v, 0);
    for (const o of [MIN, 2 * MIN, 20 * MIN]) await k.ride(await k.person(), v, o);
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open']);

    await k.exposures(c.id, '', readOnly);
    await k.exposures(c.id, '?limit=2', w.tokens.official);
    await k.exposures(c.id, '?limit=2&cursor=2', readOnly);
    await k.exposures(c.id, '?limit=2&cursor=4', w.tokens.official);
    await k.exposures(c.id, '?degree=2', readOnly);
    await k.csv(c.id, '', w.tokens.official);
    await k.csv(c.id, '', readOnly);

    const entries = await k.audit(c.id);
    expect(entries.map((e) => [e.action, e.actor, e.people, e.caseId])).toEqual([
      ['case.open', w.official.clientId, 1, c.id],
      ['exposures.read', client.clientId, 3, c.id],
      ['reveal.grant', w.official.clientId, 0, c.id],
      ['exposures.reveal', w.official.clientId, 2, c.id],
      ['exposures.read', client.clientId, 1, c.id],
      ['exposures.reveal', w.official.clientId, 0, c.id],
      ['exposures.read', client.clientId, 3, c.id],
      ['exposures.export', w.official.clientId, 3, c.id],
      ['exposures.export', client.clientId, 3, c.id],
    ]);
    for (const e of entries) expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(entries.length);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.seq).toBeGreaterThan(entries[i - 1]!.seq);
  });

  it('failed reads add no entry', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    await t
      .http()
      .get(`/v1/cases/${c.id}/exposures?cursor=x`)
      .set('authorization', w.tokens.official)
      .expect(400);
    await t.http().get(`/v1/cases/${c.id}/exposures`).set('authorization', w.tokens.staff).expect(403);
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open']);
  });
});
