import { AppError } from '../errors.js';

/** The super-app's user APIs: login, and the verified phone number behind the mini-program's phone button. */
export interface SuperAppLogin {
  readonly provider: string;
  /**
   * Exchanges the mini-program's one-time login code for a stable user id.
   * Throws AppError `login_code_invalid` or `superapp_unavailable`.
   */
  exchange(loginCode: string): Promise<{ openId: string }>;
  /**
   * Exchanges the one-time code of the `getPhoneNumber` button for the user's phone number (without country code)
   * and its country code ("86"). Throws AppError `phone_code_invalid` (code invalid, used, or for another app) or
   * `superapp_unavailable`.
   */
  phoneNumber(code: string): Promise<{ phone: string; countryCode: string }>;
}

/** What the adapters need of `config.superApp`. */
export interface SuperAppOptions {
  baseUrl: string;
  appId: string;
  appSecret: string;
  timeoutMs: number;
}

/**
 * The super-app failed us (network, timeout, 5xx, unreadable reply, busy, an unexpected errcode): AppError
 * `superapp_unavailable` (503). `detail` is log-safe (never a URL, secret or token), e.g. "errcode 40125".
 */
export class SuperAppUnavailableError extends AppError {
  constructor(
    readonly detail: string,
    service: string,
  ) {
    super('superapp_unavailable', `The super-app ${service} failed (${detail}); retry later.`);
  }
}

type Reply = Record<string, unknown>;

/** errcode of a reply; replies without one (code2Session on success) count as 0. */
function errcodeOf(reply: Reply): number {
  return typeof reply.errcode === 'number' ? reply.errcode : 0;
}

/** Why a request failed, without its URL: fetch's messages can quote the URL, which holds the secret or token. */
function networkCause(err: unknown): string {
  const e = err as { name?: unknown; cause?: { code?: unknown } };
  if (typeof e.cause?.code === 'string') return e.cause.code;
  return typeof e.name === 'string' ? e.name : 'error';
}

/** One JSON call; every failure to get a JSON object back becomes SuperAppUnavailableError. */
async function callJson(
  url: URL,
  body: unknown,
  opts: { timeoutMs: number; service: string },
): Promise<Reply> {
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    throw new SuperAppUnavailableError(`network: ${networkCause(err)}`, opts.service);
  }
  if (status < 200 || status >= 300) throw new SuperAppUnavailableError(`status ${status}`, opts.service);
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    reply = null;
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply))
    throw new SuperAppUnavailableError('unreadable reply', opts.service);
  return reply as Reply;
}

/** errcodes by which an API refuses the access token: 40001 invalid credential, 40014 invalid token, 42001 expired. */
const TOKEN_REFUSED = new Set([40001, 40014, 42001]);

/**
 * The app's access token (`GET {base}/cgi-bin/token?grant_type=client_credential&appid&secret`), cached until
 * shortly before it expires. One token serves the whole app: the super-app invalidates the previous token when a
 * new one is issued, so phone numbers and messages must share one cache, and concurrent callers one request.
 */
export class AccessTokenCache {
  private current: { token: string; renewAt: number } | null = null;
  private pending: Promise<string> | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: SuperAppOptions & { now?: () => number }) {
    this.now = opts.now ?? Date.now;
  }

  /** A token valid for a while yet. Rejects with SuperAppUnavailableError (detail e.g. "errcode 40125"). */
  async token(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return this.current.token;
    return this.refresh();
  }

  /** A token to replace `stale`, which an API refused; a newer one already cached or in flight serves. */
  async renew(stale: string): Promise<string> {
    if (this.current?.token === stale) this.current = null;
    return this.token();
  }

  /**
   * Runs `request` with the token; when the API refuses the token (40001, 40014, 42001), renews it once and runs
   * `request` once more, whose reply is final.
   */
  async call<T extends { errcode?: unknown }>(request: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token();
    const reply = await request(token);
    if (!TOKEN_REFUSED.has(reply.errcode as number)) return reply;
    return request(await this.renew(token));
  }

  private refresh(): Promise<string> {
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const url = new URL(`${this.opts.baseUrl}/cgi-bin/token`);
    url.searchParams.set('grant_type', 'client_credential');
    url.searchParams.set('appid', this.opts.appId);
    url.searchParams.set('secret', this.opts.appSecret);
    const service = 'access-token service';
    const reply = await callJson(url, undefined, { timeoutMs: this.opts.timeoutMs, service });
    const errcode = errcodeOf(reply);
    if (errcode !== 0) throw new SuperAppUnavailableError(`errcode ${errcode}`, service);
    const { access_token: token, expires_in: expiresIn } = reply;
    if (typeof token !== 'string' || token.length === 0 || typeof expiresIn !== 'number' || expiresIn <= 0)
      throw new SuperAppUnavailableError('unreadable reply', service);
    // Renew early so no request leaves with a token about to lapse: 5 min before, or at half a short lifetime.
    const marginMs = Math.min(300_000, (expiresIn * 1000) / 2);
    this.current = { token, renewAt: this.now() + expiresIn * 1000 - marginMs };
    return token;
  }
}

