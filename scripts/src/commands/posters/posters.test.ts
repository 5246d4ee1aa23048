// The vitest ProvidedContext augmentation that test-app's inject() relies on (type only, erased at run time).
import type {} from '../../../../tests/support/global-setup.js';
import { createCanvas } from '@napi-rs/canvas';
import { Resvg } from '@resvg/resvg-js';
import type { AppContext } from '@ridetrace/server';
import jsQR from 'jsqr';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliEnv,
  confirmedPassenger,
  createCarrier,
  createTestApp,
  seedWorld,
  type TestApp,
  type World,
} from '../../../../tests/support/test-app.js';
import { runCli } from '../../../../tests/support/run-cli.js';
import { renderPosters, safeName, type PosterOptions } from './index.js';
import { INSTRUCTION_EN, INSTRUCTION_ZH } from '@ridetrace/server';
import { PosterError } from './query.js';

let t: TestApp;
let w: World;
let ctx: AppContext;
let dir: string;

interface Fixture {
  id: number;
  plate: string;
  kind: string;
  route: string | null;
  /** The current code's QR content, as GET /v1/carriers/:id/code answers it. */
  url: string;
}
/** Active carriers of w.operatorId, in id order. */
let active: Fixture[];
let retiredId: number;
let otherOperatorCarrierId: number;
/** The code a reissue replaced: printed before, it no longer registers rides. */
let staleUrl: string;

beforeAll(async () => {
  // Every poster of every format is scanned by a passenger; the per-passenger limit is not under test here.
  t = await createTestApp({ RATE_LIMIT_PER_PASSENGER_PER_MINUTE: '1000' });
  w = await seedWorld(t);
  ctx = t.app.ctx;
  dir = await mkdtemp(path.join(os.tmpdir(), 'rt-posters-'));

  const bodies = [
    { kind: 'bus', plate: '粤B20001', route: '36路', city: '深圳' },
    { kind: 'bus', plate: '粤B20002', route: '101路', city: '深圳' },
    { kind: 'taxi', plate: '粤B·D2003', city: '深圳' },
    { kind: 'metro', plate: 'M-401', route: '1号线', city: '深圳' },
    { kind: 'ferry', plate: 'F 7', route: '蛇口—前海', city: '深圳' },
  ];
  active = [];
  for (const body of bodies) {
    const { carrier, code } = await createCarrier(t, w.tokens.operator, body);
    active.push({
      id: carrier.id,
      plate: body.plate,
      kind: body.kind,
      route: body.route ?? null,
      url: code.url,
    });
  }
  // A reprint after a reissue: the poster must carry generation 2.
  const reissued = active[1]!;
  staleUrl = reissued.url;
  const fresh = await t
    .http()
    .post(`/v1/carriers/${reissued.id}/code`)
    .set('authorization', w.tokens.operator)
    .expect(201);
  reissued.url = (fresh.body as { url: string }).url;

  const retired = await createCarrier(t, w.tokens.operator, {
    kind: 'bus',
    plate: '粤B20009',
    route: '36路',
    city: '深圳',
  });
  retiredId = retired.carrier.id;
  await t.http().post(`/v1/carriers/${retiredId}/retire`).set('authorization', w.tokens.operator).expect(200);
  const other = await createCarrier(t, w.tokens.otherOperator, {
    kind: 'taxi',
    plate: '粤B99999',
    city: '深圳',
  });
  otherOperatorCarrierId = other.carrier.id;
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

let outSeq = 0;
function outDir(): string {
  return path.join(dir, `out-${++outSeq}`);
}

function render(opts: Partial<PosterOptions> & Pick<PosterOptions, 'format'>) {
  return renderPosters(ctx, { operator: w.operatorId, out: outDir(), dpi: 150, ...opts });
}

interface Raster {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

function decode(img: Raster): string | null {
  return jsQR(img.data, img.width, img.height)?.data ?? null;
}

/** Columns [x0, x1) of an RGBA raster: one poster of a two-up sheet. */
function crop(img: Raster, x0: number, x1: number): Raster {
  const width = x1 - x0;
  const data = new Uint8ClampedArray(width * img.height * 4);
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray((y * img.width + x0) * 4, (y * img.width + x1) * 4), y * width * 4);
  }
  return { data, width, height: img.height };
}

function halves(img: Raster): [Raster, Raster] {
  const mid = Math.floor(img.width / 2);
  return [crop(img, 0, mid), crop(img, mid, img.width)];
}

function pngRaster(buf: Buffer): Raster {
  const png = PNG.sync.read(buf);
  return { data: new Uint8ClampedArray(png.data), width: png.width, height: png.height };
}

/** SVG → pixels with resvg; the QR needs no font. */
function svgRaster(svg: string): Raster {
  return pngRaster(new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 } }).render().asPng());
}

