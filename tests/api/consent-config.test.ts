/**
 * The consent text is built from the configuration (data controller and contact, retention days) and its version
 * carries a hash of the text (server/src/modules/passengers/consent.ts): a deployment that changes what the text
 * says asks every passenger again, on the next scan.
 */
import { ConfigError, loadConfig } from '@ridetrace/server';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSharedDatabase } from '../support/fixtures.js';
import { expectError, scanRide } from '../support/flows.js';
import {
  confirmedPassenger,
  createCarrier,
  seedWorld,
  type TestApp,
  type World,
} from '../support/test-app.js';

const shared = useSharedDatabase();
// One ride per scan, also on the same vehicle minutes apart: every scan below is a new ride.
const BASE = { RIDES_REPEAT_MINUTES: '0' };
const VERSION = /^2026-11\.[0-9a-f]{8}$/;

let before: TestApp;
let w: World;
let codeUrl: string;

beforeAll(async () => {
  before = await shared.server(BASE);
  w = await seedWorld(before);
  codeUrl = (await createCarrier(before, w.tokens.operator)).code.url;
});

interface Served {
  version: string;
  text: { 'zh-CN': string; en: string };
}

async function consentOf(t: TestApp): Promise<Served> {
  const res = await t.http().get('/v1/consent').expect(200);
  return res.body as Served;
}