/** code2Session errcodes that mean the login code itself is bad: invalid, used, or a blocked high-risk user. */
const LOGIN_CODE_REFUSED = new Set([40029, 40163, 40226]);

/**
 * WeChat mini-program server API over HTTP:
 * - login: GET {base}/sns/jscode2session?appid&secret&js_code&grant_type=authorization_code → { openid } | { errcode };
 * - phone: POST {base}/wxa/business/getuserphonenumber?access_token → { phone_info }, the token from `tokens`
 *   (by default a cache of its own on the same base URL).
 */
export class HttpSuperAppLogin implements SuperAppLogin {
  readonly provider = 'superapp';
  /** The access-token cache; hand it to HttpMessageSender so the app holds one token. */
  readonly tokens: AccessTokenCache;

  constructor(private readonly opts: SuperAppOptions & { tokens?: AccessTokenCache }) {
    this.tokens = opts.tokens ?? new AccessTokenCache(opts);
  }

  /** 40029, 40163, 40226: `login_code_invalid`; any other errcode or failure: `superapp_unavailable`. */
  async exchange(loginCode: string): Promise<{ openId: string }> {
    const url = new URL(`${this.opts.baseUrl}/sns/jscode2session`);
    url.searchParams.set('appid', this.opts.appId);
    url.searchParams.set('secret', this.opts.appSecret);
    url.searchParams.set('js_code', loginCode);
    url.searchParams.set('grant_type', 'authorization_code');
    const service = 'login service';
    const reply = await callJson(url, undefined, { timeoutMs: this.opts.timeoutMs, service });
    const errcode = errcodeOf(reply);
    if (LOGIN_CODE_REFUSED.has(errcode)) throw new AppError('login_code_invalid');
    // -1 busy, 45011 rate limit, 40013 bad appid …: not the user's fault.
    if (errcode !== 0) throw new SuperAppUnavailableError(`errcode ${errcode}`, service);
    if (typeof reply.openid !== 'string' || reply.openid.length === 0)
      throw new SuperAppUnavailableError('unreadable reply', service);
    return { openId: reply.openid };
  }

  async phoneNumber(code: string): Promise<{ phone: string; countryCode: string }> {
    const service = 'phone-number service';
    const reply = await this.tokens.call((token) => {
      const url = new URL(`${this.opts.baseUrl}/wxa/business/getuserphonenumber`);
      url.searchParams.set('access_token', token);
      return callJson(url, { code }, { timeoutMs: this.opts.timeoutMs, service });
    });
    const errcode = errcodeOf(reply);
    if (errcode === 40029) throw new AppError('phone_code_invalid');
    if (errcode !== 0) throw new SuperAppUnavailableError(`errcode ${errcode}`, service);
    const info = reply.phone_info as
      { purePhoneNumber?: unknown; countryCode?: unknown; watermark?: { appid?: unknown } } | undefined;
    const phone = info?.purePhoneNumber;
    const countryCode = info?.countryCode;
    if (
      typeof phone !== 'string' ||
      !/^\d{4,20}$/.test(phone) ||
      (typeof countryCode !== 'string' && typeof countryCode !== 'number')
    )
      throw new SuperAppUnavailableError('unreadable reply', service);
    // The watermark binds the number to the app the code was issued for: another app's number is not ours to use.
    if (info?.watermark?.appid !== this.opts.appId)
      throw new AppError('phone_code_invalid', 'The phone-number code was issued for another app.');
    return { phone, countryCode: String(countryCode) };
  }
}

/**
 * Development only, no HTTP: `dev:<name>` logs in as the dev user <name>; phone code `dev:<digits>` is that phone
 * number. buildApp refuses it in production.
 */
export class DevSuperAppLogin implements SuperAppLogin {
  readonly provider = 'dev';
  async exchange(loginCode: string): Promise<{ openId: string }> {
    const m = /^dev:([\w.-]{1,64})$/.exec(loginCode);
    if (!m) throw new AppError('login_code_invalid', 'Dev login codes look like "dev:<name>".');
    return { openId: `dev-${m[1]}` };
  }

  async phoneNumber(code: string): Promise<{ phone: string; countryCode: string }> {
    const m = /^dev:(\d{4,20})$/.exec(code);
    if (!m) throw new AppError('phone_code_invalid', 'Dev phone-number codes look like "dev:<digits>".');
    return { phone: m[1]!, countryCode: '86' };
  }
}

/**
 * The super-app of `config.superApp`: over HTTP with its access-token cache when a base URL is set, else the dev
 * provider and no tokens (buildApp refuses that in production).
 */
export function createSuperApp(config: Omit<SuperAppOptions, 'baseUrl'> & { baseUrl: string | undefined }): {
  superApp: SuperAppLogin;
  tokens: AccessTokenCache | null;
} {
  const { baseUrl } = config;
  if (!baseUrl) return { superApp: new DevSuperAppLogin(), tokens: null };
  const superApp = new HttpSuperAppLogin({ ...config, baseUrl });
  return { superApp, tokens: superApp.tokens };
}