/** Every page of a PDF rasterised with pdf.js (as a viewer would draw it), and its text. */
async function pdfPages(
  buf: Buffer,
): Promise<{ raster: Raster; text: string; widthMm: number; heightMm: number }[]> {
  const pdf = await getDocument({ data: new Uint8Array(buf), useSystemFonts: false }).promise;
  const pages = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const page = await pdf.getPage(i);
    const viewport = page.getViewport({ scale: 2 });
    const canvas = createCanvas(Math.round(viewport.width), Math.round(viewport.height));
    const context = canvas.getContext('2d');
    await page.render({ canvas: canvas as never, canvasContext: context as never, viewport }).promise;
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const content = await page.getTextContent();
    const text = content.items.map((item) => ('str' in item ? item.str : '')).join('\n');
    const [x0, y0, x1, y1] = page.view as [number, number, number, number];
    pages.push({
      raster: { data: image.data, width: image.width, height: image.height },
      text,
      widthMm: ((x1 - x0) * 25.4) / 72,
      heightMm: ((y1 - y0) * 25.4) / 72,
    });
  }
  await pdf.destroy();
  return pages;
}

/** A confirmed passenger scans `code`: the status of POST /v1/rides. */
async function scan(rider: string, code: string): Promise<number> {
  const res = await t
    .http()
    .post('/v1/rides')
    .set('authorization', rider)
    .send({ code, clientRideId: randomUUID() });
  return res.status;
}

function fileName(c: Fixture, ext: string): string {
  return `${safeName(c.plate)}-${c.id}.${ext}`;
}

// ---------------------------------------------------------------- one poster per carrier

describe('posters: one A5 poster per active carrier', () => {
  it('PNG: every QR decodes to the carrier’s current code URL, and a passenger’s scan of it registers (201)', async () => {
    const rider = await confirmedPassenger(t, 'poster-png-rider');
    const progress: number[] = [];
    const report = await render({ format: 'png', onProgress: (done) => progress.push(done) });
    expect(report).toMatchObject({ operatorId: w.operatorId, carriers: active.length, pages: active.length });
    expect(report.files.map((f) => path.basename(f))).toEqual(active.map((c) => fileName(c, 'png')));
    expect(progress).toEqual(active.map((_, i) => i + 1));

    for (const [i, c] of active.entries()) {
      const img = pngRaster(await readFile(report.files[i]!));
      expect([img.width, img.height]).toEqual([874, 1240]); // A5 at 150 dpi
      const url = decode(img);
      expect(url).toBe(c.url);
      expect(url).toMatch(/^HTTPS:\/\/RT\.EXAMPLE\.CN\/C\/[A-Z2-7]{32}$/);
      expect(await scan(rider, url!)).toBe(201);
    }
    expect(await scan(rider, staleUrl)).not.toBe(201); // the reprint replaced this one
  });

  it('PNG at the default 300 dpi is 1748 × 2480 pixels', async () => {
    const report = await renderPosters(ctx, {
      operator: w.operatorId,
      kind: 'taxi',
      out: outDir(),
      format: 'png',
    });
    const img = pngRaster(await readFile(report.files[0]!));
    expect([img.width, img.height]).toEqual([1748, 2480]);
    expect(decode(img)).toBe(active[2]!.url);
  });

  it('PDF: one A5 page per file whose QR (rasterised by pdf.js) scans, with the Chinese and English text', async () => {
    const rider = await confirmedPassenger(t, 'poster-pdf-rider');
    const report = await render({ format: 'pdf' });
    expect(report.files.map((f) => path.basename(f))).toEqual(active.map((c) => fileName(c, 'pdf')));
    for (const [i, c] of active.entries()) {
      const pages = await pdfPages(await readFile(report.files[i]!));
      expect(pages).toHaveLength(1);
      const page = pages[0]!;
      expect(page.widthMm).toBeCloseTo(148, 1);
      expect(page.heightMm).toBeCloseTo(210, 1);
      const url = decode(page.raster);
      expect(url).toBe(c.url);
      expect(await scan(rider, url!)).toBe(201);
      // Text is real text in the embedded CJK font (extractable), not outlines or missing glyphs.
      for (const s of [INSTRUCTION_ZH, INSTRUCTION_EN, c.plate, '扫码登记乘车'])
        expect(page.text).toContain(s);
      if (c.route) expect(page.text).toContain(c.route);
    }
  });

  it('SVG: plate, route, kind and the bilingual instruction as text with CJK font fallbacks; the QR scans', async () => {
    const rider = await confirmedPassenger(t, 'poster-svg-rider');
    const report = await render({ format: 'svg' });
    expect(report.files.map((f) => path.basename(f))).toEqual(active.map((c) => fileName(c, 'svg')));
    const kinds: Record<string, string> = {
      bus: '公交 Bus',
      taxi: '出租车 Taxi',
      metro: '地铁 Metro',
      ferry: '轮渡 Ferry',
    };
    for (const [i, c] of active.entries()) {
      const svg = await readFile(report.files[i]!, 'utf8');
      expect(svg).toContain('width="148mm" height="210mm"');
      expect(svg).toMatch(
        /font-family="'Noto Sans SC', 'Noto Sans CJK SC', 'Source Han Sans SC'[^"]*sans-serif"/,
      );
      expect(svg).toContain(`>${c.plate}</text>`);
      expect(svg).toContain(kinds[c.kind]!);
      if (c.route) expect(svg).toContain(c.route);
      expect(svg).toContain(`>${INSTRUCTION_ZH}</text>`);
      expect(svg).toContain(`>${INSTRUCTION_EN}</text>`);
      const url = decode(svgRaster(svg));
      expect(url).toBe(c.url);
      expect(await scan(rider, url!)).toBe(201);
    }
  });

  it('file names are <plate>-<carrierId>.<ext>, made safe for file systems', () => {
    expect(safeName('粤B·D2003')).toBe('粤B_D2003');
    expect(safeName('F 7')).toBe('F_7');
    expect(safeName('../../etc/passwd')).toBe('etc_passwd');
    expect(safeName('M-401')).toBe('M-401');
    expect(safeName('a/b\\c:d*e?f"g<h>i|j')).toBe('a_b_c_d_e_f_g_h_i_j');
  });
});