describe('GET /v1/consent is built from the configuration', () => {
  it('names the data controller, its contact and the retention days, in zh-CN and en', async () => {
    const consent = await consentOf(before);
    expect(consent.version).toBe(before.config.consentVersion);
    expect(consent.version).toMatch(VERSION);
    expect(consent.text['zh-CN']).toContain('深圳市交通运输局（个人信息处理者）');
    expect(consent.text['zh-CN']).toContain('乘车记录保存 28 天后自动销毁');
    expect(consent.text['zh-CN']).toContain('连续 90 天没有乘车记录时删除您的身份信息');
    expect(consent.text['zh-CN']).toContain('请联系：privacy@ridetrace.example');
    expect(consent.text.en).toContain('深圳市交通运输局 (the data controller)');
    expect(consent.text.en).toContain('ride records are destroyed after 28 days');
    expect(consent.text.en).toContain('Questions: privacy@ridetrace.example.');
  });

  it('another RETENTION_DAYS, PASSENGER_INACTIVE_DAYS, CONSENT_CONTROLLER or CONSENT_CONTACT: another text and version', async () => {
    const base = await consentOf(before);
    const changes: { env: Record<string, string>; zh: string; en: string }[] = [
      { env: { RETENTION_DAYS: '30' }, zh: '保存 30 天后', en: 'destroyed after 30 days' },
      {
        env: { PASSENGER_INACTIVE_DAYS: '120' },
        zh: '连续 120 天没有乘车记录时删除您的身份信息',
        en: 'deleted after 120 days without a ride',
      },
      { env: { CONSENT_CONTROLLER: '广州市交通运输局' }, zh: '广州市交通运输局（', en: '广州市交通运输局 (' },
      {
        env: { CONSENT_CONTACT: '0755-12345678' },
        zh: '请联系：0755-12345678。',
        en: 'Questions: 0755-12345678.',
      },
    ];
    const versions = new Set([base.version]);
    for (const change of changes) {
      const t = await shared.server({ ...BASE, ...change.env });
      const consent = await consentOf(t);
      expect(consent.version).toBe(t.config.consentVersion);
      expect(consent.version).toMatch(VERSION);
      expect(consent.text['zh-CN']).toContain(change.zh);
      expect(consent.text.en).toContain(change.en);
      expect(consent.text['zh-CN']).not.toBe(base.text['zh-CN']);
      expect(consent.text.en).not.toBe(base.text.en);
      versions.add(consent.version);
    }
    expect(versions.size).toBe(changes.length + 1);
  });

  it('the same settings give the same version; CONSENT_VERSION is its base, the hash follows the text', () => {
    const env = { NODE_ENV: 'test', CONSENT_CONTROLLER: ' 广州市交通运输局 ' };
    const one = loadConfig(env).consentVersion;
    expect(loadConfig(env).consentVersion).toBe(one);
    // Surrounding spaces are not part of the name.
    expect(loadConfig({ ...env, CONSENT_CONTROLLER: '广州市交通运输局' }).consentVersion).toBe(one);
    const rebased = loadConfig({ ...env, CONSENT_VERSION: '2027-01' }).consentVersion;
    expect(rebased).toBe(`2027-01.${one.split('.')[1]!}`);
    // Unset or empty: the defaults.
    expect(loadConfig({ NODE_ENV: 'test', CONSENT_CONTROLLER: '', CONSENT_CONTACT: '' }).consentVersion).toBe(
      before.config.consentVersion,
    );
  });

  it.each([
    ['CONSENT_VERSION', 'x'.repeat(24)],
    ['CONSENT_VERSION', '2026/11'],
    ['CONSENT_VERSION', '2026 11'],
    ['CONSENT_CONTROLLER', '局'.repeat(101)],
    ['CONSENT_CONTROLLER', '深圳市\n交通运输局'],
    ['CONSENT_CONTACT', 'a'.repeat(101)],
    ['CONSENT_CONTACT', 'privacy@example.cn\u0000'],
  ])('refuses to start with %s=%j, naming it', (name, value) => {
    expect(() => loadConfig({ NODE_ENV: 'test', [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', [name]: value })).toThrow(name);
  });
});

describe('a new consent text asks again', () => {
  it.each([
    ['RETENTION_DAYS', { RETENTION_DAYS: '30' }, '13900000051'],
    ['CONSENT_CONTROLLER', { CONSENT_CONTROLLER: '广州市交通运输局' }, '13900000052'],
  ])(
    'after a change of %s, a passenger who consented before gets confirmation_required on the next scan',
    async (name, env, phone) => {
      const auth = await confirmedPassenger(before, `consent-${name}`, { name: '韩梅梅', phone });
      await scanRide(before, auth, codeUrl);

      // The deployment restarts with the new setting, on the same database.
      const after = await shared.server({ ...BASE, ...env });
      const current = await consentOf(after);
      expect(current.version).not.toBe(before.config.consentVersion);
      const me = await after.http().get('/v1/passengers/me').set('authorization', auth).expect(200);
      expect(me.body).toMatchObject({ confirmed: false, consentVersion: before.config.consentVersion });

      // The token still says "confirmed under the old version": the scan is held, not registered.
      const scan = await after
        .http()
        .post('/v1/rides')
        .set('authorization', auth)
        .send({ code: codeUrl, clientRideId: randomUUID() });
      expect(scan.status).toBe(202);
      expect(scan.body).toMatchObject({
        result: 'confirmation_required',
        preview: {
          consentVersion: current.version,
          passenger: { name: '韩*梅', phone: `139****${phone.slice(-4)}` },
        },
      });

      // Agreeing to the old text is refused; agreeing to the new one registers the held scan.
      const identity = { name: '韩梅梅', phone };
      const outdated = await after
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({ ...identity, consentVersion: before.config.consentVersion });
      expectError(outdated, 409, 'consent_version_outdated');
      const confirmed = await after
        .http()
        .post('/v1/passengers/me/confirm')
        .set('authorization', auth)
        .send({ ...identity, consentVersion: current.version })
        .expect(200);
      expect(confirmed.body.passenger).toMatchObject({ confirmed: true, consentVersion: current.version });
      expect(confirmed.body.ride).toMatchObject({ carrier: { plate: '粤B12345' } });

      // From now on one tap again, with the renewed token or the old one.
      await scanRide(after, `Bearer ${confirmed.body.accessToken as string}`, codeUrl);
      await scanRide(after, auth, codeUrl);
    },
  );
});
