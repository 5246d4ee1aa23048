// The vitest ProvidedContext augmentation that test-app's inject() relies on (type only, erased at run time).
import type {} from '../../../tests/support/global-setup.js';
import { issueCode, type AppContext } from '@ridetrace/server';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliEnv,
  createTestApp,
  seedWorld,
  type TestApp,
  type World,
} from '../../../tests/support/test-app.js';
import { runCli } from '../../../tests/support/run-cli.js';
import { createProgress } from '../progress.js';
import { CarrierImportError, formatProblem, importCarriers } from './carriers-import.js';

let t: TestApp;
let w: World;
let ctx: AppContext;
let dir: string;

beforeAll(async () => {
  t = await createTestApp();
  w = await seedWorld(t);
  ctx = t.app.ctx;
  dir = await mkdtemp(path.join(os.tmpdir(), 'rt-import-'));
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let fileSeq = 0;
/** Writes a CSV under the test's temp dir; `name` is what messages call it. */
async function csv(content: string | Buffer, name = `carriers-${++fileSeq}.csv`): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

async function carriersOf(operatorId: string) {
  return t.db
    .selectFrom('carriers')
    .selectAll()
    .where('operator_id', '=', operatorId)
    .orderBy('plate')
    .execute();
}

async function countCarriers(): Promise<number> {
  const r = await t.db
    .selectFrom('carriers')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function newOperator(id: string) {
  await t.db.insertInto('operators').values({ id, name: id }).execute();
  return id;
}

describe('carriers import: valid files', () => {
  it('imports a UTF-8 file with BOM and CRLF, columns in any order, route optional', async () => {
    const op = await newOperator('imp-basic');
    const file = await csv(
      '\uFEFFcity,Plate,kind,route,operator\r\n' +
        `深圳,粤B10001,bus,36路,${op}\r\n` +
        `深圳,粤B·T2002,TAXI,,${op}\r\n` +
        `"深圳",M-301,metro,"1号线",${op}\r\n`,
    );
    const report = await importCarriers(ctx, file);
    expect(report).toMatchObject({
      rows: 3,
      created: 3,
      updated: 0,
      unchanged: 0,
      rejected: 0,
      problems: [],
      written: true,
      rejectsFile: null,
    });
    expect(report.durationMs).toBeGreaterThan(0);
    const rows = await carriersOf(op);
    expect(rows.map((r) => [r.kind, r.plate, r.route, r.city, r.code_generation, r.retired_at])).toEqual([
      ['metro', 'M-301', '1号线', '深圳', 1, null],
      ['bus', '粤B10001', '36路', '深圳', 1, null],
      ['taxi', '粤B·T2002', null, '深圳', 1, null],
    ]);
  });

  it('--operator applies to a file without an operator column, and to rows with an empty operator', async () => {
    const op = await newOperator('imp-default');
    const other = await newOperator('imp-other');
    const noColumn = await csv('kind,plate,city\nbus,D1,广州\n');
    expect(await importCarriers(ctx, noColumn, { operator: op })).toMatchObject({ created: 1 });
    const mixed = await csv(`kind,plate,city,operator\nbus,D2,广州,\nbus,D3,广州,${other}\n`);
    expect(await importCarriers(ctx, mixed, { operator: op })).toMatchObject({ created: 2 });
    expect((await carriersOf(op)).map((r) => r.plate)).toEqual(['D1', 'D2']);
    expect((await carriersOf(other)).map((r) => r.plate)).toEqual(['D3']);
  });

  it('re-import upserts by operator + plate: fields updated, id and code generation kept, retired stays retired', async () => {
    const op = await newOperator('imp-upsert');
    const first = await csv(
      `kind,plate,route,city,operator\n` +
        `bus,U1,1路,深圳,${op}\nbus,U2,2路,深圳,${op}\nbus,U3,3路,深圳,${op}\n`,
    );
    await importCarriers(ctx, first);
    const before = new Map((await carriersOf(op)).map((r) => [r.plate, r]));
    await issueCode(ctx, { operatorId: null }, before.get('U1')!.id); // a reprinted poster: generation 2
    await t.db
      .updateTable('carriers')
      .set({ retired_at: new Date() })
      .where('id', '=', before.get('U3')!.id)
      .execute();

    const second = await csv(
      `kind,plate,route,city,operator\n` +
        `taxi,U1,,广州,${op}\n` + // changed kind, route removed, city changed
        `bus,U2,2路,深圳,${op}\n` + // as it was
        `bus,U3,33路,深圳,${op}\n` + // retired: updated, not brought back
        `ferry,U4,渡轮线,深圳,${op}\n`, // new
    );
    const report = await importCarriers(ctx, second);
    expect(report).toMatchObject({ rows: 4, created: 1, updated: 2, unchanged: 1, rejected: 0 });

    const after = new Map((await carriersOf(op)).map((r) => [r.plate, r]));
    expect(after.get('U1')).toMatchObject({
      id: before.get('U1')!.id,
      kind: 'taxi',
      route: null,
      city: '广州',
      code_generation: 2,
    });
    expect(after.get('U2')!.updated_at).toEqual(before.get('U2')!.updated_at);
    expect(after.get('U3')).toMatchObject({ id: before.get('U3')!.id, route: '33路' });
    expect(after.get('U3')!.retired_at).not.toBeNull();
    expect(after.get('U4')).toMatchObject({ kind: 'ferry', code_generation: 1, retired_at: null });
  });

  it('5000 rows in batches: created, then unchanged on re-import, with progress to the end', async () => {
    const op = await newOperator('imp-bulk');
    const lines = ['kind,plate,route,city'];
    for (let i = 0; i < 5000; i++) lines.push(`bus,粤B${String(i).padStart(5, '0')},${i % 97}路,深圳`);
    const file = await csv(`${lines.join('\n')}\n`);
    const progress: [number, number][] = [];
    const report = await importCarriers(ctx, file, {
      operator: op,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(report).toMatchObject({ rows: 5000, created: 5000, updated: 0, rejected: 0 });
    expect(progress).toHaveLength(5);
    expect(progress.at(-1)).toEqual([5000, 5000]);
    expect(await importCarriers(ctx, file, { operator: op, batchSize: 700 })).toMatchObject({
      created: 0,
      updated: 0,
      unchanged: 5000,
    });
    expect(await carriersOf(op)).toHaveLength(5000);
  });
});

describe('carriers import: bad rows', () => {
  const BAD =
    'kind,plate,route,city,operator\n' +
    'bus,OK1,1路,深圳,metro-bus\n' + // 2: fine
    'plane,OK2,,深圳,metro-bus\n' + // 3: kind
    'bus,粤B!!,,深圳,metro-bus\n' + // 4: plate
    `bus,OK3,${'长'.repeat(41)},深圳,metro-bus\n` + // 5: route too long
    'bus,OK4,,,metro-bus\n' + // 6: city missing
    'bus,OK5,,深圳,no-such-op\n' + // 7: unknown operator
    'bus,OK6,,深圳,Bad Op!\n' + // 8: malformed operator
    'bus,OK1,2路,深圳,metro-bus\n' + // 9: same plate as line 2
    'bus,OK7,,深圳\n' + // 10: a field missing
    'bus,"OK\n8",,深圳,metro-bus\n' + // 11–12: a quoted line break, bad plate
    ',,,,\n' + // 13: empty cells only: skipped
    'taxi,,,深圳,metro-bus\n' + // 14: plate missing, reported on its own line after the two-line row
    'bus,OK9,9路,深圳,metro-bus\n'; // 15: fine

  it('reports every bad row with line, field and reason, and writes nothing', async () => {
    const before = await countCarriers();
    const file = await csv(BAD, 'bad.csv');
    const report = await importCarriers(ctx, file);
    expect(report).toMatchObject({ rows: 12, written: false, created: 0, rejected: 10 });
    expect(report.problems.map((p) => formatProblem('bad.csv', p))).toEqual([
      "bad.csv:3: kind: 'plane' is not one of bus, taxi, metro, ferry",
      "bad.csv:4: plate: '粤B!!' does not look like a plate (2–16 letters or digits; '·', '.', '-' or spaces inside)",
      'bad.csv:5: route: longer than 40 characters (41)',
      'bad.csv:6: city: required',
      "bad.csv:7: operator: 'no-such-op' is not an existing operator",
      "bad.csv:8: operator: 'Bad Op!' is not an existing operator",
      "bad.csv:9: plate: 'OK1' repeats line 2 (same operator and plate)",
      'bad.csv:10: row: expected 5 fields (as in the header), found 4',
      "bad.csv:11: plate: 'OK\n8' does not look like a plate (2–16 letters or digits; '·', '.', '-' or spaces inside)",
      'bad.csv:14: plate: required',
    ]);
    expect(await countCarriers()).toBe(before);
    await expect(readFile(`${file}.rejects.csv`)).rejects.toThrow(/ENOENT/);
  });

  it('--skip-invalid writes the valid rows and <file>.rejects.csv: original lines plus a reason column', async () => {
    const op = await newOperator('imp-skip');
    const file = await csv(`\uFEFF${BAD.replaceAll('metro-bus', op)}`, 'skip.csv');
    const report = await importCarriers(ctx, file, { skipInvalid: true });
    expect(report).toMatchObject({ rows: 12, written: true, created: 2, rejected: 10 });
    expect(report.rejectsFile).toBe(`${file}.rejects.csv`);
    expect((await carriersOf(op)).map((r) => r.plate)).toEqual(['OK1', 'OK9']);

    const rejects = await readFile(report.rejectsFile!, 'utf8');
    expect(rejects.startsWith('\uFEFF')).toBe(true); // as the input had: Excel needs it for UTF-8
    const lines = rejects.slice(1).split('\n');
    expect(lines[0]).toBe('kind,plate,route,city,operator,reason');
    expect(lines[1]).toBe(
      `plane,OK2,,深圳,${op},"line 3: kind: 'plane' is not one of bus, taxi, metro, ferry"`,
    );
    expect(lines[7]).toBe(
      `bus,OK1,2路,深圳,${op},line 9: plate: 'OK1' repeats line 2 (same operator and plate)`,
    );
    expect(lines[8]).toBe('bus,OK7,,深圳,"line 10: row: expected 5 fields (as in the header), found 4"');
    expect(rejects).toContain(`bus,"OK\n8",,深圳,${op},"line 11: plate: 'OK\n8' does not look like a plate`);
    expect(rejects.trimEnd().split('\n').at(-1)).toBe(`taxi,,,深圳,${op},line 14: plate: required`);
  });

  it('a row with several problems lists all of them', async () => {
    const file = await csv('kind,plate,city\nboat,x,\n', 'multi.csv');
    const report = await importCarriers(ctx, file, { operator: w.operatorId });
    expect(report.problems.map((p) => formatProblem('multi.csv', p))).toEqual([
      "multi.csv:2: kind: 'boat' is not one of bus, taxi, metro, ferry",
      "multi.csv:2: plate: 'x' does not look like a plate (2–16 letters or digits; '·', '.', '-' or spaces inside)",
      'multi.csv:2: city: required',
    ]);
  });
});

describe('carriers import: files that cannot be imported', () => {
  it.each([
    ['a missing file', null, {}, /nope\.csv: cannot read: no such file$/],
    [
      'an empty file',
      '',
      {},
      /: empty file; the first row must be a header: kind,plate,route,city,operator$/,
    ],
    [
      'unknown columns (named)',
      'kind,plate,city,colour,seats\nbus,A1,深圳,red,40\n',
      { operator: 'metro-bus' },
      /:1: header: unknown columns 'colour', 'seats' \(expected kind, plate, route, city, operator/,
    ],
    [
      'no header row (the first row is data)',
      'bus,A1,,深圳\n',
      {},
      /:1: header: unknown columns 'bus', 'a1', '', '深圳'.*the first row must be the header/,
    ],
    ['a missing column', 'kind,plate\nbus,A1\n', {}, /:1: header: missing column 'city'$/],
    ['a repeated column', 'kind,plate,city,city\n', {}, /:1: header: column 'city' twice$/],
    [
      'no operator column and no --operator',
      'kind,plate,city\nbus,A1,深圳\n',
      {},
      /:1: operator: no operator column; add one or pass --operator <id>$/,
    ],
    [
      'an unknown --operator',
      'kind,plate,city\nbus,A1,深圳\n',
      { operator: 'ghost-op' },
      /^--operator: 'ghost-op' is not an existing operator$/,
    ],
    [
      'text that is not UTF-8 (GBK), with its line',
      Buffer.concat([
        Buffer.from('kind,plate,city\nbus,A1,'),
        Buffer.from([0xc9, 0xee, 0xdb, 0xda]),
        Buffer.from('\n'),
      ]),
      { operator: 'metro-bus' },
      /:2: not UTF-8 text/,
    ],
    [
      'malformed CSV (a stray quote), with its line',
      'kind,plate,city\nbus,A1,深圳\nbus,"A2"x,深圳\n',
      { operator: 'metro-bus' },
      /:3: malformed CSV: Invalid Closing Quote/,
    ],
  ])('%s → an error naming the file (and line)', async (_, content, opts, message) => {
    const file = content === null ? path.join(dir, 'nope.csv') : await csv(content);
    const before = await countCarriers();
    const err = await importCarriers(ctx, file, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CarrierImportError);
    expect((err as Error).message).toMatch(message);
    if (!(err as Error).message.startsWith('--operator')) expect((err as Error).message).toContain(file);
    expect(await countCarriers()).toBe(before);
  });
});

describe('progress reporter', () => {
  it('without a terminal prints plain lines: the first update, then every tenth to the end', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const p = createProgress('imported', out);
    for (let done = 1000; done <= 100_000; done += 1000) p.update(done, 100_000);
    p.stop();
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines).toEqual([
      'imported 1000/100000',
      ...Array.from({ length: 10 }, (_, i) => `imported ${(i + 1) * 10_000}/100000`),
    ]);
  });

  it('stop() prints where a run ended early', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const p = createProgress('imported', out);
    p.update(1000, 100_000);
    p.update(2000, 100_000);
    p.stop();
    expect(chunks.join('')).toBe('imported 1000/100000\nimported 2000/100000\n');
  });
});

// ---------------------------------------------------------------- the CLI (needs cli.ts to register the command)

const cli = (args: string[]) => runCli(args, cliEnv(t));

// Each run starts pnpm, tsx and the server modules: seconds per child process.
describe('carriers import: CLI', { timeout: 90_000 }, () => {
  it('cli: carriers import --help describes the columns', async () => {
    const run = await cli(['carriers', 'import', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('<file.csv>');
    expect(run.stdout).toContain('--skip-invalid');
    expect(run.stdout).toContain('kind      bus | taxi | metro | ferry');
  });

  it('cli: carriers import reports bad rows on stderr and exits 1; a good file prints the summary', async () => {
    const op = await newOperator('imp-cli');
    const bad = await csv('kind,plate,city\nbus,C1,深圳\nbus,C!,深圳\n', 'cli-bad.csv');
    const refused = await cli(['carriers', 'import', bad, '--operator', op]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad}:3: plate: 'C!' does not look like a plate`);
    expect(refused.stderr).toContain('nothing imported');
    expect(await carriersOf(op)).toHaveLength(0);

    const good = await csv('kind,plate,city\nbus,C1,深圳\nbus,C2,深圳\n', 'cli-good.csv');
    const ok = await cli(['carriers', 'import', good, '--operator', op]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('imported 2/2');
    expect(ok.stdout).toMatch(/created 2, updated 0, unchanged 0, rejected 0, duration \d+\.\d s/);

    const missing = await cli(['carriers', 'import', path.join(dir, 'absent.csv'), '--operator', op]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('absent.csv: cannot read: no such file');
  });
});