// ---------------------------------------------------------------- two-up A4 sheets

describe('posters --sheet a4: two A5 posters on each A4 landscape sheet', () => {
  it('PDF: one file, a page per two posters, both QRs of each page scan', async () => {
    const rider = await confirmedPassenger(t, 'poster-sheet-pdf-rider');
    const report = await render({ format: 'pdf', sheet: 'a4' });
    expect(report).toMatchObject({ carriers: 5, pages: 3 });
    expect(report.files.map((f) => path.basename(f))).toEqual([`${w.operatorId}-a4.pdf`]);
    const pages = await pdfPages(await readFile(report.files[0]!));
    expect(pages).toHaveLength(3);
    const urls: (string | null)[] = [];
    for (const page of pages) {
      expect(page.widthMm).toBeCloseTo(297, 1);
      expect(page.heightMm).toBeCloseTo(210, 1);
      urls.push(...halves(page.raster).map(decode));
    }
    expect(urls).toEqual([...active.map((c) => c.url), null]); // the last sheet's right half is empty
    for (const url of urls.slice(0, 5)) expect(await scan(rider, url!)).toBe(201);
  });

  it('PNG and SVG: one file per sheet, each holding two decodable posters', async () => {
    const png = await render({ format: 'png', sheet: 'a4' });
    expect(png.files.map((f) => path.basename(f))).toEqual(
      [1, 2, 3].map((n) => `${w.operatorId}-a4-00${n}.png`),
    );
    const pngUrls: (string | null)[] = [];
    for (const file of png.files) {
      const img = pngRaster(await readFile(file));
      expect([img.width, img.height]).toEqual([1754, 1240]); // A4 landscape at 150 dpi
      pngUrls.push(...halves(img).map(decode));
    }
    expect(pngUrls).toEqual([...active.map((c) => c.url), null]);

    const svg = await render({ format: 'svg', sheet: 'a4', kind: 'bus' });
    expect(svg.files.map((f) => path.basename(f))).toEqual([`${w.operatorId}-bus-a4-001.svg`]);
    const content = await readFile(svg.files[0]!, 'utf8');
    expect(content).toContain('width="297mm" height="210mm"');
    expect(halves(svgRaster(content)).map(decode)).toEqual([active[0]!.url, active[1]!.url]);
  });
});

// ---------------------------------------------------------------- filters and errors

