import { Pool, type Dispatcher } from 'undici';

/** A notification to deliver: never names the case, only where and when the exposure happened. */
export interface ExposureMessage {
  plate: string;
  kind: string;
  route: string | null;
  boardedAt: Date;
  observeUntil: Date;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** false: retrying cannot help (unknown recipient, refused subscription). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface MessageSender {
  send(openId: string, msg: ExposureMessage): Promise<void>;
  /** Closes idle gateway connections (the worker stops); a later send opens new ones. */
  close?(): Promise<void>;
}

export interface SmsSender {
  send(phone: string, msg: ExposureMessage): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Keep-alive connections to one gateway. undici's `request()` on a pool costs a fraction of `fetch` (Node's fetch
 * is undici too, behind the WHATWG layer).
 */
class Gateway {
  private pool: Pool | null = null;
  private basePath = '';

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** POSTs JSON to {base}{path}. The caller must read or discard the body, or the connection stays taken. */
  async post(path: string, body: unknown, headers: Record<string, string>): Promise<Dispatcher.ResponseData> {
    try {
      // Opened on first use, not in the constructor: a malformed URL fails each delivery (retryable), as with fetch.
      if (!this.pool) {
        const url = new URL(this.baseUrl);
        this.basePath = url.pathname.replace(/\/+$/, '');
        this.pool = new Pool(url.origin);
      }
      return await this.pool.request({
        method: 'POST',
        path: `${this.basePath}${path}`,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // A timeout rejects with the signal's TimeoutError; connection failures carry a code (ECONNREFUSED, …).
      const e = err as Error & { code?: unknown };
      throw new DeliveryError(`network: ${typeof e.code === 'string' ? e.code : e.name}`, true);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}

/** Reads the rest of a response we do not need, so its connection can serve the next request. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump().catch(() => undefined);
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/** One formatter per time zone: building one costs far more than formatting with it. */
function dateTimeFormat(timeZone: string): Intl.DateTimeFormat {
  let f = dateTimeFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dateTimeFormats.set(timeZone, f);
  }
  return f;
}

/** "2026-11-21 08:30" and "2026-12-05" in the people's time zone. */
export function localTime(d: Date, timeZone: string): { minute: string; date: string } {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of dateTimeFormat(timeZone).formatToParts(d)) parts[p.type] = p.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { minute: `${date} ${parts.hour}:${parts.minute}`, date };
}

/** Super-app subscribe message API: POST {base}/cgi-bin/message/subscribe/send → { errcode: 0 }. */
export class HttpMessageSender implements MessageSender {
  private readonly gateway: Gateway;

  constructor(
    private readonly opts: {
      baseUrl: string;
      appId: string;
      appSecret: string;
      timeoutMs: number;
      timeZone: string;
    },
  ) {
    this.gateway = new Gateway(opts.baseUrl, opts.timeoutMs);
  }

  async send(openId: string, msg: ExposureMessage): Promise<void> {
    const res = await this.gateway.post(
      '/cgi-bin/message/subscribe/send',
      {
        appid: this.opts.appId,
        touser: openId,
        template_id: 'ridetrace_exposure',
        page: 'pages/inbox/index',
        data: {
          time: { value: localTime(msg.boardedAt, this.opts.timeZone).minute },
          vehicle: { value: `${msg.plate}${msg.route ? ` ${msg.route}` : ''}` },
          until: { value: localTime(msg.observeUntil, this.opts.timeZone).date },
        },
      },
      { 'x-app-secret': this.opts.appSecret },
    );
    if (res.statusCode >= 400) {
      await discard(res.body);
      throw new DeliveryError(`message API status ${res.statusCode}`, res.statusCode >= 500);
    }
    // A body that cannot be read or parsed counts as no errcode, as before.
    const body = (await res.body.json().catch(() => ({}))) as { errcode?: number; errmsg?: string };
    if (body.errcode === 0 || body.errcode === undefined) return;
    // -1 busy: retry; 43101 the user refused messages, 40003 unknown user: no point retrying.
    throw new DeliveryError(`message API errcode ${body.errcode}`, body.errcode === -1);
  }

  close(): Promise<void> {
    return this.gateway.close();
  }
}

/** SMS gateway: POST {base}/sms/send with a bearer API key → 2xx. */
export class HttpSmsSender implements SmsSender {
  private readonly gateway: Gateway;

  constructor(
    private readonly opts: { baseUrl: string; apiKey: string; timeoutMs: number; timeZone: string },
  ) {
    this.gateway = new Gateway(opts.baseUrl, opts.timeoutMs);
  }

  async send(phone: string, msg: ExposureMessage): Promise<void> {
    const res = await this.gateway.post(
      '/sms/send',
      {
        phone,
        template: 'ridetrace_exposure',
        params: {
          time: localTime(msg.boardedAt, this.opts.timeZone).minute,
          vehicle: msg.plate,
          until: localTime(msg.observeUntil, this.opts.timeZone).date,
        },
      },
      { authorization: `Bearer ${this.opts.apiKey}` },
    );
    await discard(res.body);
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    throw new DeliveryError(
      `SMS gateway status ${res.statusCode}`,
      res.statusCode >= 500 || res.statusCode === 429,
    );
  }

  close(): Promise<void> {
    return this.gateway.close();
  }
}

/** Development without gateways: logs that a message would be sent (no content: it holds PII). */
export class LogOnlySender implements MessageSender, SmsSender {
  constructor(private readonly log: (msg: string) => void) {}
  async send(): Promise<void> {
    this.log('notification delivered to the development log sender (no gateway configured)');
  }
}
