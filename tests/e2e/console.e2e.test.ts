/// <reference lib="dom" />
import { createClient, freePort } from '@ridetrace/server';
import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Page,
  type Response as BrowserResponse,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { seriousViolations, type AxeViolation } from './support/axe.js';
import { CHROMIUM } from './support/browser.js';
import { CONSOLE_ARTIFACTS as ARTIFACTS, ROOT } from './support/paths.js';
import { clientToken, seedWorld, startStack, type Stack, type World } from './support/stack.js';

/**
 * The officials' console (production build, served by the server at /console/) in Debian's chromium at desktop size,
 * against the real server on a fresh embedded Postgres: a tracer and a supervisor sign in with password and TOTP,
 * the four-eyes reveal, notify and delivery to the fake super-app and SMS gateway, sign-out and a deep link after it.
 */
let out: string;
let stack: Stack;
let world: World;
let browser: Browser;
let tracerCtx: BrowserContext;
let supervisorCtx: BrowserContext;
let fleetCtx: BrowserContext;
let tracer: Page;
let supervisor: Page;
let fleet: Page;
let people: { tracer: Enrolment; supervisor: Enrolment; fleet: Enrolment };
let caseId: string;
/** CSP violations and uncaught errors of either page: the run must end with none. */
const problems: string[] = [];
/** axe-core's serious and critical findings per screen: the run must end with none. */
const inaccessible: Record<string, AxeViolation[]> = {};

interface Enrolment {
  official: { username: string; name: string };
  password: string;
  otpauthUri: string;
}

const CASE_NUMBER = 'E2E-2026-0001';
const SUBJECT = { user: 'subject', name: '王小明', phone: '13800000001' };
const CONTACTS = [
  { user: 'contact-1', name: '李雷雷', phone: '13900000001' },
  { user: 'contact-2', name: '韩梅梅', phone: '13900000002' },
];
/** Rides with contact-1 on another bus after contact-1's ride with the case: degree 2. */
const SECOND = { user: 'second-1', name: '孙悟空', phone: '13700000001' };

beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'ridetrace-console-'));
  await mkdir(ARTIFACTS, { recursive: true });
  await buildConsole(out);
  stack = await startStack('http://127.0.0.1:1', await freePort(), {
    CONSOLE_DIR: out,
    REVEAL_APPROVAL: 'dual',
    // Delivery within a second or two, not the production pace.
    NOTIFY_POLL_MS: '100',
  });
  // The stack's server holds these credentials; the fake checks them on token requests (phone numbers, messages).
  stack.superApp.appId = 'wx-e2e-app';
  stack.superApp.appSecret = 'e2e-app-secret';
  world = await seedWorld(stack);
  people = await seedOfficials();
  caseId = await seedCase();

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  tracerCtx = await desktopContext('tracer');
  supervisorCtx = await desktopContext('supervisor');
  fleetCtx = await desktopContext('fleet manager');
  tracer = await tracerCtx.newPage();
  supervisor = await supervisorCtx.newPage();
  fleet = await fleetCtx.newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

/** `vite build` of console/ into `dir` (not console/dist, so a developer's build is left alone). */
async function buildConsole(dir: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.VITEST;
  delete env.TEST;
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('pnpm', ['exec', 'vite', 'build', '--outDir', dir, '--emptyOutDir'], {
      cwd: path.join(ROOT, 'console'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`console build failed (${code}):\n${output.join('').slice(-4000)}`);
}

/** A desktop browser context that reports CSP violations (event and console) and uncaught page errors. */
async function desktopContext(who: string): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    acceptDownloads: true,
  });
  await ctx.exposeBinding('__rtCspViolation', (_src, v: string) => problems.push(`${who} CSP: ${v}`));
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __rtCspViolation?: (v: string) => void }).__rtCspViolation;
      void report?.(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  // A step that fails should fail fast, not hold the run for playwright's default 30 s.
  ctx.setDefaultTimeout(15_000);
  ctx.on('page', (p) => watch(p, who));
  return ctx;
}

