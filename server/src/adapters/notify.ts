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
}

export interface SmsSender {
  send(phone: string, msg: ExposureMessage): Promise<void>;
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new DeliveryError(`network: ${(err as Error).name}`, true);
  }
}

/** "2026-11-21 08:30" and "2026-12-05" in the people's time zone. */
export function localTime(d: Date, timeZone: string): { minute: string; date: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { minute: `${date} ${parts.hour}:${parts.minute}`, date };
}

/** Super-app subscribe message API: POST {base}/cgi-bin/message/subscribe/send → { errcode: 0 }. */
export class HttpMessageSender implements MessageSender {
  constructor(
    private readonly opts: {
      baseUrl: string;
      appId: string;
      appSecret: string;
      timeoutMs: number;
      timeZone: string;
    },
  ) {}

  async send(openId: string, msg: ExposureMessage): Promise<void> {
    const res = await post(
      `${this.opts.baseUrl}/cgi-bin/message/subscribe/send`,
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
      this.opts.timeoutMs,
    );
    if (res.status >= 500) throw new DeliveryError(`message API status ${res.status}`, true);
    const body = (await res.json().catch(() => ({}))) as { errcode?: number; errmsg?: string };
    if (res.status >= 400) throw new DeliveryError(`message API status ${res.status}`, false);
    if (body.errcode === 0 || body.errcode === undefined) return;
    // -1 busy: retry; 43101 the user refused messages, 40003 unknown user: no point retrying.
    throw new DeliveryError(`message API errcode ${body.errcode}`, body.errcode === -1);
  }
}

/** SMS gateway: POST {base}/sms/send with a bearer API key → 2xx. */
export class HttpSmsSender implements SmsSender {
  constructor(
    private readonly opts: { baseUrl: string; apiKey: string; timeoutMs: number; timeZone: string },
  ) {}

  async send(phone: string, msg: ExposureMessage): Promise<void> {
    const res = await post(
      `${this.opts.baseUrl}/sms/send`,
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
      this.opts.timeoutMs,
    );
    if (res.ok) return;
    throw new DeliveryError(`SMS gateway status ${res.status}`, res.status >= 500 || res.status === 429);
  }
}

/** Development without gateways: logs that a message would be sent (no content: it holds PII). */
export class LogOnlySender implements MessageSender, SmsSender {
  constructor(private readonly log: (msg: string) => void) {}
  async send(): Promise<void> {
    this.log('notification delivered to the development log sender (no gateway configured)');
  }
}
