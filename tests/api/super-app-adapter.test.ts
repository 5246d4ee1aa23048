/**
 * The super-app adapter against the fake super-app over real HTTP: login, the access-token cache (cached,
 * single-flight, renewed once when refused), phone numbers and subscribe messages.
 */
import {
  AccessTokenCache,
  createSuperApp,
  DeliveryError,
  DevSuperAppLogin,
  HttpMessageSender,
  HttpSuperAppLogin,
  MessageRefusedError,
} from '@ridetrace/server';
import { AppError } from '@ridetrace/server/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSuperApp, type FakeSuperApp } from '../support/fake-super-app.js';
import { SAMPLE_EXPOSURE } from '../support/delivery.js';

const APP_ID = 'wx-adapter-app';
const SECRET = 'adapter-secret-9f2c';

const MSG = SAMPLE_EXPOSURE;

let fake: FakeSuperApp;

beforeAll(async () => {
  fake = await startFakeSuperApp({ appId: APP_ID, appSecret: SECRET });
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.appId = APP_ID;
  fake.appSecret = SECRET;
  fake.tokenExpiresIn = 7200;
  fake.tokenFailure = null;
  fake.refuseAllTokens = null;
  fake.watermarkAppId = null;
  fake.messageFailure = null;
  fake.refusedUsers.clear();
});

/** A fresh adapter (so a fresh token cache) on the fake. */
function platform(opts: { timeoutMs?: number; baseUrl?: string; appSecret?: string } = {}) {
  return new HttpSuperAppLogin({
    baseUrl: opts.baseUrl ?? fake.baseUrl,
    appId: APP_ID,
    appSecret: opts.appSecret ?? SECRET,
    timeoutMs: opts.timeoutMs ?? 2000,
  });
}

/** What `p` rejects with. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

/** `p` rejects with AppError `code` (HTTP `status`); its message. */
async function appError(p: Promise<unknown>, code: string, status: number): Promise<string> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(AppError);
  expect({ code: (err as AppError).code, status: (err as AppError).status }).toEqual({ code, status });
  return err.message;
}

/** The closed port of a server that was just stopped. */
async function deadBaseUrl(): Promise<string> {
  const gone = await startFakeSuperApp();
  await gone.close();
  return gone.baseUrl;
}

