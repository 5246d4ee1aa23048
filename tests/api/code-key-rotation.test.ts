/**
 * Code-signing key rotation (`pnpm cli keys rotate-code`): new codes are signed with the new key at once, posters
 * of the old key keep scanning until its grace period ends (then 410 code_key_retired), and servers that started
 * before the rotation learn of it without a restart. Four servers share one database: A signs most codes; B learns
 * of the rotation from a code of the new key; C only ever scans the old poster, so it learns of the retirement by
 * re-reading the keys when its view is a minute old; D signs a code before it has seen the new key.
 */
import { codeTokenKeyId, listCodeKeys, rotateCodeKey } from '@ridetrace/server';
import jsQR from 'jsqr';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSharedDatabase } from '../support/fixtures.js';
import { expectError } from '../support/flows.js';
import { runCli } from '../support/run-cli.js';
import {
  cliEnv,
  confirmedPassenger,
  createCarrier,
  seedWorld,
  type TestApp,
  type World,
} from '../support/test-app.js';

const DAY = 86_400_000;
// Every scan of the file by one rider registers (no repeat-scan window, no per-passenger limit in the way).
// The servers learn of rotations without notifications (CACHE_EVENTS=off), as a server that missed one does;
// multi-instance.test.ts shows the notification.
const ENV = {
  RIDES_REPEAT_MINUTES: '0',
  RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '1000',
  CACHE_EVENTS: 'off',
};

const shared = useSharedDatabase();
let a: TestApp;
let b: TestApp;
let c: TestApp;
let d: TestApp;
let w: World;
let rider: string;
let dir: string;

interface Code {
  token: string;
  url: string;
  generation: number;
}
/** The bus's poster printed before the rotation (key 1), and the same generation under key 2. */
let busId: number;
let busKey1: Code;
let busKey2: Code;
/** When key 1 retires: the end of the first rotation's grace period. */
let key1RetiresAt: Date;

