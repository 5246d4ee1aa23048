import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fake SMS gateway on 127.0.0.1 (POST /sms/send → 200), counting deliveries and when the last one came. */
export interface FakeSms {
  baseUrl: string;
  received: number;
  lastAt: number;
  /** Arrival times (performance.now()) of every message. */
  times: number[];
  /** Resolves when `n` messages have arrived in total (or rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeSms(): Promise<FakeSms> {
  const waiters: { n: number; resolve: () => void }[] = [];
  const state = {
    baseUrl: '',
    received: 0,
    lastAt: 0,
    times: [] as number[],
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/sms/send') {
        res.writeHead(404).end();
        return;
      }
      state.received++;
      state.lastAt = performance.now();
      state.times.push(state.lastAt);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      for (const w of waiters.filter((x) => state.received >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    waitFor: (n: number, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        if (state.received >= n) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`only ${state.received} of ${n} SMS arrived in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
