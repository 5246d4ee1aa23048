import { AppError } from '../errors.js';

/** The super-app's login API: exchanges the mini-program's one-time login code for a stable user id. */
export interface SuperAppLogin {
  readonly provider: string;
  exchange(loginCode: string): Promise<{ openId: string }>;
}

interface Code2SessionReply {
  openid?: string;
  session_key?: string;
  unionid?: string;
  errcode?: number;
  errmsg?: string;
}

/**
 * WeChat `code2Session`-style HTTP adapter:
 * GET {baseUrl}/sns/jscode2session?appid&secret&js_code&grant_type=authorization_code → { openid } | { errcode }.
 */
export class HttpSuperAppLogin implements SuperAppLogin {
  readonly provider = 'superapp';
  constructor(
    private readonly opts: { baseUrl: string; appId: string; appSecret: string; timeoutMs: number },
  ) {}

  async exchange(loginCode: string): Promise<{ openId: string }> {
    const url = new URL(`${this.opts.baseUrl}/sns/jscode2session`);
    url.searchParams.set('appid', this.opts.appId);
    url.searchParams.set('secret', this.opts.appSecret);
    url.searchParams.set('js_code', loginCode);
    url.searchParams.set('grant_type', 'authorization_code');
    let reply: Code2SessionReply;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs) });
      if (res.status >= 500) throw new Error(`status ${res.status}`);
      reply = (await res.json()) as Code2SessionReply;
    } catch {
      throw new AppError('upstream_unavailable', 'The super-app login service did not answer; retry later.');
    }
    if (reply.errcode === -1) {
      throw new AppError('upstream_unavailable', 'The super-app login service is busy; retry later.');
    }
    if (reply.errcode || typeof reply.openid !== 'string' || reply.openid.length === 0) {
      throw new AppError('login_code_invalid');
    }
    return { openId: reply.openid };
  }
}

/**
 * Development only: `dev:<name>` logs in as the dev user <name>. buildApp refuses it in production.
 */
export class DevSuperAppLogin implements SuperAppLogin {
  readonly provider = 'dev';
  async exchange(loginCode: string): Promise<{ openId: string }> {
    const m = /^dev:([\w.-]{1,64})$/.exec(loginCode);
    if (!m) throw new AppError('login_code_invalid', 'Dev login codes look like "dev:<name>".');
    return { openId: `dev-${m[1]}` };
  }
}