describe('login (code2Session)', () => {
  it('exchanges ok:<user> for the openid, sending appid, secret and grant_type', async () => {
    const before = fake.calls.length;
    expect(await platform().exchange('ok:alice')).toEqual({ openId: 'o_alice' });
    expect(fake.calls.slice(before)).toEqual([{ appid: APP_ID, secret: SECRET, js_code: 'ok:alice' }]);
  });

  it('an invalid (40029) or used (40163) code is login_code_invalid (401)', async () => {
    await appError(platform().exchange('nonsense'), 'login_code_invalid', 401);
    await appError(platform().exchange('used'), 'login_code_invalid', 401);
  });

  it.each(['busy', 'limit', 'down', 'garbage'])('%s is superapp_unavailable (503)', async (code) => {
    const message = await appError(platform().exchange(code), 'superapp_unavailable', 503);
    expect(message).not.toContain(SECRET);
  });

  it('no answer in time, or nobody listening, is superapp_unavailable', async () => {
    const started = Date.now();
    expect(
      await appError(platform({ timeoutMs: 200 }).exchange('hang'), 'superapp_unavailable', 503),
    ).toContain('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2000);
    const dead = platform({ baseUrl: await deadBaseUrl() });
    expect(await appError(dead.exchange('ok:alice'), 'superapp_unavailable', 503)).toContain('ECONNREFUSED');
  });
});

describe('access token', () => {
  it('is fetched once and reused across calls', async () => {
    const p = platform();
    const before = fake.tokenRequests;
    for (let i = 0; i < 5; i++) await p.phoneNumber(`phone:1380000000${i}`);
    expect(fake.tokenRequests - before).toBe(1);
  });

  it('is fetched once for 20 concurrent lookups (single-flight)', async () => {
    const p = platform();
    const before = fake.tokenRequests;
    const phones = Array.from({ length: 20 }, (_, i) => `139${String(i).padStart(8, '0')}`);
    const got = await Promise.all(phones.map((n) => p.phoneNumber(`phone:${n}`)));
    expect(got.map((g) => g.phone)).toEqual(phones);
    expect(fake.tokenRequests - before).toBe(1);
  });

  it('is renewed shortly before it lapses: 5 minutes early, or at half a short lifetime', async () => {
    let clock = 1_000_000;
    const make = () =>
      new AccessTokenCache({
        baseUrl: fake.baseUrl,
        appId: APP_ID,
        appSecret: SECRET,
        timeoutMs: 2000,
        now: () => clock,
      });
    const long = make();
    const first = await long.token();
    clock += (7200 - 301) * 1000;
    expect(await long.token()).toBe(first);
    clock += 2000;
    expect(await long.token()).not.toBe(first);

    fake.tokenExpiresIn = 60;
    const short = make();
    const a = await short.token();
    clock += 29_000;
    expect(await short.token()).toBe(a);
    clock += 2000;
    expect(await short.token()).not.toBe(a);
  });

  it.each([42001, 40001] as const)(
    'refused mid-flight (errcode %i): renewed once, and the call retried succeeds',
    async (errcode) => {
      const p = platform();
      await p.phoneNumber('phone:13800000001');
      const tokens = fake.tokenRequests;
      const phones = fake.phoneRequests;
      fake.expireTokens(errcode);
      expect(await p.phoneNumber('phone:13800000002')).toEqual({ phone: '13800000002', countryCode: '86' });
      expect(fake.tokenRequests - tokens).toBe(1);
      expect(fake.phoneRequests - phones).toBe(2);
    },
  );

  it('refused under 10 concurrent calls: still one renewal', async () => {
    const p = platform();
    await p.phoneNumber('phone:13800000001');
    const tokens = fake.tokenRequests;
    fake.expireTokens();
    const got = await Promise.all(
      Array.from({ length: 10 }, (_, i) => p.phoneNumber(`phone:1370000000${i}`)),
    );
    expect(got).toHaveLength(10);
    expect(fake.tokenRequests - tokens).toBe(1);
  });

  it('refused again after the renewal: no third try, superapp_unavailable', async () => {
    fake.refuseAllTokens = 40001;
    const p = platform();
    const tokens = fake.tokenRequests;
    const phones = fake.phoneRequests;
    expect(await appError(p.phoneNumber('phone:13800000001'), 'superapp_unavailable', 503)).toContain(
      'errcode 40001',
    );
    expect(fake.tokenRequests - tokens).toBe(2);
    expect(fake.phoneRequests - phones).toBe(2);
  });

  it('a bad secret (40125) or appid (40013) is superapp_unavailable naming the errcode, never the secret', async () => {
    const wrongSecret = 'wrong-secret-77';
    const bad = await appError(
      platform({ appSecret: wrongSecret }).phoneNumber('phone:13800000001'),
      'superapp_unavailable',
      503,
    );
    expect(bad).toContain('errcode 40125');
    expect(bad).not.toContain(wrongSecret);
    fake.appId = 'wx-someone-else';
    expect(
      await appError(platform().phoneNumber('phone:13800000001'), 'superapp_unavailable', 503),
    ).toContain('errcode 40013');
  });

  it.each(['busy', 'down', 'garbage'] as const)(
    'a token service that is %s is superapp_unavailable; the next call asks again',
    async (failure) => {
      const p = platform();
      fake.tokenFailure = failure;
      await appError(p.phoneNumber('phone:13800000001'), 'superapp_unavailable', 503);
      fake.tokenFailure = null;
      expect(await p.phoneNumber('phone:13800000001')).toEqual({ phone: '13800000001', countryCode: '86' });
    },
  );

  it('a token service that does not answer in time is superapp_unavailable', async () => {
    fake.tokenFailure = 'hang';
    const message = await appError(
      platform({ timeoutMs: 200 }).phoneNumber('phone:13800000001'),
      'superapp_unavailable',
      503,
    );
    expect(message).toContain('TimeoutError');
  });
});

describe('phone number (getuserphonenumber)', () => {
  it('gives the number without country code, and the country code', async () => {
    expect(await platform().phoneNumber('phone:13812345678')).toEqual({
      phone: '13812345678',
      countryCode: '86',
    });
  });

  it('an invalid or used code (40029) is phone_code_invalid (400)', async () => {
    await appError(platform().phoneNumber('nonsense'), 'phone_code_invalid', 400);
  });

  it('a number watermarked for another app is refused as phone_code_invalid', async () => {
    fake.watermarkAppId = 'wx-other-app';
    await appError(platform().phoneNumber('phone:13812345678'), 'phone_code_invalid', 400);
  });

  it.each(['busy', 'limit', 'down', 'garbage'])('%s is superapp_unavailable (503)', async (code) => {
    const p = platform();
    await p.tokens.token();
    const message = await appError(p.phoneNumber(code), 'superapp_unavailable', 503);
    expect(message).not.toContain(SECRET);
  });

  it('no answer in time, or nobody listening, is superapp_unavailable', async () => {
    await appError(platform({ timeoutMs: 200 }).phoneNumber('hang'), 'superapp_unavailable', 503);
    await appError(
      platform({ baseUrl: await deadBaseUrl() }).phoneNumber('phone:13812345678'),
      'superapp_unavailable',
      503,
    );
  });
});

describe('subscribe messages (HttpMessageSender on the shared token cache)', () => {
  function sender(p: HttpSuperAppLogin, baseUrl = fake.baseUrl) {
    return new HttpMessageSender({
      baseUrl,
      appId: APP_ID,
      appSecret: SECRET,
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
      tokens: p.tokens,
      templateId: 'tpl-exposure-1',
      messageState: 'trial',
    });
  }

  beforeEach(() => {
    fake.templateId = 'tpl-exposure-1';
  });

  /** `p` rejects with DeliveryError; its message, retryable and refused flags. */
  async function delivery(p: Promise<unknown>) {
    const err = await rejection(p);
    expect(err).toBeInstanceOf(DeliveryError);
    const e = err as DeliveryError & { refused?: boolean };
    return { message: e.message, retryable: e.retryable, refused: e.refused === true };
  }

  it('sends the WeChat request with the token the phone lookup fetched: one token for both', async () => {
    const p = platform();
    const s = sender(p);
    const tokens = fake.tokenRequests;
    const sent = fake.messages.length;
    await p.phoneNumber('phone:13812345678');
    const accepted = await s.send('o_alice', MSG);
    expect(fake.tokenRequests - tokens).toBe(1);
    // The 19-digit msgid exactly as the reply wrote it, not rounded to a JavaScript number.
    expect(accepted).toEqual({ messageId: fake.messages.at(-1)?.msgid });
    expect(accepted.messageId).toMatch(/^4\d{18}$/);
    expect(fake.messages.slice(sent)).toEqual([
      {
        accessToken: await p.tokens.token(),
        touser: 'o_alice',
        template_id: 'tpl-exposure-1',
        page: 'pages/inbox/index',
        data: {
          time: { value: '2026-11-21 08:30' },
          vehicle: { value: '粤B12345 36路' },
          until: { value: '2026-12-05' },
        },
        miniprogram_state: 'trial',
        lang: 'zh_CN',
        msgid: accepted.messageId,
      },
    ]);
    await s.close();
  });

  it('a user who refused (43101) or an unknown openid (40003): refused, not retryable', async () => {
    const s = sender(platform());
    fake.refusedUsers.add('o_bob');
    const refused = await rejection(s.send('o_bob', MSG));
    expect(refused).toBeInstanceOf(MessageRefusedError);
    expect(await delivery(s.send('o_bob', MSG))).toEqual({
      message: 'message API errcode 43101',
      retryable: false,
      refused: true,
    });
    expect(await delivery(s.send('not-an-openid', MSG))).toEqual({
      message: 'message API errcode 40003',
      retryable: false,
      refused: true,
    });
    await s.close();
  });

  it('a template the super-app does not know (40037): not retryable, not a refusal', async () => {
    const s = sender(platform());
    fake.templateId = 'another-template';
    expect(await delivery(s.send('o_alice', MSG))).toEqual({
      message: 'message API errcode 40037',
      retryable: false,
      refused: false,
    });
    await s.close();
  });

  it('a token refused mid-flight is renewed once and the message sent once', async () => {
    const p = platform();
    const s = sender(p);
    await s.send('o_alice', MSG);
    const tokens = fake.tokenRequests;
    const sent = fake.messages.length;
    fake.expireTokens(42001);
    await s.send('o_carol', MSG);
    expect(fake.tokenRequests - tokens).toBe(1);
    expect(fake.messages.slice(sent).map((m) => m.touser)).toEqual(['o_carol']);
    // The phone lookup uses the renewed token too.
    await p.phoneNumber('phone:13812345678');
    expect(fake.tokenRequests - tokens).toBe(1);
    await s.close();
  });

  it('a token refused twice is retryable', async () => {
    const s = sender(platform());
    fake.refuseAllTokens = 40001;
    expect(await delivery(s.send('o_alice', MSG))).toEqual({
      message: 'message API errcode 40001',
      retryable: true,
      refused: false,
    });
    await s.close();
  });

  it('busy (-1), 5xx, unreadable token replies and a dead gateway are retryable', async () => {
    const s = sender(platform());
    fake.messageFailure = 'busy';
    expect(await delivery(s.send('o_alice', MSG))).toEqual({
      message: 'message API errcode -1',
      retryable: true,
      refused: false,
    });
    fake.messageFailure = 'down';
    expect(await delivery(s.send('o_alice', MSG))).toEqual({
      message: 'message API status 500',
      retryable: true,
      refused: false,
    });
    fake.messageFailure = null;
    fake.tokenFailure = 'garbage';
    expect(await delivery(sender(platform()).send('o_alice', MSG))).toEqual({
      message: 'message API token unreadable reply',
      retryable: true,
      refused: false,
    });
    fake.tokenFailure = null;
    const dead = sender(platform(), await deadBaseUrl());
    expect(await delivery(dead.send('o_alice', MSG))).toEqual({
      message: 'network: ECONNREFUSED',
      retryable: true,
      refused: false,
    });
    await dead.close();
    await s.close();
  });

  it('without a shared cache, fetches its own token from its base URL', async () => {
    const s = new HttpMessageSender({
      baseUrl: fake.baseUrl,
      appId: APP_ID,
      appSecret: SECRET,
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
      templateId: 'tpl-exposure-1',
    });
    const tokens = fake.tokenRequests;
    await s.send('o_dave', MSG);
    await s.send('o_dave', MSG);
    expect(fake.tokenRequests - tokens).toBe(1);
    expect(fake.messages.at(-1)).toMatchObject({ touser: 'o_dave', miniprogram_state: 'formal' });
    await s.close();
  });
});

describe('development provider and factory', () => {
  it('DevSuperAppLogin: dev:<digits> is that phone number, anything else phone_code_invalid', async () => {
    const dev = new DevSuperAppLogin();
    expect(await dev.phoneNumber('dev:13812345678')).toEqual({ phone: '13812345678', countryCode: '86' });
    await appError(dev.phoneNumber('phone:13812345678'), 'phone_code_invalid', 400);
    await appError(dev.phoneNumber('dev:alice'), 'phone_code_invalid', 400);
  });

  it('createSuperApp: HTTP with its token cache given a base URL, else the dev provider without tokens', async () => {
    const cfg = { appId: APP_ID, appSecret: SECRET, timeoutMs: 2000 };
    const http = createSuperApp({ ...cfg, baseUrl: fake.baseUrl });
    expect(http.superApp).toBeInstanceOf(HttpSuperAppLogin);
    expect(http.tokens).toBe((http.superApp as HttpSuperAppLogin).tokens);
    expect(await http.superApp.phoneNumber('phone:13812345678')).toMatchObject({ phone: '13812345678' });
    const dev = createSuperApp({ ...cfg, baseUrl: undefined });
    expect(dev.superApp).toBeInstanceOf(DevSuperAppLogin);
    expect(dev.tokens).toBeNull();
  });
});
