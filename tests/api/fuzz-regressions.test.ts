/**
 * Server bugs that fuzzing (fuzz-routes.test.ts) found, one request each: each answers within the error contract.
 * A bug found and not fixed yet comes here as `it.fails`, with an entry in that file's KNOWN_DEVIATIONS.
 */
import { signCodeToken } from '@ridetrace/server';
import { ERROR_CODES } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/fixtures.js';
import { confirmedPassenger } from '../support/test-app.js';

const CODES = new Set<string>(ERROR_CODES);

const { t, w } = useWorld();

/** Below 500, and the one error body: { error: { code, message } } with a shared code. */
function expectErrorContract(res: { statusCode: number; body: string }) {
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = res.body;
  }
  expect({ below500: res.statusCode < 500, body }).toEqual({
    below500: true,
    body: { error: { code: expect.toSatisfy((c: string) => CODES.has(c)), message: expect.any(String) } },
  });
}

describe('server bugs found by fuzzing (regressions)', () => {
  it('a NUL character in a string field → 400, not 500 (here POST /v1/auth/token, no token needed)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grantType: 'client_credentials', clientId: 'a\u0000b', clientSecret: 'x' }),
    });
    expectErrorContract(res);
  });

  it('a path with malformed %-encoding → 400 {error:{code,message}}', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/carriers/%ff',
      headers: { authorization: w.tokens.admin },
    });
    expectErrorContract(res);
  });

  it('a path parameter longer than 100 characters → 4xx {error:{code,message}}', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/cases/${'x'.repeat(101)}` });
    expectErrorContract(res);
  });

  it('OPTIONS without Origin → an empty 204 without any CORS grant (no plain-text 400)', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/v1/rides' });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  // Outside the random run, which cannot sign codes: a carrier id beyond Postgres `int` overflowed the insert.
  it('a signed code with a carrier id ≥ 2^31 → 4xx, not 500', async () => {
    const token = signCodeToken(t.app.ctx.keyring, { carrierId: 2 ** 31 + 5, generation: 1 });
    const auth = await confirmedPassenger(t, 'big-carrier-id');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/rides',
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ code: token, clientRideId: randomUUID() }),
    });
    expectErrorContract(res);
  });
});