beforeAll(async () => {
  a = await shared.server(ENV);
  b = await shared.server(ENV);
  c = await shared.server(ENV);
  d = await shared.server(ENV);
  w = await seedWorld(a);
  rider = await confirmedPassenger(a, 'rotation-rider');
  dir = await mkdtemp(path.join(os.tmpdir(), 'rt-code-keys-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, cliEnv(a), 90_000);

function scan(t: TestApp, code: string) {
  return t.http().post('/v1/rides').set('authorization', rider).send({ code, clientRideId: randomUUID() });
}

async function expectScans(t: TestApp, code: string) {
  const res = await scan(t, code);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** GET /v1/carriers/:id/code (as the admin: carriers of both operators). */
async function currentCode(t: TestApp, carrierId: number): Promise<Code> {
  const res = await t
    .http()
    .get(`/v1/carriers/${carrierId}/code`)
    .set('authorization', w.tokens.admin)
    .expect(200);
  return res.body as Code;
}

/** Moves `t`'s clock so that it reads `at` + `deltaMs` now. */
function setClock(t: TestApp, at: Date, deltaMs: number) {
  t.clock.offsetMs = at.getTime() + deltaMs - Date.now();
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const toBits = (token: string) =>
  Array.from(token, (ch) => ALPHABET.indexOf(ch).toString(2).padStart(5, '0')).join('');
const fromBits = (bits: string) => (bits.match(/.{5}/g) ?? []).map((b) => ALPHABET[parseInt(b, 2)]).join('');

/** `token` with its byte `i` changed by `change` (the token is 20 bytes in 32 base32 characters: 160 bits). */
function withByte(token: string, i: number, change: (byte: number) => number): string {
  const bits = toBits(token);
  const byte = change(parseInt(bits.slice(i * 8, i * 8 + 8), 2));
  return fromBits(bits.slice(0, i * 8) + byte.toString(2).padStart(8, '0') + bits.slice(i * 8 + 8));
}

describe('code key rotation', { timeout: 90_000 }, () => {
  it('before any rotation, codes are signed with key 1 and scan on every server', async () => {
    const { carrier, code } = await createCarrier(a, w.tokens.operator);
    busId = carrier.id;
    busKey1 = code;
    expect(codeTokenKeyId(code.token)).toBe(1);
    for (const t of [a, b, c]) await expectScans(t, code.url);
    expect(
      (await listCodeKeys(a.db)).map((k) => ({ id: k.id, active: k.active, retiresAt: k.retiresAt })),
    ).toEqual([{ id: 1, active: true, retiresAt: null }]);
  });

  it('cli: keys rotate-code --grace-days 2 makes key 2 active and gives key 1 two days', async () => {
    const before = Date.now();
    const run = await cli(['keys', 'rotate-code', '--grace-days', '2']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const keys = await listCodeKeys(a.db);
    expect(keys.map((k) => ({ id: k.id, active: k.active }))).toEqual([
      { id: 1, active: false },
      { id: 2, active: true },
    ]);
    expect(keys[1]!.retiresAt).toBeNull();
    key1RetiresAt = keys[0]!.retiresAt!;
    expect(key1RetiresAt.getTime()).toBeGreaterThanOrEqual(before + 2 * DAY);
    expect(key1RetiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 2 * DAY);
    expect(run.stdout).toContain('code-signing key 2 is active');
    expect(run.stdout).toContain(`posters of key 1 keep scanning until ${key1RetiresAt.toISOString()}`);
    expect(run.stdout).toContain('pnpm cli posters --reissue');

    const bad = await cli(['keys', 'rotate-code', '--grace-days', '1.5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('must be a whole number of days');
    expect((await listCodeKeys(a.db)).length).toBe(2);
  });

  it('a server started before the rotation verifies a key-2 code at once (it reads the keys on the unknown id)', async () => {
    expect(b.app.ctx.keyring.activeCodeKeyId).toBe(1);
    busKey2 = await currentCode(a, busId);
    expect(codeTokenKeyId(busKey2.token)).toBe(2);
    expect(busKey2.generation).toBe(busKey1.generation);
    expect(busKey2.token).not.toBe(busKey1.token);
    await expectScans(b, busKey2.url);
    expect(b.app.ctx.keyring.activeCodeKeyId).toBe(2);
    // The old poster of the same carrier keeps scanning: the grace period governs it.
    for (const t of [a, b]) await expectScans(t, busKey1.url);
  });

  it('every new code uses key 2: new carriers, the current code, and a re-issue (which revokes the old posters at once)', async () => {
    // D has not seen key 2 yet: signing reads the active key from the database first.
    expect(d.app.ctx.keyring.activeCodeKeyId).toBe(1);
    const fresh = await createCarrier(d, w.tokens.operator, {
      kind: 'taxi',
      plate: '粤B·R0002',
      city: '深圳',
    });
    expect(codeTokenKeyId(fresh.code.token)).toBe(2);
    for (const t of [a, b, d]) await expectScans(t, fresh.code.url);

    const ferry = await createCarrier(a, w.tokens.operator, {
      kind: 'ferry',
      plate: 'F-R3',
      route: '蛇口—前海',
      city: '深圳',
    });
    expect(codeTokenKeyId(ferry.code.token)).toBe(2);
    const reissued = await b
      .http()
      .post(`/v1/carriers/${ferry.carrier.id}/code`)
      .set('authorization', w.tokens.operator)
      .expect(201);
    expect(reissued.body.generation).toBe(2);
    expect(codeTokenKeyId(reissued.body.token as string)).toBe(2);
    await expectScans(a, reissued.body.url as string);
    expectError(await scan(a, ferry.code.url), 410, 'code_revoked');
  });

  it('a forged code is refused as before: an unknown key id, or a known key with a wrong signature', async () => {
    const unknownKey = withByte(busKey2.token, 1, () => 9);
    expect(codeTokenKeyId(unknownKey)).toBe(9);
    for (const t of [a, b, d]) expectError(await scan(t, unknownKey), 400, 'code_forged');
    for (const code of [busKey1, busKey2]) {
      expectError(
        await scan(
          b,
          withByte(code.token, 19, (x) => x ^ 0xff),
        ),
        400,
        'code_forged',
      );
    }
    expectError(await scan(b, 'https://rt.example.cn/c/not-a-code'), 400, 'code_malformed');
    // Either kind of refusal leaves the keys known: the genuine codes still scan.
    for (const code of [busKey1, busKey2]) await expectScans(b, code.url);
  });

  it('cli: posters --reissue prints every active carrier under key 2, per operator, with the grace deadline', async () => {
    const taxi = await createCarrier(a, w.tokens.otherOperator, {
      kind: 'taxi',
      plate: '粤B·T9001',
      city: '深圳',
    });
    const out = path.join(dir, 'reissue');
    const run = await cli(['posters', '--reissue', '--out', out, '--format', 'png', '--dpi', '100']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('code-signing key: 2');
    expect(run.stdout).toContain(`posters of key 1 keep scanning until ${key1RetiresAt.toISOString()}`);
    expect((await readdir(out)).sort()).toEqual([w.otherOperatorId, w.operatorId].sort());

    const urls = new Map<number, string>();
    for (const operator of [w.operatorId, w.otherOperatorId]) {
      for (const file of await readdir(path.join(out, operator))) {
        const png = PNG.sync.read(await readFile(path.join(out, operator, file)));
        const url = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)!.data;
        urls.set(Number(/-(\d+)\.png$/.exec(file)![1]), url);
      }
    }
    expect(urls.size).toBe(4); // the operator's bus, taxi and ferry, the other operator's taxi
    expect(urls.has(taxi.carrier.id)).toBe(true);
    for (const [carrierId, url] of urls) {
      expect(codeTokenKeyId(url.split('/C/')[1]!)).toBe(2);
      // The same generation as before, under the new key: what GET /v1/carriers/:id/code answers now.
      expect(url).toBe((await currentCode(a, carrierId)).url);
      await expectScans(b, url);
    }
    expect(urls.get(busId)).toBe(busKey2.url);
    // The posters in the vehicles still scan until key 1 retires.
    await expectScans(a, busKey1.url);
  });

  it('cli: posters without --operator and without --reissue is an error', async () => {
    const run = await cli(['posters', '--out', path.join(dir, 'none'), '--format', 'svg']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("required option '--operator <id>' not specified");
  });

  it('rotating again during the grace period is allowed: several old keys are in grace, each with its own end', async () => {
    const now = new Date();
    const r = await rotateCodeKey(a.db, a.app.ctx.keyring, { graceDays: 3, now });
    expect(r.active.id).toBe(3);
    expect(r.inGrace.map((k) => [k.id, k.retiresAt!.getTime()])).toEqual([
      [1, key1RetiresAt.getTime()], // not extended
      [2, now.getTime() + 3 * DAY],
    ]);
    const busKey3 = await currentCode(b, busId);
    expect(codeTokenKeyId(busKey3.token)).toBe(3);
    for (const code of [busKey1, busKey2, busKey3]) await expectScans(b, code.url);

    const list = await cli(['keys', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n').filter((l) => /^\s+key \d/.test(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`key 1 .*in grace, retires_at ${key1RetiresAt.toISOString()}`));
    expect(lines[1]).toMatch(/key 2 .*in grace, retires_at /);
    expect(lines[2]).toMatch(/key 3 .*active$/);
  });

  it('at the end of the grace period − 1 s the old poster scans; at + 1 s it answers 410 code_key_retired on every server', async () => {
    // C read the keys once, at its scan before the rotation: its view is stale now, so it reads them again.
    expect(c.app.ctx.keyring.codeKeyRetiresAt(1)).toBeNull();
    for (const t of [c, a, b, d]) {
      setClock(t, key1RetiresAt, -1000);
      await expectScans(t, busKey1.url);
    }
    expect(c.app.ctx.keyring.codeKeyRetiresAt(1)).toEqual(key1RetiresAt);
    for (const t of [c, a, b, d]) {
      setClock(t, key1RetiresAt, 1000);
      expectError(await scan(t, busKey1.url), 410, 'code_key_retired');
      await expectScans(t, busKey2.url);
    }
    for (const t of [a, b, c, d]) t.clock.offsetMs = 0;
  });
});