describe('posters: filters and errors', () => {
  const platesOf = (files: string[]) => files.map((f) => path.basename(f));

  it('--route and --kind select carriers; retired carriers and other operators never get posters', async () => {
    const byRoute = await render({ format: 'svg', route: '36路' });
    expect(platesOf(byRoute.files)).toEqual([fileName(active[0]!, 'svg')]); // not the retired 粤B20009
    const byKind = await render({ format: 'svg', kind: 'bus' });
    expect(platesOf(byKind.files)).toEqual([fileName(active[0]!, 'svg'), fileName(active[1]!, 'svg')]);
    const both = await render({ format: 'svg', kind: 'metro', route: '1号线' });
    expect(platesOf(both.files)).toEqual([fileName(active[3]!, 'svg')]);
    const all = await render({ format: 'svg' });
    const ids = await Promise.all(
      all.files.map(async (f) => /data-carrier-id="(\d+)"/.exec(await readFile(f, 'utf8'))![1]),
    );
    expect(ids.map(Number)).toEqual(active.map((c) => c.id));
    expect(ids).not.toContain(String(retiredId));
    expect(ids).not.toContain(String(otherOperatorCarrierId));
  });

  it('an unknown operator is an error, and nothing is written', async () => {
    const out = outDir();
    await expect(renderPosters(ctx, { operator: 'ghost-op', out, format: 'png' })).rejects.toThrow(
      new PosterError("operator 'ghost-op' does not exist"),
    );
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it('an operator without active carriers, or filters that match none, say so clearly', async () => {
    await t.db.insertInto('operators').values({ id: 'empty-op', name: 'Empty' }).execute();
    await expect(renderPosters(ctx, { operator: 'empty-op', out: outDir(), format: 'svg' })).rejects.toThrow(
      "operator 'empty-op' has no active carriers: no posters written",
    );
    await expect(render({ format: 'svg', route: '36路', kind: 'taxi' })).rejects.toThrow(
      `operator '${w.operatorId}' has no active carriers with route '36路' and kind taxi: no posters written`,
    );
  });
});

// ---------------------------------------------------------------- the CLI (needs cli.ts to register the command)

const cli = (args: string[]) => runCli(args, cliEnv(t), 90_000);

// Each run starts pnpm, tsx and the server modules: seconds per child process.
describe('posters: CLI', { timeout: 90_000 }, () => {
  it('cli: posters --help lists the options', async () => {
    const run = await cli(['posters', '--help']);
    expect(run.code).toBe(0);
    for (const s of [
      '--operator <id>',
      '--route <route>',
      '--kind <kind>',
      '--out <dir>',
      '--format <format>',
      '--sheet <paper>',
    ]) {
      expect(run.stdout).toContain(s);
    }
  });

  it('cli: posters writes PNG posters whose QR scans, prints the report; errors exit non-zero', async () => {
    const rider = await confirmedPassenger(t, 'poster-cli-rider');
    const out = outDir();
    const run = await cli([
      'posters',
      '--operator',
      w.operatorId,
      '--kind',
      'taxi',
      '--out',
      out,
      '--format',
      'png',
      '--dpi',
      '100',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`QR base URL: ${t.config.publicBaseUrl}`);
    expect(run.stdout).toContain('rendered 1/1');
    expect(run.stdout).toMatch(
      new RegExp(`1 carriers of ${w.operatorId}: 1 PNG file, 1 page in .*duration \\d+\\.\\d s`),
    );
    const files = await readdir(out);
    expect(files).toEqual([fileName(active[2]!, 'png')]);
    const url = decode(pngRaster(await readFile(path.join(out, files[0]!))));
    expect(url).toBe(active[2]!.url);
    expect(await scan(rider, url!)).toBe(201);

    const unknown = await cli(['posters', '--operator', 'ghost-op', '--out', outDir(), '--format', 'svg']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("operator 'ghost-op' does not exist");

    const badFormat = await cli([
      'posters',
      '--operator',
      w.operatorId,
      '--out',
      outDir(),
      '--format',
      'gif',
    ]);
    expect(badFormat.code).not.toBe(0);
    expect(badFormat.stderr).toContain("argument 'gif' is invalid. Allowed choices are svg, pdf, png");
  });

  it('cli: in development without PUBLIC_BASE_URL the QR encodes 127.0.0.1 on PORT, the base URL printed first', async () => {
    const env: NodeJS.ProcessEnv = { ...cliEnv(t), NODE_ENV: 'development', PORT: '4123' };
    delete env.PUBLIC_BASE_URL;
    const out = outDir();
    const run = await runCli(
      ['posters', '--operator', w.operatorId, '--kind', 'taxi', '--out', out, '--format', 'svg'],
      env,
      90_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('QR base URL: http://127.0.0.1:4123');
    const files = await readdir(out);
    expect(files).toEqual([fileName(active[2]!, 'svg')]);
    const url = decode(svgRaster(await readFile(path.join(out, files[0]!), 'utf8')));
    // The same code as the API gives (its token), on the dev server's address instead of PUBLIC_BASE_URL.
    const token = active[2]!.url.split('/C/')[1]!;
    expect(url).toBe(`HTTP://127.0.0.1:4123/C/${token}`);
  });
});
