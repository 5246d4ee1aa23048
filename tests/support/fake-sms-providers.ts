import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeReceipts, type FakeReceipts } from './fake-receipts.js';

/** What the fake Tencent account holds; a request signed or addressed otherwise is refused as Tencent would. */
export interface FakeTencentAccount {
  secretId: string;
  secretKey: string;
  appId: string;
  signName: string;
  /** Template ids the account has approved. */
  templateIds: string[];
}

export const TEST_TENCENT_ACCOUNT: FakeTencentAccount = {
  secretId: 'AKIDtestRideTrace000000000000000000',
  secretKey: 'test-tencent-secret-key-0000000000',
  appId: '1400000001',
  signName: 'RideTrace',
  templateIds: ['100001', '100002'],
};

/** One SendSms request the fake authenticated, and the per-number code it answered. */
export interface TencentSms {
  phone: string;
  templateId: string;
  params: string[];
  region: string;
  answered: string;
  /** The SerialNo its status named it by. */
  serialNo: string;
}

/**
 * Fake Tencent Cloud SMS `SendSms` (2021-01-11) on 127.0.0.1 over real HTTP. It checks the TC3-HMAC-SHA256
 * signature with the account's secret (its own implementation of Tencent's documented steps, not the server's),
 * the timestamp, SmsSdkAppId, SignName and TemplateId. `codes` sets the per-number answer by E.164 number
 * (default `Ok`); `nextError` makes the next request fail as a whole with that code. Each status names its message
 * by a `SerialNo`; `receipts` posts the delivery receipt of each `Ok` one back to the server (channel `sms`), as a
 * bridge in front of Tencent's status callback would, once given a target.
 */
export interface FakeTencentSms {
  baseUrl: string;
  /** Authenticated requests, in order. */
  sent: TencentSms[];
  /** Error codes of refused requests, in order (AuthFailure.SignatureFailure, …). */
  refused: string[];
  codes: Map<string, string>;
  nextError: string | null;
  receipts: FakeReceipts;
  close(): Promise<void>;
}

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The signature Tencent expects for this request, from the headers it names as signed. */
function expectedSignature(
  req: http.IncomingMessage,
  body: string,
  secretKey: string,
  date: string,
  signedHeaders: string,
): string {
  const canonicalHeaders = signedHeaders
    .split(';')
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .toLowerCase()}\n`,
    )
    .join('');
  const [pathPart, query = ''] = (req.url ?? '/').split('?');
  const canonicalRequest = `${req.method}\n${pathPart}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(body)}`;
  const timestamp = String(req.headers['x-tc-timestamp']);
  const stringToSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/sms/tc3_request\n${sha256Hex(canonicalRequest)}`;
  let key: Buffer = createHmac('sha256', `TC3${secretKey}`).update(date).digest();
  for (const part of ['sms', 'tc3_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** Null when the request is authentic, else the AuthFailure code Tencent answers. */
function authFailure(req: http.IncomingMessage, body: string, account: FakeTencentAccount): string | null {
  const m =
    /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/sms\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
  if (!m) return 'AuthFailure.InvalidAuthorization';
  const [, secretId, date, signedHeaders, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (secretId !== account.secretId) return 'AuthFailure.SecretIdNotFound';
  const timestamp = Number(req.headers['x-tc-timestamp']);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) {
    return 'AuthFailure.SignatureExpire';
  }
  if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date) return 'AuthFailure.SignatureFailure';
  if (!signedHeaders.split(';').includes('content-type') || !signedHeaders.split(';').includes('host')) {
    return 'AuthFailure.SignatureFailure';
  }
  const expected = Buffer.from(expectedSignature(req, body, account.secretKey, date, signedHeaders));
  return timingSafeEqual(expected, Buffer.from(signature)) ? null : 'AuthFailure.SignatureFailure';
}

export async function startFakeTencentSms(
  account: FakeTencentAccount = TEST_TENCENT_ACCOUNT,
): Promise<FakeTencentSms> {
  const state: FakeTencentSms = {
    baseUrl: '',
    sent: [],
    refused: [],
    codes: new Map(),
    nextError: null,
    receipts: fakeReceipts('sms'),
    close: async () => undefined,
  };
  let requests = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const requestId = `fake-${++requests}`;
      const reply = (response: object) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ Response: { ...response, RequestId: requestId } }));
      const refuse = (code: string) => {
        state.refused.push(code);
        reply({ Error: { Code: code, Message: `fake: ${code}` } });
      };
      if (req.method !== 'POST' || req.url !== '/') return refuse('InvalidAction');
      if (req.headers['x-tc-action'] !== 'SendSms') return refuse('InvalidAction');
      if (req.headers['x-tc-version'] !== '2021-01-11') return refuse('NoSuchVersion');
      if (!req.headers['x-tc-region']) return refuse('MissingParameter');
      if (req.headers['content-type'] !== 'application/json; charset=utf-8') {
        return refuse('InvalidParameter.ContentType');
      }
      const auth = authFailure(req, raw, account);
      if (auth) return refuse(auth);
      if (state.nextError) {
        const code = state.nextError;
        state.nextError = null;
        return refuse(code);
      }
      const body = JSON.parse(raw) as {
        PhoneNumberSet?: string[];
        SmsSdkAppId?: string;
        SignName?: string;
        TemplateId?: string;
        TemplateParamSet?: string[];
      };
      if (body.SmsSdkAppId !== account.appId) return refuse('InvalidParameterValue.SdkAppIdNotExist');
      if (body.SignName !== account.signName) return refuse('FailedOperation.SignatureIncorrectOrUnapproved');
      if (!body.TemplateId || !account.templateIds.includes(body.TemplateId)) {
        return refuse('FailedOperation.TemplateIncorrectOrUnapproved');
      }
      if (!Array.isArray(body.PhoneNumberSet) || body.PhoneNumberSet.length === 0) {
        return refuse('MissingParameter');
      }
      const statuses = body.PhoneNumberSet.map((phone, i) => {
        const serialNo = `2433:${requests}${String(i).padStart(4, '0')}`;
        const code = /^\+861\d{10}$/.test(phone)
          ? (state.codes.get(phone) ?? 'Ok')
          : 'InvalidParameterValue.IncorrectPhoneNumber';
        state.sent.push({
          phone,
          templateId: body.TemplateId!,
          params: body.TemplateParamSet ?? [],
          region: String(req.headers['x-tc-region']),
          answered: code,
          serialNo,
        });
        if (code === 'Ok') state.receipts.accepted(serialNo, phone);
        return {
          PhoneNumber: phone,
          Code: code,
          Message: code === 'Ok' ? 'send success' : `fake: ${code}`,
          SerialNo: serialNo,
          Fee: code === 'Ok' ? 1 : 0,
          SessionContext: '',
          IsoCode: 'CN',
        };
      });
      return reply({ SendStatusSet: statuses });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      state.receipts.stop();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
