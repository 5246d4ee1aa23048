/**
 * SMS providers behind SmsSender: Tencent Cloud SendSms (TC3-HMAC-SHA256, checked by a fake that verifies the
 * signature), the generic JSON gateway, the development log file, and createSmsSender choosing among them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  type Config,
  createSmsSender,
  DevLogSmsSender,
  HttpSmsSender,
  TencentSmsSender,
  type DevSmsLine,
  type TencentSmsOptions,
} from '@ridetrace/server';
import { LogOnlySender, signTc3 } from '@ridetrace/server/testing';
import { startFakeGateway, type FakeGateway } from '../support/fake-notify.js';
import {
  startFakeTencentSms,
  TEST_TENCENT_ACCOUNT,
  type FakeTencentSms,
} from '../support/fake-sms-providers.js';
import { deliveryFailure, SAMPLE_EXPOSURE } from '../support/delivery.js';

const MSG = SAMPLE_EXPOSURE;
const PHONE = '13800001234';
const EXPOSURE_TEMPLATE = '100001';
const OTP_TEMPLATE = '100002';

describe('TC3-HMAC-SHA256 signing', () => {
  // Expected: Tencent's own SendSms demo (TencentCloud/signature-process-demo, python) on the same inputs.
  const base = {
    secretId: TEST_TENCENT_ACCOUNT.secretId,
    secretKey: TEST_TENCENT_ACCOUNT.secretKey,
    service: 'sms',
    host: 'sms.tencentcloudapi.com',
  };

  it('matches Tencent reference signatures (ASCII and UTF-8 bodies)', () => {
    expect(
      signTc3({
        ...base,
        timestamp: 1763685000,
        payload:
          '{"PhoneNumberSet":["+8613800001234"],"SmsSdkAppId":"1400000001","SignName":"RideTrace","TemplateId":"100002","TemplateParamSet":["123456","10"]}',
      }),
    ).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDtestRideTrace000000000000000000/2025-11-21/sms/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=5b2bff30fb6602f08e4533152553d9fc2c54f09921eebc7eaddd76774eb4efe4',
    );
    expect(
      signTc3({
        ...base,
        timestamp: 1795739400,
        payload:
          '{"PhoneNumberSet":["+8613800001234"],"SmsSdkAppId":"1400000001","SignName":"乘车登记","TemplateId":"100001","TemplateParamSet":["2026-11-21 08:30","粤B12345","2026-12-05"]}',
      }),
    ).toMatch(/, Signature=370dc86c7516987165c54f60255f57c5a4edd3498d55e8ae0e53495192e7de56$/);
  });
});

describe('TencentSmsSender against a fake SendSms that verifies signatures', () => {
  let fake: FakeTencentSms;
  const logs: string[] = [];
  const errors: string[] = [];
  const senders: TencentSmsSender[] = [];

  function sender(over: Partial<TencentSmsOptions> = {}): TencentSmsSender {
    const s = new TencentSmsSender({
      baseUrl: fake.baseUrl,
      secretId: TEST_TENCENT_ACCOUNT.secretId,
      secretKey: TEST_TENCENT_ACCOUNT.secretKey,
      appId: TEST_TENCENT_ACCOUNT.appId,
      signName: TEST_TENCENT_ACCOUNT.signName,
      region: 'ap-guangzhou',
      exposureTemplateId: EXPOSURE_TEMPLATE,
      otpTemplateId: OTP_TEMPLATE,
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
      log: (m) => logs.push(m),
      ...over,
    });
    senders.push(s);
    return s;
  }

  async function refusal(p: Promise<unknown>) {
    const f = await deliveryFailure(p);
    errors.push(f.message);
    return f;
  }

  beforeAll(async () => {
    fake = await startFakeTencentSms();
  });
  afterAll(async () => {
    await Promise.all(senders.map((s) => s.close()));
    await fake?.close();
  });

  it('delivers an exposure notice: +86 number, exposure template, time / vehicle / until; its SerialNo', async () => {
    const accepted = await sender().send(PHONE, MSG);
    expect(fake.sent.at(-1)).toEqual({
      phone: '+8613800001234',
      templateId: EXPOSURE_TEMPLATE,
      params: ['2026-11-21 08:30', '粤B12345', '2026-12-05'],
      region: 'ap-guangzhou',
      answered: 'Ok',
      serialNo: expect.stringMatching(/^2433:\d+$/),
    });
    // Tencent's status callbacks name the message by this SerialNo (`sid`).
    expect(accepted).toEqual({ messageId: fake.sent.at(-1)?.serialNo });
  });

  it('delivers a one-time code with the code template: code, minutes', async () => {
    await sender().sendCode('+86 138-0000-1234', '482913', 10);
    expect(fake.sent.at(-1)).toMatchObject({
      phone: '+8613800001234',
      templateId: OTP_TEMPLATE,
      params: ['482913', '10'],
    });
  });

  it('a wrong secret fails the signature: not retryable, reported without the secret', async () => {
    const sent = fake.sent.length;
    const wrongKey = `wrong-${randomBytes(8).toString('hex')}`;
    const f = await refusal(sender({ secretKey: wrongKey }).sendCode(PHONE, '111111', 10));
    expect(f).toEqual({
      message: expect.stringMatching(/^Tencent SMS AuthFailure\.SignatureFailure /),
      retryable: false,
    });
    expect(fake.refused.at(-1)).toBe('AuthFailure.SignatureFailure');
    expect(fake.sent.length).toBe(sent);
    expect(logs.at(-1)).toContain('AuthFailure.SignatureFailure');
    expect(logs.join('\n')).not.toContain(wrongKey);
  });

  it('an unknown SecretId and a clock off by ten minutes are refused too', async () => {
    expect(await refusal(sender({ secretId: 'AKIDunknown' }).send(PHONE, MSG))).toMatchObject({
      message: expect.stringContaining('AuthFailure.SecretIdNotFound'),
      retryable: false,
    });
    const late = sender({ now: () => new Date(Date.now() - 10 * 60_000) });
    expect(await refusal(late.send(PHONE, MSG))).toMatchObject({
      message: expect.stringContaining('AuthFailure.SignatureExpire'),
      retryable: false,
    });
  });

  it.each([
    ['LimitExceeded.PhoneNumberThirtySecondLimit', true],
    ['LimitExceeded.PhoneNumberOneHourLimit', true],
    ['LimitExceeded.PhoneNumberDailyLimit', true],
    ['LimitExceeded.DeliveryFrequencyLimit', true],
    ['InternalError.Timeout', true],
    ['InternalError.RequestTimeException', true],
    ['InvalidParameterValue.IncorrectPhoneNumber', false],
    ['FailedOperation.PhoneNumberInBlacklist', false],
    ['FailedOperation.InsufficientBalanceInSmsPackage', false],
    ['UnauthorizedOperation.SmsSdkAppIdVerifyFail', false],
    ['AuthFailure.SecretIdNotFound', false],
  ])('per-number code %s: retryable %s', async (code, retryable) => {
    fake.codes.set('+8613800001234', code);
    try {
      const f = await refusal(sender().sendCode(PHONE, '222222', 5));
      expect(f).toEqual({
        message: expect.stringMatching(`^Tencent SMS ${code} \\(request fake-\\d+\\)$`),
        retryable,
      });
    } finally {
      fake.codes.clear();
    }
  });

  it.each([
    ['InternalError', true],
    ['RequestLimitExceeded', true],
    ['LimitExceeded', true],
    ['FailedOperation.ContainSensitiveWord', false],
    ['UnsupportedOperation', false],
  ])('request-level error %s: retryable %s', async (code, retryable) => {
    fake.nextError = code;
    expect(await refusal(sender().send(PHONE, MSG))).toMatchObject({ retryable });
    expect(fake.refused.at(-1)).toBe(code);
  });

  it('wrong SmsSdkAppId, SignName or TemplateId: refused, not retryable', async () => {
    const cases: [Partial<TencentSmsOptions>, string][] = [
      [{ appId: '1400999999' }, 'InvalidParameterValue.SdkAppIdNotExist'],
      [{ signName: '别的签名' }, 'FailedOperation.SignatureIncorrectOrUnapproved'],
      [{ otpTemplateId: '999999' }, 'FailedOperation.TemplateIncorrectOrUnapproved'],
    ];
    for (const [over, code] of cases) {
      const f = await refusal(sender(over).sendCode(PHONE, '333333', 5));
      expect(f, code).toMatchObject({ message: expect.stringContaining(code), retryable: false });
    }
  });

  it('a number that is not a mainland mobile is refused before any request, and not echoed', async () => {
    const before = fake.sent.length + fake.refused.length;
    const f = await refusal(sender().sendCode('+1 415 555 0100', '444444', 5));
    expect(f).toEqual({ message: 'not a mainland mobile number', retryable: false });
    expect(fake.sent.length + fake.refused.length).toBe(before);
  });

  it('never puts the secret key or a full number into errors or log lines', () => {
    const said = [...errors, ...logs].join('\n');
    expect(errors.length).toBeGreaterThan(10);
    expect(said).not.toContain(TEST_TENCENT_ACCOUNT.secretKey);
    expect(said).not.toContain(PHONE);
    expect(said).not.toContain('4155550100');
  });
});

describe('TencentSmsSender transport failures', () => {
  it('a refused connection, 5xx and an unreadable 200 are retryable; 4xx is not', async () => {
    let answer: [number, string] = [503, 'busy'];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(answer[0], { 'content-type': 'text/plain' }).end(answer[1]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const options = (baseUrl: string): TencentSmsOptions => ({
      baseUrl,
      ...TEST_TENCENT_ACCOUNT,
      region: 'ap-guangzhou',
      exposureTemplateId: EXPOSURE_TEMPLATE,
      otpTemplateId: OTP_TEMPLATE,
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
    });
    const sms = new TencentSmsSender(options(`http://127.0.0.1:${port}`));
    try {
      expect(await deliveryFailure(sms.sendCode(PHONE, '555555', 5))).toEqual({
        message: 'Tencent SMS status 503',
        retryable: true,
      });
      answer = [200, 'not json'];
      expect(await deliveryFailure(sms.sendCode(PHONE, '555555', 5))).toMatchObject({ retryable: true });
      answer = [403, 'forbidden'];
      expect(await deliveryFailure(sms.sendCode(PHONE, '555555', 5))).toEqual({
        message: 'Tencent SMS status 403',
        retryable: false,
      });
    } finally {
      await sms.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    }
    // The port is free now: nothing listens.
    const gone = new TencentSmsSender(options(`http://127.0.0.1:${port}`));
    expect(await deliveryFailure(gone.sendCode(PHONE, '555555', 5))).toEqual({
      message: 'network: ECONNREFUSED',
      retryable: true,
    });
    await gone.close();
  });
});

describe('generic gateway (HttpSmsSender) one-time codes', () => {
  let gw: FakeGateway;
  let sms: HttpSmsSender;
  beforeAll(async () => {
    gw = await startFakeGateway('sms');
    sms = new HttpSmsSender({
      baseUrl: gw.baseUrl,
      apiKey: 'k-otp',
      timeoutMs: 2000,
      timeZone: 'Asia/Shanghai',
    });
  });
  afterAll(async () => {
    await sms?.close();
    await gw?.close();
  });

  it('posts the ridetrace_otp template with code and minutes, bearer key', async () => {
    await sms.sendCode(PHONE, '901234', 10);
    const got = gw.received.at(-1)!;
    expect(got.path).toBe('/sms/send');
    expect(got.headers.authorization).toBe('Bearer k-otp');
    expect(got.body).toEqual({
      phone: PHONE,
      template: 'ridetrace_otp',
      params: { code: '901234', minutes: '10' },
    });
  });

  it('maps failures as for exposure notices: 5xx retryable, 4xx not', async () => {
    gw.failFirst = gw.calls + 1;
    expect(await deliveryFailure(sms.sendCode(PHONE, '901234', 10))).toEqual({
      message: 'SMS gateway status 500',
      retryable: true,
    });
    gw.rejectAll = true;
    try {
      expect(await deliveryFailure(sms.sendCode(PHONE, '901234', 10))).toEqual({
        message: 'SMS gateway status 400',
        retryable: false,
      });
    } finally {
      gw.rejectAll = false;
    }
  });
});

describe('createSmsSender and the development log file', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ridetrace-sms-'));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const devConfig = (env: Record<string, string> = {}): Config =>
    loadConfig({ NODE_ENV: 'development', RIDETRACE_ROOT: root, RIDETRACE_DATA_DIR: 'nested/.data', ...env });

  const productionEnv = {
    NODE_ENV: 'production',
    RIDETRACE_ROOT: '/nonexistent',
    RIDETRACE_MASTER_KEY: randomBytes(32).toString('base64'),
    DATABASE_URL: 'postgres://127.0.0.1:1/rt',
    PUBLIC_BASE_URL: 'https://rt.example.cn',
    SUPERAPP_BASE_URL: 'https://superapp.example.cn',
    SUPERAPP_APP_ID: 'wx-app',
    SUPERAPP_APP_SECRET: 'app-secret',
    SMS_BASE_URL: 'https://sms.example.cn',
    SMS_API_KEY: 'sms-key',
    CONSENT_CONTROLLER: '深圳市交通运输局',
    CONSENT_CONTACT: 'privacy@rt.example.cn',
    AUDIT_CHECKPOINT_SECONDS: '0',
  };

  it('development without a provider: one JSON line per SMS, in a directory it creates', async () => {
    const config = devConfig();
    const file = path.join(root, 'nested', '.data', 'dev-sms.log');
    expect(config.notify.devSmsLogFile).toBe(file);
    const logs: string[] = [];
    const sms = createSmsSender(config, (m) => logs.push(m));
    expect(sms).toBeInstanceOf(DevLogSmsSender);

    await sms.sendCode(PHONE, '735102', 10);
    await sms.send(PHONE, MSG);
    const lines = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as DevSmsLine);
    expect(lines).toEqual([
      {
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        phone: PHONE,
        kind: 'code',
        text: expect.stringContaining('735102'),
        code: '735102',
      },
      {
        at: expect.any(String),
        phone: PHONE,
        kind: 'exposure',
        text: expect.stringMatching(/2026-11-21 08:30.*粤B12345 36路.*2026-12-05/),
      },
    ]);
    expect(lines[0]!.text).toContain('10 分钟');
    // The process log tells where the SMS went, with a masked number and no code.
    expect(logs[0]).toContain(file);
    expect(logs.slice(1)).toEqual([
      expect.stringContaining('138****1234'),
      expect.stringContaining('138****1234'),
    ]);
    expect(logs.join('\n')).not.toMatch(/13800001234|735102/);
  });

  it('production without a provider is refused, whatever the log file setting', () => {
    const prod = loadConfig(productionEnv);
    expect(prod.notify.devSmsLogFile).toBeUndefined();
    expect(createSmsSender(prod, () => undefined)).toBeInstanceOf(HttpSmsSender);
    const noProvider: Config = { ...prod, notify: { ...prod.notify, smsBaseUrl: undefined } };
    expect(() => createSmsSender(noProvider, () => undefined)).toThrowError(ConfigError);
    const withFile: Config = {
      ...noProvider,
      notify: { ...noProvider.notify, devSmsLogFile: path.join(root, 'prod-sms.log') },
    };
    expect(() => createSmsSender(withFile, () => undefined)).toThrowError(/SMS provider/);
  });

  it('picks the generic gateway for SMS_BASE_URL, and log-only without a log file', () => {
    expect(
      createSmsSender(devConfig({ SMS_BASE_URL: 'http://127.0.0.1:9' }), () => undefined),
    ).toBeInstanceOf(HttpSmsSender);
    const c = devConfig();
    const logOnly = createSmsSender(
      { ...c, notify: { ...c.notify, devSmsLogFile: undefined } },
      () => undefined,
    );
    expect(logOnly).toBeInstanceOf(LogOnlySender);
  });

  it('SMS_PROVIDER=tencent from the environment: signed requests the fake accepts', async () => {
    const fake = await startFakeTencentSms();
    const sms = createSmsSender(
      devConfig({
        SMS_PROVIDER: 'tencent',
        SMS_BASE_URL: fake.baseUrl,
        TENCENT_SMS_SECRET_ID: TEST_TENCENT_ACCOUNT.secretId,
        TENCENT_SMS_SECRET_KEY: TEST_TENCENT_ACCOUNT.secretKey,
        TENCENT_SMS_APP_ID: TEST_TENCENT_ACCOUNT.appId,
        TENCENT_SMS_SIGN_NAME: TEST_TENCENT_ACCOUNT.signName,
        TENCENT_SMS_REGION: 'ap-shanghai',
        TENCENT_SMS_EXPOSURE_TEMPLATE_ID: EXPOSURE_TEMPLATE,
        TENCENT_SMS_OTP_TEMPLATE_ID: OTP_TEMPLATE,
      }),
      () => undefined,
    );
    try {
      expect(sms).toBeInstanceOf(TencentSmsSender);
      await sms.sendCode(PHONE, '660066', 10);
      expect(fake.sent).toEqual([
        {
          phone: '+8613800001234',
          templateId: OTP_TEMPLATE,
          params: ['660066', '10'],
          region: 'ap-shanghai',
          answered: 'Ok',
          serialNo: expect.any(String),
        },
      ]);
    } finally {
      await sms.close?.();
      await fake.close();
    }
  });

  it('SMS_PROVIDER=tencent without its settings: a ConfigError naming them, not their values', () => {
    const config = devConfig({ SMS_PROVIDER: 'tencent', TENCENT_SMS_SECRET_ID: 'AKIDpresent' });
    expect(config.notify.smsBaseUrl).toBe('https://sms.tencentcloudapi.com');
    expect(() => createSmsSender(config, () => undefined)).toThrowError(
      'SMS_PROVIDER=tencent needs TENCENT_SMS_SECRET_KEY, TENCENT_SMS_APP_ID, TENCENT_SMS_SIGN_NAME, ' +
        'TENCENT_SMS_EXPOSURE_TEMPLATE_ID, TENCENT_SMS_OTP_TEMPLATE_ID',
    );
  });
});
