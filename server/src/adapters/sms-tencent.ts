import { normalizePhone } from '@ridetrace/shared';
import { createHash, createHmac } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import {
  DeliveryError,
  localTime,
  sentMessage,
  type ExposureMessage,
  type SentMessage,
  type SmsSender,
} from './notify.js';

/** The content type we send and sign; the signed value must equal the header byte for byte. */
const CONTENT_TYPE = 'application/json; charset=utf-8';

export interface Tc3Input {
  secretId: string;
  secretKey: string;
  /** Tencent Cloud product: `sms`. */
  service: string;
  /** The Host header as sent (host, with the port when it is not the scheme's default). */
  host: string;
  /** The exact request body. */
  payload: string;
  /** X-TC-Timestamp: Unix seconds; its UTC date is the credential date. */
  timestamp: number;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * The Authorization header of a Tencent Cloud API v3 POST (TC3-HMAC-SHA256) signing `content-type` and `host`:
 * canonical request → string to sign → SecretDate/SecretService/SecretSigning → hex signature.
 */
export function signTc3(input: Tc3Input): string {
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10);
  const signedHeaders = 'content-type;host';
  const canonicalRequest = [
    'POST',
    '/',
    '',
    `content-type:${CONTENT_TYPE}\nhost:${input.host.toLowerCase()}\n`,
    signedHeaders,
    sha256Hex(input.payload),
  ].join('\n');
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(input.timestamp), scope, sha256Hex(canonicalRequest)].join(
    '\n',
  );
  const secretDate = hmac(`TC3${input.secretKey}`, date);
  const secretService = hmac(secretDate, input.service);
  const secretSigning = hmac(secretService, 'tc3_request');
  const signature = createHmac('sha256', secretSigning).update(stringToSign, 'utf8').digest('hex');
  return `TC3-HMAC-SHA256 Credential=${input.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

const RETRYABLE_CODE = /^(LimitExceeded|RequestLimitExceeded|InternalError)(\.|$)|^ServiceUnavailable$/;

/**
 * Whether a SendSms error code (per number or for the whole request) may succeed later: frequency limits and
 * Tencent's internal errors do; a wrong number, a blacklisted one, refused credentials or settings do not.
 */
export function tencentCodeRetryable(code: string): boolean {
  return RETRYABLE_CODE.test(code) || /(^|\.)RequestTimeException$/.test(code);
}

/** E.164 of a stored mainland mobile number; anything else cannot be sent (and is never echoed). */
export function mainlandE164(phone: string): string {
  const digits = normalizePhone(phone);
  if (!/^1\d{10}$/.test(digits)) throw new DeliveryError('not a mainland mobile number', false);
  return `+86${digits}`;
}

interface SendSmsReply {
  Response?: {
    SendStatusSet?: { PhoneNumber?: string; Code?: string; Message?: string; SerialNo?: string }[];
    Error?: { Code?: string; Message?: string };
    RequestId?: string;
  };
}

export interface TencentSmsOptions {
  /** https://sms.tencentcloudapi.com, or a fake in tests. */
  baseUrl: string;
  secretId: string;
  secretKey: string;
  /** SmsSdkAppId. */
  appId: string;
  signName: string;
  region: string;
  /** Parameters: time, vehicle, until. */
  exposureTemplateId: string;
  /** Secondary contacts (degree 2); parameters as the exposure template. Unset: their SMS fail, not retried. */
  secondaryTemplateId?: string;
  /** Parameters: code, minutes. */
  otpTemplateId: string;
  timeoutMs: number;
  timeZone: string;
  /** Refused credentials or settings are reported here (codes only: never secrets or numbers). */
  log?: (msg: string) => void;
  /** Clock of X-TC-Timestamp. */
  now?: () => Date;
}

/**
 * Tencent Cloud SMS `SendSms` (API 2021-01-11) over keep-alive connections, one number per request; a sent message
 * is named by its `SerialNo`, as Tencent's status callbacks (`sid`) name it.
 */
export class TencentSmsSender implements SmsSender {
  private pool: Pool | null = null;
  private url: URL | null = null;

  constructor(private readonly opts: TencentSmsOptions) {}

  send(phone: string, msg: ExposureMessage): Promise<SentMessage> {
    const { timeZone, secondaryTemplateId } = this.opts;
    let templateId = this.opts.exposureTemplateId;
    if (msg.degree === 2) {
      // Never the exposure text instead: it would tell a secondary contact they rode with a case.
      if (!secondaryTemplateId)
        return Promise.reject(
          new DeliveryError(
            'Tencent SMS: no secondary-contact template (TENCENT_SMS_SECONDARY_TEMPLATE_ID)',
            false,
          ),
        );
      templateId = secondaryTemplateId;
    }
    return this.sendSms(phone, templateId, [
      localTime(msg.boardedAt, timeZone).minute,
      msg.plate,
      localTime(msg.observeUntil, timeZone).date,
    ]);
  }

  async sendCode(phone: string, code: string, ttlMinutes: number): Promise<void> {
    await this.sendSms(phone, this.opts.otpTemplateId, [code, String(ttlMinutes)]);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  private async sendSms(phone: string, templateId: string, params: string[]): Promise<SentMessage> {
    const payload = JSON.stringify({
      PhoneNumberSet: [mainlandE164(phone)],
      SmsSdkAppId: this.opts.appId,
      SignName: this.opts.signName,
      TemplateId: templateId,
      TemplateParamSet: params,
    });
    const res = await this.post(payload);
    if (res.statusCode >= 400) {
      await res.body.dump().catch(() => undefined);
      throw new DeliveryError(
        `Tencent SMS status ${res.statusCode}`,
        res.statusCode >= 500 || res.statusCode === 429,
      );
    }
    const reply = (await res.body.json().catch(() => null)) as SendSmsReply | null;
    const r = reply?.Response;
    if (r?.Error) throw this.refused(r.Error.Code, r.RequestId);
    const status = r?.SendStatusSet?.[0];
    if (!status) throw new DeliveryError('Tencent SMS reply without a send status', true);
    if (status.Code !== 'Ok') throw this.refused(status.Code, r.RequestId);
    return sentMessage(status.SerialNo);
  }

  private async post(payload: string): Promise<Dispatcher.ResponseData> {
    try {
      // Opened on first use: a malformed URL fails each delivery (retryable) instead of the start.
      if (!this.pool || !this.url) {
        this.url = new URL(this.opts.baseUrl);
        this.pool = new Pool(this.url.origin);
      }
      const { secretId, secretKey, region } = this.opts;
      const timestamp = Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000);
      return await this.pool.request({
        method: 'POST',
        path: `${this.url.pathname.replace(/\/+$/, '')}/`,
        headers: {
          'content-type': CONTENT_TYPE,
          'x-tc-action': 'SendSms',
          'x-tc-version': '2021-01-11',
          'x-tc-region': region,
          'x-tc-timestamp': String(timestamp),
          authorization: signTc3({
            secretId,
            secretKey,
            service: 'sms',
            host: this.url.host,
            payload,
            timestamp,
          }),
        },
        body: payload,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { code?: unknown };
      throw new DeliveryError(`network: ${typeof e.code === 'string' ? e.code : e.name}`, true);
    }
  }

  private refused(rawCode: string | undefined, requestId: string | undefined): DeliveryError {
    // The code is echoed into logs and the outbox: only a well-formed one, never Tencent's free-text message.
    const code = rawCode && /^[\w.]{1,100}$/.test(rawCode) ? rawCode : 'UnknownCode';
    if (/^(AuthFailure|UnauthorizedOperation)(\.|$)/.test(code)) {
      this.opts.log?.(`Tencent SMS refused our credentials or settings (${code}): check TENCENT_SMS_*`);
    }
    const request = requestId && /^[\w-]{1,64}$/.test(requestId) ? ` (request ${requestId})` : '';
    return new DeliveryError(`Tencent SMS ${code}${request}`, tencentCodeRetryable(code));
  }
}