function watch(page: Page, who: string) {
  page.on('pageerror', (err) => problems.push(`${who} page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()))
      problems.push(`${who} console: ${m.text()}`);
  });
}

async function call<T>(method: string, p: string, body?: unknown, auth?: string): Promise<T> {
  const res = await fetch(stack.api + p, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(auth ? { authorization: auth } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Console accounts created through the admin API as an administrator would: a tracer who may also notify, a
 * supervisor who also audits, and the bus operator's fleet manager.
 */
async function seedOfficials() {
  const admin = await createClient(stack.db, { name: 'root', role: 'admin' });
  const auth = `Bearer ${await clientToken(stack, admin)}`;
  const enrol = (name: string, roles: string[], over: Record<string, unknown> = {}) =>
    call<Enrolment>(
      'POST',
      '/v1/admin/officials',
      {
        username: `e2e-${randomUUID().slice(0, 8)}`,
        name,
        agency: '深圳市卫健委',
        jurisdiction: ['深圳'],
        roles,
        ...over,
      },
      auth,
    );
  return {
    tracer: await enrol('赵流调', ['tracer', 'notifier']),
    supervisor: await enrol('钱主任', ['supervisor', 'auditor']),
    fleet: await enrol('孙调度', ['operator'], { agency: 'E2E 巴士公司', operatorId: 'e2e-bus' }),
  };
}

/**
 * The subject and two contacts (verified phones, app messages accepted) scan the same bus, then the first contact
 * and one more person another bus (degree 2); a case on the subject.
 */
async function seedCase(): Promise<string> {
  const { version } = await call<{ version: string }>('GET', '/v1/consent');
  const passenger = async (p: { user: string; name: string; phone: string }) => {
    const login = await call<{ accessToken: string }>('POST', '/v1/auth/passenger', {
      loginCode: `ok:${p.user}`,
    });
    const first = `Bearer ${login.accessToken}`;
    await call('POST', '/v1/passengers/me/phone', { code: `phone:${p.phone}` }, first);
    const confirmed = await call<{ accessToken: string }>(
      'POST',
      '/v1/passengers/me/confirm',
      { name: p.name, phone: p.phone, consentVersion: version },
      first,
    );
    const auth = `Bearer ${confirmed.accessToken}`;
    await call(
      'POST',
      '/v1/passengers/me/subscriptions',
      { templateId: 'ridetrace_exposure', result: 'accept' },
      auth,
    );
    return auth;
  };
  const ride = (auth: string, url: string) =>
    call('POST', '/v1/rides', { code: url, clientRideId: randomUUID() }, auth);
  const [subject, contact1, contact2, second] = await Promise.all(
    [SUBJECT, ...CONTACTS, SECOND].map(passenger),
  );
  for (const auth of [subject!, contact1!, contact2!]) await ride(auth, world.code.url);
  await ride(contact1!, world.otherCode.url);
  await ride(second!, world.otherCode.url);
  const official = await createClient(stack.db, { name: 'health office', role: 'official' });
  const now = Date.now();
  const c = await call<{ id: string }>(
    'POST',
    '/v1/cases',
    {
      subject: { phone: SUBJECT.phone },
      infectiousFrom: new Date(now - 86_400_000).toISOString(),
      infectiousTo: new Date(now + 60_000).toISOString(),
      caseNumber: CASE_NUMBER,
      reason: '端到端测试：确诊病例',
    },
    `Bearer ${await clientToken(stack, official)}`,
  );
  return c.id;
}

/** RFC 6238 as an authenticator app computes it from the enrolment's otpauth:// URI (SHA-1, 6 digits, 30 s). */
function totpOf(uri: string, at = Date.now()): string {
  const params = new URL(uri).searchParams;
  const secret = base32(params.get('secret')!);
  const digits = Number(params.get('digits') ?? 6);
  const period = Number(params.get('period') ?? 30);
  const algorithm = (params.get('algorithm') ?? 'SHA1').toLowerCase();
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / period)));
  const mac = createHmac(algorithm, secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(n).padStart(digits, '0');
}

function base32(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of s.replace(/=+$/, '').toUpperCase())
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The console's first-load budget (the sign-in page every session starts on): its JavaScript, gzip-compressed. */
const FIRST_LOAD_GZIP_BYTES = 350 * 1024;

/** The console's JavaScript that `load` makes the page fetch, gzip-compressed (bytes). */
async function javascriptLoaded(page: Page, load: () => Promise<void>): Promise<number> {
  const bodies: Promise<Buffer>[] = [];
  const seen = (res: BrowserResponse) => {
    if (new URL(res.url()).pathname.match(/^\/console\/.*\.js$/)) bodies.push(res.body());
  };
  page.on('response', seen);
  try {
    await load();
  } finally {
    page.off('response', seen);
  }
  return (await Promise.all(bodies)).reduce((sum, b) => sum + gzipSync(b).length, 0);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** A screen of the story: its screenshot, and axe-core's findings on it. */
async function screen(page: Page, name: string): Promise<void> {
  await shot(page, name);
  const found = await seriousViolations(page);
  if (found.length > 0) inaccessible[name] = found;
}

/** Screenshots of both pages when the test fails, to see where the story stopped. */
function shotsOnFailure(ctx: TestContext, name: string) {
  ctx.onTestFailed(async () => {
    await shot(tracer, `${name}-failed-tracer`).catch(() => undefined);
    await shot(supervisor, `${name}-failed-supervisor`).catch(() => undefined);
    await shot(fleet, `${name}-failed-fleet`).catch(() => undefined);
  });
}

async function signIn(page: Page, who: Enrolment, path = '/console/') {
  await page.goto(`${stack.api}${path}`);
  await page.getByLabel('用户名').fill(who.official.username);
  await page.getByLabel('密码').fill(who.password);
  await page.getByLabel('动态验证码').fill(totpOf(who.otpauthUri));
  await page.getByRole('button', { name: SIGN_IN }).click();
  await page.getByTestId('who-am-i').getByText(who.official.name).waitFor();
}

/** AntD spaces out a two-character Chinese label on a button (登 录). */
const SIGN_IN = /^登\s?录$/;
const APPROVE = /^批\s?准$/;

const exposuresCard = (page: Page) =>
  page.locator('.ant-card').filter({ has: page.locator('.ant-card-head-title', { hasText: /^同乘人员$/ }) });

describe('officials console against the real server', () => {
  it('the tracer signs in with password and TOTP and sees who, which agency, which jurisdiction', async (ctx) => {
    shotsOnFailure(ctx, '01');
    const signInJs = await javascriptLoaded(tracer, async () => {
      await tracer.goto(`${stack.api}/console/`);
      await tracer.getByLabel('动态验证码').waitFor();
    });
    console.log(`console first load, sign-in page: ${kib(signInJs)} of JavaScript (gzip)`);
    expect(signInJs).toBeLessThanOrEqual(FIRST_LOAD_GZIP_BYTES);
    await screen(tracer, '00-sign-in');
    await signIn(tracer, people.tracer);
    const header = tracer.locator('header, .rt-header').first();
    await header.getByText('深圳市卫健委').waitFor();
    await header.getByText('辖区: 深圳').waitFor();
    await screen(tracer, '01-signed-in');
  });

  it('opens the case from the list: the timeline draws, the exposures are masked', async (ctx) => {
    shotsOnFailure(ctx, '02');
    await tracer.goto(`${stack.api}/console/cases`);
    await tracer.getByRole('link', { name: CASE_NUMBER }).click();
    await tracer.waitForURL(`**/console/cases/${caseId}`);
    await tracer.getByRole('heading', { name: `案件 ${CASE_NUMBER}` }).waitFor();

    // The case page opened by a link from elsewhere: a fresh page load, its lazy chunks included.
    const fresh = await tracerCtx.newPage();
    const caseJs = await javascriptLoaded(fresh, async () => {
      await fresh.goto(`${stack.api}/console/cases/${caseId}`);
      await fresh.locator('.rt-timeline canvas').first().waitFor();
    });
    await fresh.close();
    // Printed, not held to the budget: the first load is the sign-in page's; ECharts comes with the case page.
    console.log(`console, case page opened directly: ${kib(caseJs)} of JavaScript (gzip)`);

    const canvas = tracer.locator('.rt-timeline canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    expect(box?.width).toBeGreaterThan(200);
    expect(box?.height).toBeGreaterThan(50);

    const table = exposuresCard(tracer);
    await table.getByText('李*雷').waitFor();
    await table.getByText('韩*梅').waitFor();
    await table.getByText('139****0001').waitFor();
    await table.getByText('已脱敏').waitFor();
    await expect(table.getByText('李雷雷').count()).resolves.toBe(0);
    await screen(tracer, '02-case-masked');
  });

  it('a reveal needs the supervisor: requested with a reason, approved in the inbox, then unmasked', async (ctx) => {
    shotsOnFailure(ctx, '03');
    await tracer.getByRole('button', { name: '申请查看身份' }).click();
    const dialog = tracer.getByRole('dialog');
    await dialog.getByLabel('申请理由').fill('密接人员流调，需要电话联系');
    await dialog.getByRole('button', { name: '提交申请' }).click();
    await tracer.getByRole('button', { name: '身份查看待审批' }).waitFor();

    await signIn(supervisor, people.supervisor, '/console/approvals');
    const row = supervisor.getByRole('row').filter({ hasText: CASE_NUMBER });
    await row.getByText('密接人员流调，需要电话联系').waitFor();
    await row.getByText('赵流调').waitFor();
    await screen(supervisor, '03-approvals-inbox');
    await row.getByRole('button', { name: APPROVE }).click();
    await supervisor.getByRole('dialog').getByRole('button', { name: APPROVE }).click();
    await supervisor.getByText('没有待审批的申请', { exact: false }).waitFor();

    // No reload: the case view asks again while the request is pending.
    const table = exposuresCard(tracer);
    await table.getByText('李雷雷').waitFor();
    await table.getByText('韩梅梅').waitFor();
    await table.getByText('13900000001').waitFor();
    await table.getByText('已显示身份').waitFor();
    await screen(tracer, '04-case-revealed');
  });

  it('exports the revealed exposures as CSV: the downloaded file names the contacts', async (ctx) => {
    shotsOnFailure(ctx, '04b');
    const [download] = await Promise.all([
      tracer.waitForEvent('download'),
      tracer.getByRole('button', { name: '导出 CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const file = path.join(out, download.suggestedFilename());
    await download.saveAs(file);
    const csv = await readFile(file, 'utf8');
    // A BOM for spreadsheet programs, a header, then one line per contact with the revealed names and phones.
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    for (const c of CONTACTS) {
      expect(csv).toContain(c.name);
      expect(csv).toContain(c.phone);
    }
    expect(csv).not.toContain(SUBJECT.phone);
  });

  it('notifies after confirming and watches every delivery reach "delivered"', async (ctx) => {
    shotsOnFailure(ctx, '05');
    await tracer.getByRole('button', { name: '通知同乘人员' }).click();
    const confirm = tracer.getByRole('dialog').filter({ hasText: '确认发送通知？' });
    await confirm.getByRole('button', { name: '确认发送' }).click();

    // Each channel in use: every message delivered (the fakes post receipts), none open, none failed.
    const count = async (id: string) => Number((await tracer.getByTestId(id).textContent()) ?? 'NaN');
    await tracer.getByTestId('app-delivered').waitFor();
    await expect
      .poll(
        async () => ({
          delivered: await count('app-delivered'),
          open: (await count('app-queued')) + (await count('app-sending')) + (await count('app-sent')),
        }),
        { timeout: 20_000 },
      )
      .toEqual({ delivered: 2, open: 0 });
    expect(await count('app-failed')).toBe(0);
    if ((await tracer.getByTestId('sms-sent').count()) > 0) {
      await expect.poll(() => count('sms-delivered'), { timeout: 20_000 }).toBeGreaterThan(0);
      expect(await count('sms-failed')).toBe(0);
    }
    await expect.poll(() => stack.superApp.messages.length, { timeout: 5000 }).toBe(2);
    await screen(tracer, '05-delivered');
  });

  it('the audit page shows each step under the right person, and the chain verifies', async (ctx) => {
    shotsOnFailure(ctx, '05b');
    await supervisor.getByRole('menuitem', { name: /审计/ }).click();
    await supervisor.waitForURL('**/console/audit');
    const rows = supervisor.getByRole('row');
    const step = (who: string, action: string) =>
      rows
        .filter({ hasText: who })
        .filter({ has: supervisor.getByText(action, { exact: true }) })
        .first();
    for (const action of ['reveal.request', 'exposures.reveal', 'exposures.export', 'case.notify'])
      await step('赵流调', action).waitFor();
    await step('钱主任', 'reveal.approve').waitFor();
    await supervisor.getByText(/完整：已校验 \d+ 条记录/).waitFor();
    await screen(supervisor, '05b-audit');
  });

  it('degrees 1 + 2: the contact network draws the case, its contacts and theirs', async (ctx) => {
    shotsOnFailure(ctx, '06');
    await exposuresCard(tracer).getByText('一级 + 二级').click();
    await exposuresCard(tracer).getByText('孙悟空').waitFor();
    const network = tracer
      .locator('.ant-card')
      .filter({ has: tracer.locator('.ant-card-head-title', { hasText: /^二级接触网络$/ }) });
    await network.getByRole('img', { name: /接触网络图：病例、2 名一级同乘人员、1 名二级接触者/ }).waitFor();
    const box = await network.locator('canvas').first().boundingBox();
    expect(box?.height).toBeGreaterThan(300);
    await screen(tracer, '06-network');
  });

  it('signs out to the sign-in page; a deep link to the case after it shows sign-in', async (ctx) => {
    shotsOnFailure(ctx, '07');
    await tracer.getByRole('button', { name: '退出登录' }).click();
    await tracer.getByText('您已安全退出。').waitFor();
    await tracer.getByLabel('动态验证码').waitFor();

    await tracer.goto(`${stack.api}/console/cases/${caseId}`);
    await tracer.getByLabel('动态验证码').waitFor();
    await tracer.getByRole('button', { name: SIGN_IN }).waitFor();
    await expect(tracer.getByTestId('who-am-i').count()).resolves.toBe(0);
    await expect(tracer.getByText(CASE_NUMBER).count()).resolves.toBe(0);
    await screen(tracer, '07-deep-link-signed-out');
  });

  it('a fleet manager imports a fleet: a bad line is refused with nothing written, the fixed file imports', async (ctx) => {
    shotsOnFailure(ctx, '08');
    await signIn(fleet, people.fleet, '/console/operators');
    await fleet.getByRole('heading', { name: '车辆管理' }).waitFor();
    await screen(fleet, '08-carriers');

    const header = 'kind,plate,route,city\n';
    const good = ['bus,粤E00101,E1,深圳', 'bus,粤E00102,E1,深圳', 'bus,粤E00103,E2,深圳'];
    const choose = async (name: string, text: string) => {
      const file = path.join(out, name);
      await writeFile(file, text);
      await fleet.locator('.ant-modal input[type=file]').setInputFiles(file);
      await fleet.getByText(`已选择文件：${name}`).waitFor();
    };
    await fleet.getByRole('button', { name: '导入 CSV' }).first().click();
    await choose('fleet-bad.csv', header + [...good, 'plane,粤E00104,E2,深圳'].join('\n') + '\n');
    await fleet.getByRole('button', { name: '检查文件' }).click();
    const problems = fleet
      .locator('.ant-modal')
      .getByRole('row')
      .filter({ hasText: "'plane' is not one of" });
    await problems.getByRole('cell', { name: '5', exact: true }).waitFor();
    await fleet.getByText(/共 1 处问题，未导入任何车辆/).waitFor();
    await screen(fleet, '08-import-refused');
    const imported = async () =>
      (await stack.db.selectFrom('carriers').select('plate').where('plate', 'like', '粤E001%').execute())
        .length;
    expect(await imported()).toBe(0);

    await choose('fleet.csv', header + good.join('\n') + '\n');
    await fleet.getByRole('button', { name: '检查文件' }).click();
    await fleet.getByText('检查通过：共 3 行，没有问题。').waitFor();
    await fleet.getByRole('button', { name: '导入 3 行' }).click();
    await fleet.getByText('导入完成：共 3 行').waitFor();
    await screen(fleet, '08-imported');
    expect(await imported()).toBe(3);
  });

  it('the fleet manager prints A4 poster sheets of chosen carriers (a PDF of two posters a page)', async (ctx) => {
    shotsOnFailure(ctx, '09');
    await fleet.locator('.ant-modal-close').click();
    await fleet.locator('.ant-modal').waitFor({ state: 'hidden' });
    await fleet.getByLabel('车牌').fill('粤E001');
    await fleet.getByRole('button', { name: '筛选', exact: true }).click();
    for (const plate of ['粤E00101', '粤E00102', '粤E00103']) await fleet.getByLabel(`选择 ${plate}`).check();
    const [download] = await Promise.all([
      fleet.waitForEvent('download'),
      fleet.getByRole('button', { name: '打印 A4 海报（已选 3 辆）' }).click(),
    ]);
    const file = path.join(out, 'sheets.pdf');
    await download.saveAs(file);
    const pdf = await readFile(file);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length).toBe(2);
    await screen(fleet, '09-sheets');
  });

  it('reported no CSP violation and no uncaught page error', () => {
    expect(problems).toEqual([]);
  });

  it('has no serious or critical accessibility violation on any screen (axe-core, WCAG 2.1 AA)', () => {
    expect(inaccessible).toEqual({});
  });
});
