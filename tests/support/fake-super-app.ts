import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeReceipts, type FakeReceipts } from './fake-receipts.js';

/** How a fake endpoint misbehaves: errcode -1, 45011, HTTP 500, a body that is not JSON, no answer at all. */
export type FakeFailure = 'busy' | 'limit' | 'down' | 'garbage' | 'hang';

/** A subscribe message the fake accepted. */
export interface FakeSubscribeMessage {
  accessToken: string;
  touser: string;
  template_id: string;
  page: unknown;
  data: unknown;
  miniprogram_state: string;
  lang: unknown;
  /** The id the reply named it by: 19 digits, as WeChat's, beyond JavaScript's exact integers. */
  msgid: string;
}

/**
 * A fake super-app (WeChat mini-program server API) on 127.0.0.1 over real HTTP.
 * - GET /sns/jscode2session, login codes: `ok:<openid>` → openid `o_<openid>`; `used` → errcode 40163; `busy` → -1;
 *   `limit` → 45011; `down` → HTTP 500; `garbage` → not JSON; `hang` → no answer; anything else → 40029.
 * - GET /cgi-bin/token: `appId` and `appSecret` must match (else 40013 / 40125); random tokens living
 *   `tokenExpiresIn` seconds; `tokenFailure` makes it misbehave. `expireTokens()` kills the tokens issued so far.
 * - POST /wxa/business/getuserphonenumber?access_token: phone codes `phone:<digits>` → phone_info (watermark appid
 *   `watermarkAppId ?? appId`); the FakeFailure names misbehave as for login; anything else → 40029.
 * - POST /cgi-bin/message/subscribe/send?access_token: touser must be an `o_…` openid (else 40003), template_id
 *   `templateId` (else 40037), miniprogram_state formal/trial/developer (else 47003); `refusedUsers` → 43101;
 *   `messageFailure` makes it misbehave. An accepted message's reply carries its `msgid`; `receipts` posts its
 *   delivery receipt back to the server (channel `app`) once given a target.
 * A missing token answers 41001, an unknown one 40001, a lapsed one 42001, a killed one expireTokens' errcode.
 */
export interface FakeSuperApp {
  baseUrl: string;
  /** Login requests, in order. */
  calls: { appid: string | null; secret: string | null; js_code: string | null }[];
  appId: string;
  appSecret: string;
  /** expires_in of tokens issued from now on. */
  tokenExpiresIn: number;
  /** Token requests received (valid or not): single-flight shows as one. */
  tokenRequests: number;
  tokenFailure: FakeFailure | null;
  /** Every API call answers this errcode to any token while set, as if each token lapsed at once. */
  refuseAllTokens: 40001 | 42001 | null;
  /** Phone-number requests received. */
  phoneRequests: number;
  /** The appid in phone_info's watermark; null: `appId`. */
  watermarkAppId: string | null;
  templateId: string;
  messageFailure: FakeFailure | null;
  /** openids whose messages are refused with 43101 (no subscription left). */
  refusedUsers: Set<string>;
  /** Subscribe-message requests received (accepted or not). */
  messageRequests: number;
  messages: FakeSubscribeMessage[];
  receipts: FakeReceipts;
  /** Tokens issued so far answer `errcode` (40001 revoked, 42001 expired) from now on. */
  expireTokens(errcode?: 40001 | 42001): void;
  close(): Promise<void>;
}

