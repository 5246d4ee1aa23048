import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake super-app login API (code2Session-style) on 127.0.0.1 over real HTTP.
 * Login codes: `ok:<openid>` → that user; `used` / anything else → errcode 40029; `busy` → errcode -1;
 * `down` → HTTP 500.
 */
export interface FakeSuperApp {
  baseUrl: string;
  calls: { appid: string | null; secret: string | null; js_code: string | null }[];
  close(): Promise<void>;
}

export async function startFakeSuperApp(): Promise<FakeSuperApp> {
  const calls: FakeSuperApp['calls'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/sns/jscode2session') {
      res.writeHead(404).end();
      return;
    }
    const code = url.searchParams.get('js_code');
    calls.push({
      appid: url.searchParams.get('appid'),
      secret: url.searchParams.get('secret'),
      js_code: code,
    });
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (code === 'down') return send(500, { errcode: -1 });
    if (code === 'busy') return send(200, { errcode: -1, errmsg: 'system busy' });
    const m = /^ok:(.+)$/.exec(code ?? '');
    if (m) return send(200, { openid: `o_${m[1]}`, session_key: 'sk-not-used' });
    return send(200, { errcode: 40029, errmsg: 'invalid code' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
