import { RideTraceError } from './error.js';

/** One HTTP request as the client hands it to a transport. */
export interface TransportRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The API path without base URL or query, e.g. `/v1/rides` (for messages and logs). */
  path: string;
  /** Absolute URL: base URL, path and query string. */
  url: string;
  /** Lower-case names: `authorization` when the client holds a token, `content-type` when there is a body. */
  headers: Record<string, string>;
  /** The JSON body as a value (the transport serialises it); undefined when there is none. */
  body?: unknown;
  /** `json`: the reply body parsed; `arraybuffer`: its raw bytes (PNG, CSV). */
  responseType: 'json' | 'arraybuffer';
  timeoutMs: number;
  /** Cookie sessions (a browser console): fetch's `credentials`, so the browser sends and keeps the cookies. */
  credentials?: 'same-origin' | 'include';
}

export interface TransportResponse {
  status: number;
  /** Reply headers; names in any case. */
  headers: Record<string, string | undefined>;
  /** `json`: the parsed body (its text when not JSON, null or '' when empty); `arraybuffer`: an ArrayBuffer. */
  data: unknown;
}

/** Resolves with any reply, whatever its status; its rejection reaches the caller as is, so it picks its errors. */
export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** The default transport, on `fetch` (the global one unless given). */
export function fetchTransport(fetchFn?: typeof fetch): Transport {
  return async (req) => {
    try {
      const res = await (fetchFn ?? globalThis.fetch)(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body === undefined ? null : JSON.stringify(req.body),
        signal: AbortSignal.timeout(req.timeoutMs),
        ...(req.credentials ? { credentials: req.credentials } : {}),
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const data = req.responseType === 'arraybuffer' ? await res.arrayBuffer() : parseJson(await res.text());
      return { status: res.status, headers, data };
    } catch (err) {
      throw new RideTraceError(0, 'network_error', `${req.method} ${req.path}: ${(err as Error).message}`);
    }
  };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
