import { ConfigError, type Config } from '../config.js';
import { HttpSmsSender, LogOnlySender, type SmsSender } from './notify.js';
import { DevLogSmsSender } from './sms-dev-log.js';
import { TencentSmsSender } from './sms-tencent.js';

export {
  DeliveryError,
  HttpSmsSender,
  LogOnlySender,
  type ExposureMessage,
  type SentMessage,
  type SmsSender,
} from './notify.js';
export {
  codeSmsText,
  DevLogSmsSender,
  exposureSmsText,
  secondaryExposureSmsText,
  type DevSmsLine,
} from './sms-dev-log.js';
export {
  mainlandE164,
  signTc3,
  tencentCodeRetryable,
  TencentSmsSender,
  type Tc3Input,
  type TencentSmsOptions,
} from './sms-tencent.js';

export const TENCENT_SMS_BASE_URL = 'https://sms.tencentcloudapi.com';

/**
 * The SMS sender the configuration names: Tencent Cloud SMS (`SMS_PROVIDER=tencent`), the generic JSON gateway
 * (`SMS_BASE_URL`), or, outside production without either, the development log file `notify.devSmsLogFile`.
 * `log` receives one line about the choice and, later, refused credentials and development sends (masked
 * numbers, never secrets). Throws ConfigError in production without a provider, and for Tencent without its
 * settings.
 */
export function createSmsSender(config: Config, log: (msg: string) => void): SmsSender {
  const { notify } = config;
  const common = { timeoutMs: notify.timeoutMs, timeZone: config.timeZone };
  if (notify.smsProvider === 'tencent') {
    const t = notify.tencentSms;
    const missing = Object.entries({
      TENCENT_SMS_SECRET_ID: t.secretId,
      TENCENT_SMS_SECRET_KEY: t.secretKey,
      TENCENT_SMS_APP_ID: t.appId,
      TENCENT_SMS_SIGN_NAME: t.signName,
      TENCENT_SMS_EXPOSURE_TEMPLATE_ID: t.exposureTemplateId,
      TENCENT_SMS_OTP_TEMPLATE_ID: t.otpTemplateId,
    })
      .filter(([, value]) => !value)
      .map(([name]) => name);
    if (missing.length) throw new ConfigError(`SMS_PROVIDER=tencent needs ${missing.join(', ')}`);
    log(`SMS through Tencent Cloud SendSms (${t.region})`);
    if (!t.secondaryTemplateId)
      log('TENCENT_SMS_SECONDARY_TEMPLATE_ID is not set: SMS to secondary contacts (degree 2) will fail');
    return new TencentSmsSender({ ...t, ...common, baseUrl: notify.smsBaseUrl ?? TENCENT_SMS_BASE_URL, log });
  }
  if (notify.smsBaseUrl) {
    log('SMS through the generic gateway');
    return new HttpSmsSender({ ...common, baseUrl: notify.smsBaseUrl, apiKey: notify.smsApiKey });
  }
  if (config.mode === 'production') {
    throw new ConfigError('production needs an SMS provider (SMS_BASE_URL, or SMS_PROVIDER=tencent)');
  }
  if (!notify.devSmsLogFile) {
    log('no SMS provider: SMS are dropped (only logged)');
    return new LogOnlySender(log);
  }
  log(`no SMS provider: SMS are appended to ${notify.devSmsLogFile}`);
  return new DevLogSmsSender({ file: notify.devSmsLogFile, timeZone: config.timeZone, log });
}