export async function startFakeSuperApp(
  opts: { appId?: string; appSecret?: string; tokenExpiresIn?: number } = {},
): Promise<FakeSuperApp> {
  /** Live tokens → when they lapse (ms); killed tokens → the errcode they answer. */
  const live = new Map<string, number>();
  const killed = new Map<string, number>();
  let msgids = 4_000_000_000_000_000_000n;
  const state: FakeSuperApp = {
    baseUrl: '',
    calls: [],
    appId: opts.appId ?? 'wx-test-app',
    appSecret: opts.appSecret ?? 'test-app-secret',
    tokenExpiresIn: opts.tokenExpiresIn ?? 7200,
    tokenRequests: 0,
    tokenFailure: null,
    refuseAllTokens: null,
    phoneRequests: 0,
    watermarkAppId: null,
    templateId: 'ridetrace_exposure',
    messageFailure: null,
    refusedUsers: new Set(),
    messageRequests: 0,
    messages: [],
    receipts: fakeReceipts('app'),
    expireTokens: (errcode = 42001) => {
      for (const token of live.keys()) killed.set(token, errcode);
      live.clear();
    },
    close: async () => undefined,
  };

  /** errcode for a request's access_token, 0 when it may call. */
  const tokenError = (token: string | null): number => {
    if (!token) return 41001;
    if (state.refuseAllTokens) return state.refuseAllTokens;
    const killedWith = killed.get(token);
    if (killedWith) return killedWith;
    const until = live.get(token);
    if (until === undefined) return 40001;
    return Date.now() < until ? 0 : 42001;
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const q = (name: string) => url.searchParams.get(name);
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      /** Answers as `failure` says; false when there is none. */
      const misbehave = (failure: string | null): boolean => {
        switch (failure) {
          case 'busy':
            send(200, { errcode: -1, errmsg: 'system error' });
            return true;
          case 'limit':
            send(200, { errcode: 45011, errmsg: 'api minute-quota reach limit' });
            return true;
          case 'down':
            send(500, { errcode: -1 });
            return true;
          case 'garbage':
            res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
            return true;
          case 'hang':
            return true;
          default:
            return false;
        }
      };
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        return send(200, { errcode: 47001, errmsg: 'data format error' });
      }

      if (req.method === 'GET' && url.pathname === '/sns/jscode2session') {
        const code = q('js_code');
        state.calls.push({ appid: q('appid'), secret: q('secret'), js_code: code });
        if (misbehave(code)) return;
        if (code === 'used') return send(200, { errcode: 40163, errmsg: 'code been used' });
        const m = /^ok:(.+)$/.exec(code ?? '');
        if (m) return send(200, { openid: `o_${m[1]}`, session_key: 'sk-not-used' });
        return send(200, { errcode: 40029, errmsg: 'invalid code' });
      }

      if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
        state.tokenRequests++;
        if (misbehave(state.tokenFailure)) return;
        if (q('grant_type') !== 'client_credential')
          return send(200, { errcode: 40002, errmsg: 'invalid grant_type' });
        if (q('appid') !== state.appId) return send(200, { errcode: 40013, errmsg: 'invalid appid' });
        if (q('secret') !== state.appSecret)
          return send(200, { errcode: 40125, errmsg: 'invalid appsecret' });
        const token = randomBytes(24).toString('base64url');
        live.set(token, Date.now() + state.tokenExpiresIn * 1000);
        return send(200, { access_token: token, expires_in: state.tokenExpiresIn });
      }

      if (req.method === 'POST' && url.pathname === '/wxa/business/getuserphonenumber') {
        state.phoneRequests++;
        const code = typeof body.code === 'string' ? body.code : '';
        if (misbehave(code)) return;
        const refused = tokenError(q('access_token'));
        if (refused) return send(200, { errcode: refused, errmsg: 'access_token refused' });
        const m = /^phone:(\d+)$/.exec(code);
        if (!m) return send(200, { errcode: 40029, errmsg: 'invalid code' });
        return send(200, {
          errcode: 0,
          errmsg: 'ok',
          phone_info: {
            phoneNumber: `+86${m[1]}`,
            purePhoneNumber: m[1],
            countryCode: 86,
            watermark: {
              appid: state.watermarkAppId ?? state.appId,
              timestamp: Math.floor(Date.now() / 1000),
            },
          },
        });
      }

      if (req.method === 'POST' && url.pathname === '/cgi-bin/message/subscribe/send') {
        state.messageRequests++;
        if (misbehave(state.messageFailure)) return;
        const token = q('access_token');
        const refused = tokenError(token);
        if (refused) return send(200, { errcode: refused, errmsg: 'access_token refused' });
        const { touser, template_id, miniprogram_state } = body;
        if (typeof touser !== 'string' || !touser.startsWith('o_'))
          return send(200, { errcode: 40003, errmsg: 'invalid openid' });
        if (template_id !== state.templateId)
          return send(200, { errcode: 40037, errmsg: 'invalid template_id' });
        if (
          miniprogram_state !== 'formal' &&
          miniprogram_state !== 'trial' &&
          miniprogram_state !== 'developer'
        )
          return send(200, { errcode: 47003, errmsg: 'argument invalid! miniprogram_state' });
        if (state.refusedUsers.has(touser))
          return send(200, { errcode: 43101, errmsg: 'user refuse to accept the msg' });
        const msgid = String((msgids += 13n));
        state.messages.push({
          accessToken: token!,
          touser,
          template_id,
          page: body.page,
          data: body.data,
          miniprogram_state,
          lang: body.lang,
          msgid,
        });
        state.receipts.accepted(msgid, touser);
        // Written by hand: JSON.stringify cannot write a number beyond 2^53 exactly.
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`{"errcode":0,"errmsg":"ok","msgid":${msgid}}`);
      }

      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      state.receipts.stop();
      // Requests left hanging on purpose must not keep the server open.
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
