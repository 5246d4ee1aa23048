import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * Fake super-app message API and SMS gateway on 127.0.0.1 over real HTTP.
 * `failFirst` calls answer 500 (message API: errcode -1 with status 200 when `busyInsteadOf500`),
 * `rejectAll` makes every call fail permanently (400 / errcode 43101).
 */
export interface FakeGateway {
  baseUrl: string;
  received: Received[];
  calls: number;
  failFirst: number;
  rejectAll: boolean;
  close(): Promise<void>;
}

export async function startFakeGateway(
  kind: 'message' | 'sms',
  opts: { failFirst?: number } = {},
): Promise<FakeGateway> {
  const state: FakeGateway = {
    baseUrl: '',
    received: [],
    calls: 0,
    failFirst: opts.failFirst ?? 0,
    rejectAll: false,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      state.calls++;
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const expected = kind === 'message' ? '/cgi-bin/message/subscribe/send' : '/sms/send';
      if (req.method !== 'POST' || req.url !== expected) return send(404, { error: 'not found' });
      if (state.calls <= state.failFirst) return send(500, { errcode: -1, errmsg: 'temporarily failing' });
      if (state.rejectAll)
        return kind === 'message'
          ? send(200, { errcode: 43101, errmsg: 'user refused' })
          : send(400, { error: 'bad number' });
      state.received.push({
        path: req.url,
        headers: req.headers,
        body: JSON.parse(raw || '{}') as Record<string, unknown>,
      });
      return kind === 'message' ? send(200, { errcode: 0, errmsg: 'ok' }) : send(200, { ok: true });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
