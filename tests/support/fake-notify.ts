import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeReceipts, type FakeReceipts } from './fake-receipts.js';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** Message API: the access_token of the request. */
  accessToken?: string;
  /** The id the fake named the message by in its reply (message API `msgid`, SMS `messageId`). */
  messageId: string;
}

/**
 * Fake super-app message API and SMS gateway on 127.0.0.1 over real HTTP.
 * `failFirst` calls answer 500, `rejectAll` makes every call fail permanently (400 / errcode 43101).
 * The message API wants an `access_token` query parameter (else errcode 41001) and takes any: the token may come
 * from its own GET /cgi-bin/token (any appid and secret; counted in `tokenCalls`, not in `calls`) or from the fake
 * super-app when tokens are fetched there. An accepted message is named by an id in the reply (message API: a
 * 64-bit `msgid` number, beyond JavaScript's exact integers as WeChat's are; SMS: a `messageId` string), whose
 * delivery receipt `receipts` posts back to the server.
 */
export interface FakeGateway {
  baseUrl: string;
  received: Received[];
  calls: number;
  /** Message API: GET /cgi-bin/token requests. */
  tokenCalls: number;
  failFirst: number;
  rejectAll: boolean;
  receipts: FakeReceipts;
  close(): Promise<void>;
}

/** 19-digit ids as WeChat's msgid: only exact as text. */
let nextMsgid = 3_000_000_000_000_000_000n;

export async function startFakeGateway(
  kind: 'message' | 'sms',
  opts: { failFirst?: number } = {},
): Promise<FakeGateway> {
  const state: FakeGateway = {
    baseUrl: '',
    received: [],
    calls: 0,
    tokenCalls: 0,
    failFirst: opts.failFirst ?? 0,
    rejectAll: false,
    receipts: fakeReceipts(kind === 'message' ? 'app' : 'sms'),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const url = new URL(req.url ?? '/', 'http://x');
      if (kind === 'message' && req.method === 'GET' && url.pathname === '/cgi-bin/token') {
        state.tokenCalls++;
        if (!url.searchParams.get('appid') || !url.searchParams.get('secret'))
          return send(200, { errcode: 41002, errmsg: 'appid missing' });
        return send(200, { access_token: `fake-msg-token-${state.tokenCalls}`, expires_in: 7200 });
      }
      state.calls++;
      const expected = kind === 'message' ? '/cgi-bin/message/subscribe/send' : '/sms/send';
      if (req.method !== 'POST' || url.pathname !== expected) return send(404, { error: 'not found' });
      const accessToken = url.searchParams.get('access_token') ?? '';
      if (kind === 'message' && !accessToken)
        return send(200, { errcode: 41001, errmsg: 'access_token missing' });
      if (state.calls <= state.failFirst) return send(500, { errcode: -1, errmsg: 'temporarily failing' });
      if (state.rejectAll)
        return kind === 'message'
          ? send(200, { errcode: 43101, errmsg: 'user refused' })
          : send(400, { error: 'bad number' });
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      const messageId = kind === 'message' ? String((nextMsgid += 7n)) : `fake-sms-${state.calls}`;
      state.received.push({
        path: url.pathname,
        headers: req.headers,
        body,
        ...(kind === 'message' ? { accessToken } : {}),
        messageId,
      });
      state.receipts.accepted(messageId, String(kind === 'message' ? body.touser : body.phone));
      if (kind === 'message')
        // Written by hand: JSON.stringify cannot write a number beyond 2^53 exactly.
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`{"errcode":0,"errmsg":"ok","msgid":${messageId}}`);
      return send(200, { ok: true, messageId });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => {
    state.receipts.stop();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return state;
}
