import type { Consent } from '@ridetrace/shared';
import { createHash } from 'node:crypto';

/**
 * What the consent text says that a deployment sets (CONSENT_CONTROLLER, CONSENT_CONTACT, RETENTION_DAYS,
 * PASSENGER_INACTIVE_DAYS).
 */
export interface ConsentFacts {
  readonly controller: string;
  readonly contact: string;
  readonly retentionDays: number;
  readonly inactiveDays: number;
}

/** The configuration the served consent comes from (config.ts's Config has this shape). */
export interface ConsentConfig {
  readonly consentVersion: string;
  readonly consent: { readonly controller: string; readonly contact: string };
  readonly rides: { readonly retentionDays: number };
  readonly lifetimes: { readonly passengerInactiveDays: number };
}

/** The consent text in both languages, built from the deployment's facts. */
export function renderConsentText(f: ConsentFacts): Consent['text'] {
  return {
    'zh-CN':
      `为配合传染病疫情防控，${f.controller}（个人信息处理者）通过本服务记录您乘坐的交通工具（车辆、线路、上车时间）` +
      '以及您的姓名、手机号和（可选）证件号码。信息加密存储，仅在确诊病例的密切接触者追踪中由卫生健康部门使用，' +
      `不用于其他目的；乘车记录保存 ${f.retentionDays} 天后自动销毁，连续 ${f.inactiveDays} 天没有乘车记录时删除您的身份信息。` +
      `您可以随时在“设置”中查看、导出或删除您的数据。如有疑问，请联系：${f.contact}。`,
    en:
      `To support infectious-disease control, ${f.controller} (the data controller) records through this service ` +
      'the vehicles you ride (vehicle, route, boarding time) together with your name, phone number and (optionally) ' +
      'ID document number. The data are stored encrypted and used only by health authorities to trace close ' +
      `contacts of confirmed cases, for no other purpose; ride records are destroyed after ${f.retentionDays} days, ` +
      `and your identity is deleted after ${f.inactiveDays} days without a ride. ` +
      `You can view, export or delete your data at any time in Settings. Questions: ${f.contact}.`,
  };
}

/**
 * The version passengers consent to: the operator's CONSENT_VERSION and 8 hex digits of a hash of the rendered text.
 * Any change of the text (wording, controller, contact, retention) changes the version by itself, so every passenger
 * is asked again on the next scan; nobody has to remember to raise CONSENT_VERSION.
 */
export function consentVersionOf(base: string, text: Consent['text']): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([text['zh-CN'], text.en]))
    .digest('hex');
  return `${base}.${digest.slice(0, 8)}`;
}

/** The current consent text and its version (GET /v1/consent); config.ts derived the version from this text. */
export function consentText(config: ConsentConfig): Consent {
  return {
    version: config.consentVersion,
    text: renderConsentText({
      ...config.consent,
      retentionDays: config.rides.retentionDays,
      inactiveDays: config.lifetimes.passengerInactiveDays,
    }),
  };
}
