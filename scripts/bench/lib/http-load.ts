import autocannon from 'autocannon';
import { percentile } from './report.js';

export interface LoadRun {
  rps: number;
  /** Every response's latency (ms). */
  latencies: number[];
  p50: number;
  p99: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  durationS: number;
}

/**
 * POSTs to `path` from `connections` connections for `seconds`, each request with its own body (`body()`) and
 * the next token of `tokens` (autocannon `setupRequest`). Latencies are recorded per response in ms (float).
 */
export async function postLoad(opts: {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  tokens: string[];
  body: () => unknown;
}): Promise<LoadRun> {
  let next = 0;
  const latencies: number[] = [];
  const settings: autocannon.Options = {
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: opts.path,
        setupRequest: (req) => {
          const token = opts.tokens[next++ % opts.tokens.length]!;
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify(opts.body()),
          };
        },
      },
    ],
  };
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(settings, (err: unknown, result: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const statusCodes: Record<string, number> = {};
  const stats = (r as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, v] of Object.entries(stats)) statusCodes[code] = v.count;
  const ok = r['2xx'];
  return {
    rps: ok / (r.duration || opts.seconds),
    latencies,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests: r.requests.total,
    ok,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    durationS: r.duration,
  };
}
