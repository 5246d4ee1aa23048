/// <reference lib="dom" />
import { freePort } from '@ridetrace/server';
import jsQR from 'jsqr';
import { sql } from 'kysely';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { ARTIFACTS } from './support/paths.js';
import { clientToken, seedWorld, startStack, type Stack, type World } from './support/stack.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { gzipSize, taroBuild } from './support/taro-build.js';

/**
 * The h5 build of the mini-program in Debian's chromium (375 px wide phone) against the real server on a fresh
 * embedded Postgres, with a fake super-app login. h5 has no Taro.login: the page URL carries `loginCode=ok:<user>`
 * (the h5 login bridge, see miniapp/src/services/login.ts), which the fake super-app accepts.
 */
let out: string;
let web: StaticServer;
let stack: Stack;
let world: World;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'ridetrace-h5-'));
  await mkdir(ARTIFACTS, { recursive: true });
  web = await startStaticServer(out);
  const apiPort = await freePort();
  // The server and the h5 build (≈ 30 s) start together; the build only needs to know the API's address.
  [stack] = await Promise.all([
    startStack(web.origin, apiPort),
    taroBuild('h5', out, `http://127.0.0.1:${apiPort}`),
  ]);
  world = await seedWorld(stack);
  const size = await gzipSize(out);
  // A broken template (e.g. a reformatted src/index.html) still builds, but without the app's scripts.
  expect(size.raw).toBeGreaterThan(100 * 1024);
  console.log(
    `h5 build: ${(size.raw / 1024).toFixed(1)} KiB html/js/css, ${(size.gzip / 1024).toFixed(1)} KiB gzip`,
  );
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await web?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Opens the app like the super-app does after a scan: a fresh launch of the scan page with the code as `q`. */
async function launch(route: string, loginCode = 'ok:alice') {
  await page.goto('about:blank');
  await page.goto(`${web.origin}/?loginCode=${encodeURIComponent(loginCode)}#${route}`);
}

const scanRoute = (code: string) => `/pages/scan/index?q=${encodeURIComponent(code)}`;

function since(mark: number, what: string): number {
  return stack.requests.slice(mark).filter((r) => r === what).length;
}

