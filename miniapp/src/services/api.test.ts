import { beforeEach, describe, expect, it } from 'vitest';
import { errorBody, fakeApi, passengerToken, taro, type Reply } from '../../test/harness';
import { api, apiBase, hasStaffSession, signInStaff, signOutStaff } from './api';
import { ApiError, toApiError } from './api-error';

describe('services/api', () => {
  beforeEach(() => {
    process.env.TARO_APP_API = 'http://api.test/';
  });

  it('takes the base URL from TARO_APP_API and sends JSON with the passenger token', async () => {
    const seen = fakeApi({ 'GET /v1/passengers/me': { status: 200, body: { id: 'p-1' } } });
    const res = await api().me();
    expect(apiBase()).toBe('http://api.test');
    expect(res).toEqual({ id: 'p-1' });
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/auth/passenger',
      'GET /v1/passengers/me',
    ]);
    expect(seen[0]!.data).toEqual({ loginCode: 'ok:tester' });
    expect(seen[1]!.authorization).toBe('Bearer token-1');
    const url = (taro.request.mock.calls[1]![0] as { url: string }).url;
    expect(url).toBe('http://api.test/v1/passengers/me');
  });

  it('reuses a stored token and logs in only once for parallel calls', async () => {
    const seen = fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: {} } });
    await Promise.all([api().myStatus(), api().myStatus()]);
    await api().myStatus();
    expect(seen.filter((r) => r.path === '/v1/auth/passenger')).toHaveLength(1);
    expect(taro.storage.get('rt.passengerToken')).toMatchObject({ token: 'token-1' });
  });

  it('logs in again and retries once when the server says token_expired', async () => {
    taro.storage.set('rt.passengerToken', { token: 'old', expiresAt: Date.now() + 3600_000 });
    const seen = fakeApi({
      'POST /v1/auth/passenger': { status: 200, body: passengerToken('new') },
      'POST /v1/passengers/me/status-token': (req) =>
        req.authorization === 'Bearer old'
          ? { status: 401, body: errorBody('token_expired') }
          : { status: 200, body: { token: 'RTS1.x' } },
    });
    const res = await api().statusToken();
    expect(res.token).toBe('RTS1.x');
    expect(seen.map((r) => r.authorization ?? 'none')).toEqual(['Bearer old', 'none', 'Bearer new']);
    // A bodiless POST sends `{}`: the server refuses an empty JSON body.
    expect(seen[0]!.data).toEqual({});
  });

  it('renews a token that is about to expire before sending', async () => {
    taro.storage.set('rt.passengerToken', { token: 'old', expiresAt: Date.now() + 10_000 });
    const seen = fakeApi({ 'GET /v1/passengers/me': { status: 200, body: {} } });
    await api().me();
    expect(seen[1]!.authorization).toBe('Bearer token-1');
  });

  it('maps a failed request to network_error and server errors to their code', async () => {
    const replies: Reply[] = [
      'network',
      { status: 429, body: errorBody('rate_limited') },
      { status: 500, body: '<html>proxy error</html>' },
      { status: 200, body: '<html>captive portal</html>' },
    ];
    const seen = fakeApi({ 'GET /v1/consent': () => replies.shift()! });
    const fail = () =>
      api('none')
        .consent()
        .then(
          () => {
            throw new Error('the call should fail');
          },
          (e: unknown) => e,
        );
    const a = (await fail()) as ApiError;
    expect(a).toBeInstanceOf(ApiError);
    expect([a.code, a.status, a.isNetwork, a.isTransient]).toEqual(['network_error', 0, true, true]);
    const b = (await fail()) as ApiError;
    expect(b).toBeInstanceOf(ApiError);
    expect([b.code, b.status, b.isTransient]).toEqual(['rate_limited', 429, true]);
    expect(b.userMessage()).toContain('操作太频繁');
    const c = await fail();
    expect(c).toBeInstanceOf(ApiError);
    expect((c as ApiError).code).toBe('unknown_error');
    // A 2xx that is not the JSON the contract promises: the SDK's error, which pages see through toApiError.
    const d = toApiError(await fail());
    expect([d.code, d.status, d.isTransient]).toEqual(['bad_response', 200, true]);
    // Sent once each: the SDK does not retry on its own.
    expect(seen).toHaveLength(4);
    expect(seen.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('sends an overloaded request once (the callers retry transient errors)', async () => {
    const seen = fakeApi({
      'GET /v1/passengers/me/status': { status: 503, body: errorBody('overloaded') },
    });
    await expect(api().myStatus()).rejects.toMatchObject({ code: 'overloaded', status: 503 });
    expect(seen.filter((r) => r.path === '/v1/passengers/me/status')).toHaveLength(1);
  });

  it('login_code_invalid from the server surfaces as such', async () => {
    fakeApi({ 'POST /v1/auth/passenger': { status: 401, body: errorBody('login_code_invalid') } });
    await expect(api().me()).rejects.toMatchObject({
      code: 'login_code_invalid',
    });
  });

  it('staff: client credentials, renewal with the remembered secret, auth_required without one', async () => {
    let tokens = 0;
    const seen = fakeApi({
      'POST /v1/auth/token': () => ({
        status: 200,
        body: { accessToken: `staff-${++tokens}`, tokenType: 'Bearer', expiresIn: 900, scope: 'staff' },
      }),
      'GET /v1/staff/me/carriers': (req) =>
        req.authorization === 'Bearer staff-1'
          ? { status: 401, body: errorBody('token_expired') }
          : { status: 200, body: { items: [] } },
    });
    await signInStaff('c-1', 's3cret');
    expect(seen[0]!.data).toEqual({
      grantType: 'client_credentials',
      clientId: 'c-1',
      clientSecret: 's3cret',
    });
    expect(hasStaffSession()).toBe(true);
    await api('staff').myCarriers();
    expect(seen.map((r) => r.authorization ?? 'none')).toEqual([
      'none',
      'Bearer staff-1',
      'none',
      'Bearer staff-2',
    ]);
    // The secret is never written to storage.
    expect(JSON.stringify([...taro.storage.values()])).not.toContain('s3cret');
    signOutStaff();
    expect(hasStaffSession()).toBe(false);
    await expect(api('staff').myCarriers()).rejects.toMatchObject({
      code: 'auth_required',
    });
  });
});
