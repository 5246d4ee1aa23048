import { Pool, type Dispatcher } from 'undici';
import { AccessTokenCache, SuperAppUnavailableError } from './super-app.js';

/** A notification to deliver: never names the case, only where and when the exposure happened. */
export interface ExposureMessage {
  /**
   * 1 (default): rode with a case. 2: a secondary contact, who rode with a close contact of a case; its own
   * template and text.
   */
  degree?: 1 | 2;
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

/**
 * A message the provider accepted, and the id it named it by (when it names one): the provider's delivery receipts
 * name the message by that id (POST /v1/delivery-receipts).
 */
export interface SentMessage {
  messageId?: string;
}

/** The provider's message id when it is one a receipt can name (see DeliveryReceiptSchema), else none. */
export function sentMessage(id: unknown): SentMessage {
  const s = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id;
  return typeof s === 'string' && /^[\x21-\x7e]{1,128}$/.test(s) ? { messageId: s } : {};
}

export interface MessageSender {
  send(openId: string, msg: ExposureMessage): Promise<SentMessage>;
  /** Closes idle gateway connections (the worker stops); a later send opens new ones. */
  close?(): Promise<void>;
}

/** SMS to a mainland mobile number; both methods reject with DeliveryError. Providers: ./sms.ts. */
export interface SmsSender {
  /** An exposure notice; resolves with the provider's message id when it names one. */
  send(phone: string, msg: ExposureMessage): Promise<SentMessage>;
  /** A one-time code that verifies the phone, valid for `ttlMinutes`. */
  sendCode(phone: string, code: string, ttlMinutes: number): Promise<void>;
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

/** The user refused the app's messages (43101: no subscription left) or is unknown to the super-app (40003). */
export class MessageRefusedError extends DeliveryError {
  readonly refused = true;
  constructor(readonly errcode: number) {
    super(`message API errcode ${errcode}`, false);
  }
}

/** errcodes by which the super-app refuses a message for its recipient: SMS is the only way to reach them. */
const MESSAGE_REFUSED = new Set([43101, 40003]);

interface MessageSenderOptions {
  /** Base URL of the subscribe-message API (MESSAGE_BASE_URL, by default the super-app's). */
  baseUrl: string;
  appId: string;
  appSecret: string;
  timeoutMs: number;
  timeZone: string;
  /** The app's one access-token cache (createSuperApp); without it, a cache of its own on `baseUrl`. */
  tokens?: AccessTokenCache | null;
  /** Exposure notice template (config.superApp.exposureTemplateId). */
  templateId?: string;
  /** Secondary-contact notice template (config.superApp.secondaryTemplateId). */
  secondaryTemplateId?: string;
  /** `miniprogram_state`: which version of the mini-program the message opens. */
  messageState?: 'formal' | 'trial' | 'developer';
}

/**
 * `"msgid": 1234…` of a reply, digits kept as sent: WeChat's ids are 64-bit and lose their last digits as JS numbers.
 */
const MSGID = /"msgid"\s*:\s*"?([0-9]{1,40})"?/;

interface MessageReply {
  errcode?: unknown;
  msgid?: string;
}

/**
 * Super-app subscribe message API (WeChat's): POST {base}/cgi-bin/message/subscribe/send?access_token →
 * { errcode, msgid }; resolves with the msgid, which WeChat's subscribe_msg_sent_event names.
 * Refused (43101, 40003): MessageRefusedError, not retryable; busy (-1), 5xx, network, token trouble: retryable;
 * a refused token (40001, 42001) is renewed and the message sent once more.
 */
export class HttpMessageSender implements MessageSender {
  private readonly gateway: Gateway;
  private readonly tokens: AccessTokenCache;

  constructor(private readonly opts: MessageSenderOptions) {
    this.gateway = new Gateway(opts.baseUrl, opts.timeoutMs);
    this.tokens =
      opts.tokens ??
      new AccessTokenCache({
        baseUrl: opts.baseUrl,
        appId: opts.appId,
        appSecret: opts.appSecret,
        timeoutMs: opts.timeoutMs,
      });
  }

