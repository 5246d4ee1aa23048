import { maskPhone } from '@ridetrace/shared';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  DeliveryError,
  localTime,
  type ExposureMessage,
  type SentMessage,
  type SmsSender,
} from './notify.js';

/** One line of the development SMS log. */
export interface DevSmsLine {
  /** ISO time of sending. */
  at: string;
  phone: string;
  kind: 'exposure' | 'secondary_exposure' | 'code';
  /** The text a phone would show. */
  text: string;
  /** The one-time code, for kind `code`. */
  code?: string;
}

/** The text of an exposure notice (the providers' templates hold theirs; this is for the development log). */
export function exposureSmsText(msg: ExposureMessage, timeZone: string): string {
  const vehicle = `${msg.plate}${msg.route ? ` ${msg.route}` : ''}`;
  const boarded = localTime(msg.boardedAt, timeZone).minute;
  const until = localTime(msg.observeUntil, timeZone).date;
  return `【RideTrace】您于 ${boarded} 乘坐 ${vehicle} 时曾与确诊病例同乘，请居家观察至 ${until}。`;
}

/** The text of a secondary-contact (degree 2) notice, as exposureSmsText. */
export function secondaryExposureSmsText(msg: ExposureMessage, timeZone: string): string {
  const vehicle = `${msg.plate}${msg.route ? ` ${msg.route}` : ''}`;
  const boarded = localTime(msg.boardedAt, timeZone).minute;
  const until = localTime(msg.observeUntil, timeZone).date;
  return `【RideTrace】您于 ${boarded} 乘坐 ${vehicle} 时曾与一名密切接触者同乘，请留意自身健康状况至 ${until}，如有发热、咳嗽等症状请及时就医。`;
}

export function codeSmsText(code: string, ttlMinutes: number): string {
  return `【RideTrace】验证码 ${code}，${ttlMinutes} 分钟内有效，请勿告诉他人。`;
}

/**
 * Development without an SMS provider: each SMS is appended to `file` as one JSON line (DevSmsLine), so a
 * developer or a browser test can read the code. createSmsSender never builds it in production.
 */
export class DevLogSmsSender implements SmsSender {
  private dirReady: Promise<unknown> | null = null;

  constructor(
    private readonly opts: {
      file: string;
      timeZone: string;
      log: (msg: string) => void;
      now?: () => Date;
    },
  ) {}

  async send(phone: string, msg: ExposureMessage): Promise<SentMessage> {
    const { timeZone } = this.opts;
    await this.append(
      msg.degree === 2
        ? { phone, kind: 'secondary_exposure', text: secondaryExposureSmsText(msg, timeZone) }
        : { phone, kind: 'exposure', text: exposureSmsText(msg, timeZone) },
    );
    return {};
  }

  sendCode(phone: string, code: string, ttlMinutes: number): Promise<void> {
    return this.append({ phone, kind: 'code', text: codeSmsText(code, ttlMinutes), code });
  }

  private async append(sms: Omit<DevSmsLine, 'at'>): Promise<void> {
    const { file } = this.opts;
    const line: DevSmsLine = { at: (this.opts.now?.() ?? new Date()).toISOString(), ...sms };
    try {
      this.dirReady ??= mkdir(path.dirname(file), { recursive: true });
      await this.dirReady;
      await appendFile(file, `${JSON.stringify(line)}\n`, 'utf8');
    } catch (err) {
      // A later send tries to create the directory again (it may have been removed meanwhile).
      this.dirReady = null;
      const code = (err as { code?: unknown }).code;
      throw new DeliveryError(
        `development SMS log: ${typeof code === 'string' ? code : 'write failed'}`,
        true,
      );
    }
    this.opts.log(`development SMS (${sms.kind}) to ${maskPhone(sms.phone)} appended to ${file}`);
  }
}