async function rideCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from rides`.execute(stack.db);
  return rows[0]!.n;
}

async function fill(selector: string, value: string) {
  await page.locator(`${selector} input, ${selector} textarea`).first().fill(value);
}

describe('mini-program h5 against the real server', () => {
  it('first scan: login, confirmation with consent, then the ride pass', async () => {
    const mark = stack.requests.length;
    await launch(scanRoute(world.code.url));
    await page.locator('#confirm-preview').getByText('粤B12345').waitFor();
    await page.locator('#confirm-consent').getByText('版本 2026-11').waitFor();
    await shot('01-confirm');
    await fill('#confirm-name', '张三丰');
    await fill('#confirm-phone', '13812345678');
    await page.locator('#confirm-submit').click();

    const pass = page.locator('#ride-pass');
    await pass.getByText('粤B12345').waitFor();
    await expect(pass.getByText('36路').count()).resolves.toBe(1);
    await page.locator('#pass-status').getByText('绿码').waitFor();
    const clock = page.locator('#pass-clock');
    const before = await clock.textContent();
    expect(before).toMatch(/^\d\d:\d\d:\d\d$/);
    await page.waitForTimeout(1300);
    expect(await clock.textContent()).not.toBe(before);
    await shot('02-pass');

    expect(since(mark, 'POST /v1/auth/passenger')).toBe(1);
    expect(since(mark, 'POST /v1/rides')).toBe(1);
    expect(since(mark, 'POST /v1/passengers/me/confirm')).toBe(1);
    expect(await rideCount()).toBe(1);
  });

  it('second scan: one ride request, straight to the pass', async () => {
    const mark = stack.requests.length;
    await launch(scanRoute(world.otherCode.url));
    await page.locator('#ride-pass').getByText('粤B67890').waitFor();
    await page.locator('#ride-pass').getByText('12路').waitFor();
    await shot('03-second-scan-pass');
    expect(since(mark, 'POST /v1/rides')).toBe(1);
    expect(since(mark, 'POST /v1/auth/passenger')).toBe(0);
    expect(since(mark, 'POST /v1/passengers/me/confirm')).toBe(0);
    expect(await rideCount()).toBe(2);
  });

  it('offline scan: queued, then delivered exactly once when the network returns', async () => {
    await launch('/pages/scan/index');
    await page.getByText('扫码乘车登记').waitFor();
    const mark = stack.requests.length;
    await browser.context.setOffline(true);
    // The super-app opens the scan page with the code while the phone has no network.
    await page.evaluate((code) => {
      window.location.hash = `#/pages/scan/index?q=${encodeURIComponent(code)}`;
    }, world.code.url);
    await page.locator('#scan-queued').waitFor();
    await page.getByText('1 条乘车记录等待联网提交').waitFor();
    await shot('04-offline-queued');
    const queued = await page.evaluate(() => JSON.parse(localStorage.getItem('rt.queue') ?? '{}') as unknown);
    const item = (queued as { data: { clientRideId: string; scannedAt: string }[] }).data[0]!;
    expect(item.clientRideId).toMatch(/^[0-9a-f-]{36}$/);
    expect(since(mark, 'POST /v1/rides')).toBe(0);

    await browser.context.setOffline(false);
    await page
      .locator('#queue-report')
      .getByText(/离线保存的乘车记录已提交/)
      .waitFor();
    await shot('05-offline-delivered');
    await page.waitForTimeout(1000);
    expect(since(mark, 'POST /v1/rides')).toBe(1);
    expect(await rideCount()).toBe(3);
    expect(await page.evaluate(() => localStorage.getItem('rt.queue'))).toBe(JSON.stringify({ data: [] }));
  });

  it('a scan queued offline is sent on the next launch, once', async () => {
    const mark = stack.requests.length;
    // No reply reaches the app: the request is aborted as if the phone lost its connection.
    await browser.context.route('**/v1/rides', (route) => route.abort('internetdisconnected'));
    await launch(scanRoute(world.otherCode.url));
    await page.locator('#scan-queued').waitFor();
    await browser.context.unroute('**/v1/rides');
    expect(since(mark, 'POST /v1/rides')).toBe(0);

    await launch('/pages/scan/index');
    await page
      .locator('#queue-report')
      .getByText(/离线保存的乘车记录已提交：粤B67890/)
      .waitFor();
    await page.waitForTimeout(500);
    expect(since(mark, 'POST /v1/rides')).toBe(1);
    expect(await rideCount()).toBe(4);
  });

  it('status page: colour and a live QR of the status token that staff can verify', async () => {
    await launch('/pages/status/index');
    await page.locator('#status-colour').getByText('绿码').waitFor();
    const qr = page.locator('#status-qr');
    await qr.waitFor();
    await shot('06-status');
    const image = PNG.sync.read(await qr.screenshot());
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded?.data).toMatch(/^RTS1\.[A-Za-z0-9_-]+$/);

    const staff = await clientToken(stack, world.staff);
    const res = await fetch(`${stack.api}/v1/status/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: decoded!.data }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ colour: 'green', name: '张*丰' });
  });

  it('itinerary: the rides of the last 14 days grouped by day', async () => {
    await launch('/pages/itinerary/index');
    await page.getByText('4 次乘车').waitFor();
    await expect(page.getByText(/粤B67890/).count()).resolves.toBe(2);
    await expect(page.getByText(/粤B12345/).count()).resolves.toBe(2);
    await shot('07-itinerary');
  });

  it('staff: sign in, register a rider on a bound bus, verify a status QR', async () => {
    // A fresh status token from the passenger's screen, read off the QR as a staff scanner would.
    await launch('/pages/status/index');
    const image = PNG.sync.read(await page.locator('#status-qr').screenshot());
    const token = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)!.data;

    const mark = stack.requests.length;
    await launch('/pages/staff/index');
    await fill('#staff-client-id', world.staff.clientId);
    await fill('#staff-secret', world.staff.clientSecret);
    await page.locator('#staff-login').click();
    const bus = page.getByText(/粤B12345/).first();
    await bus.waitFor();
    // Only the bus this account is bound to.
    await expect(page.getByText(/粤B67890/).count()).resolves.toBe(0);
    await bus.click();
    await fill('#manual-name', '李四');
    await fill('#manual-phone', '13900001111');
    await page.locator('#manual-submit').click();
    await page
      .locator('#manual-result')
      .getByText(/已登记：李\* 139\*\*\*\*1111/)
      .waitFor();
    expect(since(mark, 'POST /v1/carriers/1/manual-rides')).toBe(1);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from rides where source = 'manual'`.execute(stack.db);
    expect(rows[0]!.n).toBe(1);

    await fill('#verify-token', token);
    await page.locator('#verify-submit').click();
    await page
      .locator('#verify-result')
      .getByText(/绿码 · 张\*丰/)
      .waitFor();
    await shot('08-staff');
  });

  it('phone verified by SMS code: code read off the SMS gateway, typed, verified, confirmed', async () => {
    // Another passenger on this phone: nothing of the first one is kept.
    await launch('/pages/scan/index');
    await page.evaluate(() => localStorage.clear());
    const mark = stack.requests.length;
    const smsBefore = stack.sms.received.length;
    await launch(scanRoute(world.code.url), 'ok:bob');
    await page.locator('#confirm-consent').getByText('版本 2026-11').waitFor();
    await fill('#confirm-name', '李雷');
    await fill('#confirm-phone', '13900002222');
    await page.getByText(/未验证的手机号只是您自己填写的联系方式/).waitFor();
    await page.locator('#confirm-otp-send').click();
    await page.getByText('验证码已发送至 139****2222，10 分钟内有效').waitFor();
    await page
      .locator('#confirm-otp-send')
      .getByText(/^\d+ 秒后重新获取$/)
      .waitFor();
    await shot('09-phone-code-sent');

    expect(stack.sms.received.length).toBe(smsBefore + 1);
    const sms = stack.sms.received.at(-1)!.body as {
      phone: string;
      template: string;
      params: { code: string; minutes: string };
    };
    expect(sms).toMatchObject({ phone: '13900002222', template: 'ridetrace_otp', params: { minutes: '10' } });
    expect(sms.params.code).toMatch(/^\d{6}$/);
    await fill('#confirm-otp-code', sms.params.code);
    await page.locator('#confirm-otp-verify').click();
    await page.getByText('已验证：此号码会收到接触提醒短信。').waitFor();
    await page.locator('#confirm-phone-verified').getByText('139****2222').waitFor();
    await shot('10-phone-verified');

    await page.locator('#confirm-submit').click();
    await page.locator('#ride-pass').getByText('粤B12345').waitFor();
    await page.locator('#pass-registrant').getByText('李*').waitFor();
    await page.locator('#pass-contact').getByText('139****2222').waitFor();
    await page.locator('#pass-contact').getByText('已验证').waitFor();
    await shot('11-pass-verified-phone');

    // The server holds the phone as verified (otp): it links registrations and receives SMS.
    const token = await page.evaluate(
      () =>
        (JSON.parse(localStorage.getItem('rt.passengerToken')!) as { data: { token: string } }).data.token,
    );
    const me = await fetch(`${stack.api}/v1/passengers/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await me.json()).toMatchObject({
      confirmed: true,
      name: '李*',
      phone: '139****2222',
      phoneVerified: true,
      phoneSource: 'otp',
    });
    expect(since(mark, 'POST /v1/passengers/me/phone/otp')).toBe(1);
    expect(since(mark, 'POST /v1/passengers/me/phone/verify')).toBe(1);
    expect(since(mark, 'POST /v1/passengers/me/confirm')).toBe(1);

    await launch('/pages/settings/index', 'ok:bob');
    const state = page.locator('#settings-phone-state');
    await state.getByText('139****2222').waitFor();
    await state.getByText('已验证').waitFor();
    await state.getByText('短信验证').waitFor();
    await shot('12-settings-phone');
  });
});