  async send(openId: string, msg: ExposureMessage): Promise<SentMessage> {
    const { timeZone } = this.opts;
    const body = {
      touser: openId,
      template_id:
        msg.degree === 2
          ? (this.opts.secondaryTemplateId ?? 'ridetrace_secondary_exposure')
          : (this.opts.templateId ?? 'ridetrace_exposure'),
      page: 'pages/inbox/index',
      data: {
        time: { value: localTime(msg.boardedAt, timeZone).minute },
        vehicle: { value: `${msg.plate}${msg.route ? ` ${msg.route}` : ''}` },
        until: { value: localTime(msg.observeUntil, timeZone).date },
      },
      miniprogram_state: this.opts.messageState ?? 'formal',
      lang: 'zh_CN',
    };
    let reply: MessageReply;
    try {
      reply = await this.tokens.call((token) => this.post(token, body));
    } catch (err) {
      if (err instanceof SuperAppUnavailableError)
        throw new DeliveryError(`message API token ${err.detail}`, true);
      throw err;
    }
    const errcode = reply.errcode;
    // A body that cannot be read or parsed counts as no errcode, as before.
    if (errcode === 0 || errcode === undefined) return sentMessage(reply.msgid);
    if (typeof errcode === 'number' && MESSAGE_REFUSED.has(errcode)) throw new MessageRefusedError(errcode);
    // -1 busy, or a token refused twice: retry later; any other errcode (bad template or data): no point.
    const retryable = errcode === -1 || errcode === 40001 || errcode === 40014 || errcode === 42001;
    throw new DeliveryError(`message API errcode ${String(errcode)}`, retryable);
  }

  private async post(token: string, body: unknown): Promise<MessageReply> {
    const res = await this.gateway.post(
      `/cgi-bin/message/subscribe/send?access_token=${encodeURIComponent(token)}`,
      body,
      {},
    );
    if (res.statusCode >= 400) {
      await discard(res.body);
      throw new DeliveryError(`message API status ${res.statusCode}`, res.statusCode >= 500);
    }
    const text = await res.body.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = {};
    }
    const reply: MessageReply = typeof parsed === 'object' && parsed !== null ? { ...parsed } : {};
    const msgid = MSGID.exec(text)?.[1];
    if (msgid) reply.msgid = msgid;
    else delete reply.msgid;
    return reply;
  }

  close(): Promise<void> {
    return this.gateway.close();
  }
}

/**
 * Generic SMS gateway (SMS_PROVIDER=generic): POST {base}/sms/send { phone, template, params } with a bearer API
 * key → 2xx, its JSON reply's `messageId` (when it has one) naming the message in its delivery receipts.
 * Templates: `ridetrace_exposure` and (secondary contacts) `ridetrace_secondary_exposure` { time, vehicle, until },
 * `ridetrace_otp` { code, minutes }.
 */
export class HttpSmsSender implements SmsSender {
  private readonly gateway: Gateway;

  constructor(
    private readonly opts: { baseUrl: string; apiKey: string; timeoutMs: number; timeZone: string },
  ) {
    this.gateway = new Gateway(opts.baseUrl, opts.timeoutMs);
  }

  send(phone: string, msg: ExposureMessage): Promise<SentMessage> {
    return this.post(phone, msg.degree === 2 ? 'ridetrace_secondary_exposure' : 'ridetrace_exposure', {
      time: localTime(msg.boardedAt, this.opts.timeZone).minute,
      vehicle: msg.plate,
      until: localTime(msg.observeUntil, this.opts.timeZone).date,
    });
  }

  async sendCode(phone: string, code: string, ttlMinutes: number): Promise<void> {
    await this.post(phone, 'ridetrace_otp', { code, minutes: String(ttlMinutes) });
  }

  private async post(phone: string, template: string, params: Record<string, string>): Promise<SentMessage> {
    const res = await this.gateway.post(
      '/sms/send',
      { phone, template, params },
      { authorization: `Bearer ${this.opts.apiKey}` },
    );
    if (res.statusCode >= 200 && res.statusCode < 300) {
      // A reply without JSON, or without an id, is still a sent message: only receipts need the id.
      const reply: unknown = await res.body.json().catch(() => null);
      return sentMessage(
        typeof reply === 'object' && reply !== null
          ? (reply as { messageId?: unknown }).messageId
          : undefined,
      );
    }
    await discard(res.body);
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
  async send(): Promise<SentMessage> {
    this.log('notification delivered to the development log sender (no gateway configured)');
    return {};
  }
  async sendCode(): Promise<void> {
    this.log('one-time code delivered to the development log sender (no SMS provider configured)');
  }
}
