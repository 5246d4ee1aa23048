/** Only officials reach the case routes. */
import { describe, expect, it } from 'vitest';
import { HOUR, iso, useTraceKit } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

describe('access', () => {
  it('passenger, staff, operator and admin tokens → 403 forbidden on every case route; no token → 401', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const body = {
      subject: { phone: s.phone },
      infectiousFrom: iso(-HOUR),
      infectiousTo: iso(0),
      caseNumber: 'C-access',
      reason: 'positive PCR test',
    };
    const routes: ['get' | 'post', string, object?][] = [
      ['post', '/v1/cases', body],
      ['get', '/v1/cases'],
      ['get', '/v1/cases?status=open'],
      ['get', `/v1/cases/${c.id}`],
      ['post', `/v1/cases/${c.id}/close`, {}],
      ['get', `/v1/cases/${c.id}/exposures`],
      ['get', `/v1/cases/${c.id}/exposures?degree=2`],
      ['get', `/v1/cases/${c.id}/exposures.csv`],
      ['post', `/v1/cases/${c.id}/notify`, {}],
      ['get', `/v1/cases/${c.id}/notifications`],
    ];
    const call = (method: 'get' | 'post', path: string, send: object | undefined, auth?: string) => {
      const req =
        method === 'get'
          ? t.http().get(path)
          : t
              .http()
              .post(path)
              .send(send ?? {});
      return auth ? req.set('authorization', auth) : req;
    };
    const tokens = {
      passenger: s.auth,
      staff: w.tokens.staff,
      operator: w.tokens.operator,
      admin: w.tokens.admin,
    };
    for (const [method, path, send] of routes) {
      for (const [who, auth] of Object.entries(tokens)) {
        const res = await call(method, path, send, auth);
        expect({ who, method, path, status: res.status, code: res.body?.error?.code }).toEqual({
          who,
          method,
          path,
          status: 403,
          code: 'forbidden',
        });
      }
      const anon = await call(method, path, send);
      expect({ method, path, status: anon.status, code: anon.body?.error?.code }).toEqual({
        method,
        path,
        status: 401,
        code: 'auth_required',
      });
      const bad = await call(method, path, send, 'Bearer not.a.token');
      expect({ method, path, status: bad.status, code: bad.body?.error?.code }).toEqual({
        method,
        path,
        status: 401,
        code: 'token_invalid',
      });
    }
    const still = await t.http().get(`/v1/cases/${c.id}`).set('authorization', w.tokens.official).expect(200);
    expect(still.body.status).toBe('open');
    // Only the official's own read (case.read) joins the opening: refused requests leave nothing.
    expect((await k.audit(c.id)).map((e) => e.action)).toEqual(['case.open', 'case.read']);
  });
});
