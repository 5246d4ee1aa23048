import { Resvg } from '@resvg/resvg-js';
import type { AppContext } from '@ridetrace/server/context';
import { signCodeToken } from '@ridetrace/server/crypto';
import type { CarrierRow } from '@ridetrace/server/db/tables';
import { findOperator } from '@ridetrace/server/modules/admin/admin.repository';
import { listCarriers } from '@ridetrace/server/modules/carriers/carriers.repository';
import { codeQrContent } from '@ridetrace/server/modules/carriers/carriers.service';
import { CARRIER_KINDS, type CarrierKind } from '@ridetrace/shared';
import { InvalidArgumentError, Option, type Command } from 'commander';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { withContext } from '../context.js';
import { createProgress } from '../progress.js';

export const POSTER_FORMATS = ['svg', 'pdf', 'png'] as const;
export type PosterFormat = (typeof POSTER_FORMATS)[number];

export interface PosterOptions {
  operator: string;
  route?: string | undefined;
  kind?: CarrierKind | undefined;
  /** Directory for the files (created if missing; files of the same name are replaced). */
  out: string;
  format: PosterFormat;
  /** Two A5 posters side by side on each A4 landscape sheet. */
  sheet?: 'a4' | undefined;
  /** PNG resolution (dots per inch). */
  dpi?: number | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface PosterReport {
  operatorId: string;
  /** Active carriers that got a poster. */
  carriers: number;
  /** Paths of the files written, in carrier id order. */
  files: string[];
  /** Pages printed: one per poster, or one per A4 sheet. */
  pages: number;
  durationMs: number;
}

/** Nothing to print: unknown operator, or no active carrier matches. */
export class PosterError extends Error {}

export const INSTRUCTION_ZH = '请使用超级应用扫码登记乘车';
export const INSTRUCTION_EN = 'Scan with the super-app to register your ride';

const KIND_LABELS: Record<CarrierKind, string> = {
  bus: '公交 Bus',
  taxi: '出租车 Taxi',
  metro: '地铁 Metro',
  ferry: '轮渡 Ferry',
};

/**
 * Print-ready A5 posters (148 × 210 mm), one per active carrier of an operator: the QR of the carrier's
 * current code (the same content as GET /v1/carriers/:id/code), plate, route, kind and a bilingual
 * instruction. SVG leaves fonts to the viewer; PDF and PNG embed Noto Sans (SC) from @embedpdf/fonts-sc.
 */
export async function renderPosters(ctx: AppContext, opts: PosterOptions): Promise<PosterReport> {
  const started = performance.now();
  if (!(await findOperator(ctx.db, opts.operator))) {
    throw new PosterError(`operator '${opts.operator}' does not exist`);
  }
  const carriers = await activeCarriers(ctx, opts);
  if (carriers.length === 0) {
    const filters = [
      opts.route !== undefined ? `route '${opts.route}'` : '',
      opts.kind !== undefined ? `kind ${opts.kind}` : '',
    ].filter(Boolean);
    throw new PosterError(
      `operator '${opts.operator}' has no active carriers${filters.length ? ` with ${filters.join(' and ')}` : ''}: no posters written`,
    );
  }

  const posters = carriers.map((row) => posterOf(ctx, row));
  await mkdir(opts.out, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: string | Buffer) => {
    const file = path.join(opts.out, name);
    await writeFile(file, data);
    files.push(file);
  };
  const fonts = opts.format === 'svg' ? null : await loadFonts();
  const dpi = opts.dpi ?? 300;
  let done = 0;
  const progressed = (n: number) => {
    done += n;
    opts.onProgress?.(done, posters.length);
  };

  if (opts.sheet === 'a4') {
    const sheets = chunk(posters, 2);
    const prefix = [opts.operator, opts.route, opts.kind, 'a4']
      .filter((s): s is string => s !== undefined)
      .map(safeName)
      .join('-');
    if (opts.format === 'pdf') {
      await write(`${prefix}.pdf`, await renderPdf(sheets, SHEET, fonts!, opts.operator));
      progressed(posters.length);
    } else {
      const digits = Math.max(3, String(sheets.length).length);
      for (const [i, sheet] of sheets.entries()) {
        const svg = renderSvg(sheet, SHEET);
        const name = `${prefix}-${String(i + 1).padStart(digits, '0')}.${opts.format}`;
        await write(name, opts.format === 'svg' ? svg : renderPng(svg, SHEET, dpi, fonts!));
        progressed(sheet.length);
      }
    }
  } else {
    for (const poster of posters) {
      const name = `${safeName(poster.plate)}-${poster.carrierId}.${opts.format}`;
      const page = [poster];
      const data =
        opts.format === 'pdf'
          ? await renderPdf([page], A5, fonts!, opts.operator)
          : opts.format === 'svg'
            ? renderSvg(page, A5)
            : renderPng(renderSvg(page, A5), A5, dpi, fonts!);
      await write(name, data);
      progressed(1);
    }
  }
  return {
    operatorId: opts.operator,
    carriers: posters.length,
    files,
    pages: opts.sheet === 'a4' ? Math.ceil(posters.length / 2) : posters.length,
    durationMs: performance.now() - started,
  };
}

async function activeCarriers(ctx: AppContext, opts: PosterOptions): Promise<CarrierRow[]> {
  const rows: CarrierRow[] = [];
  for (let afterId: number | undefined; ;) {
    const page = await listCarriers(ctx.db, {
      operatorId: opts.operator,
      route: opts.route,
      kind: opts.kind,
      status: 'active',
      afterId,
      limit: 1000,
    });
    rows.push(...page);
    if (page.length < 1000) return rows;
    afterId = page[page.length - 1]!.id;
  }
}

/** Letters and digits of any script stay (plates are often Chinese); anything else becomes '_'. */
export function safeName(s: string): string {
  return (
    s
      .normalize('NFC')
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || '_'
  );
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

// ---------------------------------------------------------------- layout (millimetres)

interface Poster {
  carrierId: number;
  plate: string;
  /** The QR content: codeQrContent of the current code token. */
  url: string;
  shapes: Shape[];
}

type Shape =
  | { type: 'rect'; x: number; y: number; w: number; h: number; r: number; fill?: string; stroke?: string }
  | { type: 'text'; x: number; y: number; size: number; text: string; bold: boolean; fill: string }
  | { type: 'qr'; x: number; y: number; size: number; modules: boolean[][] };

interface PageSize {
  w: number;
  h: number;
  /** Left edge of each poster on the page. */
  slots: number[];
}

const POSTER_W = 148;
const POSTER_H = 210;
const A5: PageSize = { w: POSTER_W, h: POSTER_H, slots: [0] };
// A4 landscape (297 × 210) holds two A5 portrait posters; the 1 mm left over goes around and between them.
const GAP = (297 - 2 * POSTER_W) / 3;
const SHEET: PageSize = { w: 297, h: POSTER_H, slots: [GAP, 2 * GAP + POSTER_W] };

/** Inside this margin (most printers cannot print to the edge). */
const MARGIN = 6;
/** Widest line of text: inside the frame with 4 mm to spare on each side. */
const TEXT_WIDTH = POSTER_W - 2 * MARGIN - 8;
const INK = '#111111';
const QR_QUIET_MODULES = 4;

function posterOf(ctx: AppContext, row: CarrierRow): Poster {
  const token = signCodeToken(ctx.keyring, { carrierId: row.id, generation: row.code_generation });
  const url = codeQrContent(ctx, token);
  // Q (25% recovery) rather than the API's M: posters in vehicles get scratched and dirty.
  const qr = QRCode.create(url, { errorCorrectionLevel: 'Q' });
  const n = qr.modules.size;
  const modules = Array.from({ length: n }, (_, y) =>
    Array.from({ length: n }, (_, x) => qr.modules.get(y, x) === 1),
  );
  const cx = POSTER_W / 2;
  const width = TEXT_WIDTH;
  const details = detailsLine(row.city, row.route, KIND_LABELS[row.kind], DETAILS_MIN_SIZE, width);
  const qrSize = 100;
  const shapes: Shape[] = [
    { type: 'rect', x: 0, y: 0, w: POSTER_W, h: POSTER_H, r: 0, fill: '#ffffff' },
    {
      type: 'rect',
      x: MARGIN,
      y: MARGIN,
      w: POSTER_W - 2 * MARGIN,
      h: POSTER_H - 2 * MARGIN,
      r: 4,
      stroke: INK,
    },
    { type: 'rect', x: MARGIN, y: MARGIN, w: POSTER_W - 2 * MARGIN, h: 24, r: 4, fill: INK },
    { type: 'rect', x: MARGIN, y: MARGIN + 12, w: POSTER_W - 2 * MARGIN, h: 12, r: 0, fill: INK }, // square below
    text(cx, 17.5, '扫码登记乘车', 8.5, true, '#ffffff', width),
    text(cx, 25.5, 'Scan to register your ride', 4.2, false, '#ffffff', width),
    text(cx, 47, row.plate, 15, true, INK, width, 7),
    text(cx, 57.5, details, 6, false, INK, width, DETAILS_MIN_SIZE),
    { type: 'qr', x: (POSTER_W - qrSize) / 2, y: 61, size: qrSize, modules },
    text(cx, 174, INSTRUCTION_ZH, 6, true, INK, width),
    text(cx, 181.5, INSTRUCTION_EN, 4.3, false, INK, width),
    text(
      cx,
      198,
      `${row.operator_id} · No. ${row.id} · gen. ${row.code_generation}`,
      2.8,
      false,
      '#555555',
      width,
    ),
  ];
  return { carrierId: row.id, plate: row.plate, url, shapes };
}

const DETAILS_MIN_SIZE = 3.5;

/** "深圳 · 36路 · 公交 Bus"; a route too long for the line is cut, city and kind stay. */
function detailsLine(
  city: string,
  route: string | null,
  kind: string,
  size: number,
  maxWidth: number,
): string {
  const join = (r: string | null) => [city, r, kind].filter((x): x is string => !!x).join(' · ');
  let chars = [...(route ?? '')];
  if (estimateEm([...join(route)]) * size <= maxWidth) return join(route);
  while (chars.length > 1 && estimateEm([...join(`${chars.join('')}…`)]) * size > maxWidth)
    chars = chars.slice(0, -1);
  return join(`${chars.join('')}…`);
}

/**
 * Centred text, shrunk to fit `maxWidth` (down to `minSize`, then cut with '…'). The width is estimated
 * from character classes, since SVG leaves the font to the viewer; the PDF renderer measures exactly.
 */
function text(
  cx: number,
  y: number,
  s: string,
  size: number,
  bold: boolean,
  fill: string,
  maxWidth: number,
  minSize = size,
): Shape {
  let chars = [...s];
  let fit = Math.min(size, maxWidth / estimateEm(chars));
  if (fit < minSize) {
    fit = minSize;
    while (chars.length > 1 && estimateEm([...chars, '…']) * fit > maxWidth) chars = chars.slice(0, -1);
    chars.push('…');
  }
  return { type: 'text', x: cx, y, size: fit, text: chars.join(''), bold, fill };
}

/** Approximate advance widths in em of Noto Sans (SC): CJK is square, Latin narrower. */
function estimateEm(chars: string[]): number {
  let em = 0;
  for (const ch of chars) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x2e80) em += 1;
    else if (ch === ' ' || ch === '·' || ch === '.') em += 0.3;
    else if (/[A-Z0-9]/.test(ch)) em += 0.64;
    else em += 0.54;
  }
  return Math.max(em, 0.5);
}

// ---------------------------------------------------------------- SVG and PNG

/** Viewers pick the first installed; resvg (PNG) gets Noto Sans S Chinese from the font package. */
const FONT_FAMILY =
  "'Noto Sans SC', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Noto Sans S Chinese', 'PingFang SC', " +
  "'Hiragino Sans GB', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif";

function renderSvg(posters: Poster[], page: PageSize): string {
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${page.w}mm" height="${page.h}mm" viewBox="0 0 ${page.w} ${page.h}">`,
    `<rect width="${page.w}" height="${page.h}" fill="#ffffff"/>`,
  ];
  for (const [i, poster] of posters.entries()) {
    out.push(
      `<g transform="translate(${num(page.slots[i]!)} 0)" font-family="${FONT_FAMILY}" data-carrier-id="${poster.carrierId}">`,
    );
    for (const s of poster.shapes) out.push(svgShape(s));
    out.push('</g>');
  }
  if (page.slots.length > 1) out.push(svgCutLine(page));
  out.push('</svg>', '');
  return out.join('\n');
}

function svgShape(s: Shape): string {
  switch (s.type) {
    case 'rect':
      return `<rect x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" rx="${s.r}" fill="${s.fill ?? 'none'}"${s.stroke ? ` stroke="${s.stroke}" stroke-width="0.35"` : ''}/>`;
    case 'text':
      return `<text x="${num(s.x)}" y="${num(s.y)}" font-size="${num(s.size)}" font-weight="${s.bold ? 700 : 400}" fill="${s.fill}" text-anchor="middle">${escapeXml(s.text)}</text>`;
    case 'qr': {
      const n = s.modules.length + 2 * QR_QUIET_MODULES;
      const d = qrRuns(s.modules)
        .map(([x, y, len]) => `M${x + QR_QUIET_MODULES} ${y + QR_QUIET_MODULES}h${len}v1h-${len}z`)
        .join('');
      // Scaled to whole modules and drawn crisp: no anti-aliased seams between modules.
      return (
        `<g transform="translate(${num(s.x)} ${num(s.y)}) scale(${num(s.size / n, 5)})">` +
        `<rect width="${n}" height="${n}" fill="#ffffff"/>` +
        `<path d="${d}" fill="#000000" shape-rendering="crispEdges"/></g>`
      );
    }
  }
}

function svgCutLine(page: PageSize): string {
  const x = page.w / 2;
  return `<line x1="${num(x)}" y1="0" x2="${num(x)}" y2="${page.h}" stroke="#999999" stroke-width="0.2" stroke-dasharray="2 2"/>`;
}

/** Dark modules merged into horizontal runs: [x, y, length]. */
function qrRuns(modules: boolean[][]): [number, number, number][] {
  const runs: [number, number, number][] = [];
  for (const [y, row] of modules.entries()) {
    for (let x = 0; x < row.length; x++) {
      if (!row[x]) continue;
      let len = 1;
      while (row[x + len]) len++;
      runs.push([x, y, len]);
      x += len;
    }
  }
  return runs;
}

function renderPng(svg: string, page: PageSize, dpi: number, fonts: Fonts): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'width', value: Math.round((page.w / 25.4) * dpi) },
    font: {
      fontFiles: [fonts.regularPath, fonts.boldPath],
      loadSystemFonts: false, // the same output on every machine
      defaultFontFamily: fonts.family,
      sansSerifFamily: fonts.family,
    },
  });
  return resvg.render().asPng();
}

function num(v: number, digits = 3): string {
  return String(Number(v.toFixed(digits)));
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.codePointAt(0)};`);
}

// ---------------------------------------------------------------- PDF

const PT_PER_MM = 72 / 25.4;

async function renderPdf(
  pages: Poster[][],
  size: PageSize,
  fonts: Fonts,
  operatorId: string,
): Promise<Buffer> {
  const doc = new PDFDocument({
    autoFirstPage: false,
    info: { Title: `RideTrace posters: ${operatorId}`, Author: operatorId, Creator: 'RideTrace' },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('regular', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  for (const posters of pages) {
    doc.addPage({ size: [size.w * PT_PER_MM, size.h * PT_PER_MM], margin: 0 });
    doc.save().scale(PT_PER_MM); // draw in millimetres
    for (const [i, poster] of posters.entries()) {
      doc.save().translate(size.slots[i]!, 0);
      for (const s of poster.shapes) pdfShape(doc, s);
      doc.restore();
    }
    if (size.slots.length > 1) {
      doc
        .moveTo(size.w / 2, 0)
        .lineTo(size.w / 2, size.h)
        .lineWidth(0.2)
        .dash(2, { space: 2 })
        .stroke('#999999')
        .undash();
    }
    doc.restore();
  }
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

function pdfShape(doc: PDFKit.PDFDocument, s: Shape): void {
  switch (s.type) {
    case 'rect':
      doc.roundedRect(s.x, s.y, s.w, s.h, s.r);
      if (s.fill) doc.fill(s.fill);
      else if (s.stroke) doc.lineWidth(0.35).stroke(s.stroke);
      return;
    case 'text': {
      doc.font(s.bold ? 'bold' : 'regular').fontSize(s.size);
      // The layout's width is an estimate; here the real width is known, so shrink if it overflows.
      const width = doc.widthOfString(s.text);
      if (width > TEXT_WIDTH) doc.fontSize((s.size * TEXT_WIDTH) / width);
      doc.fillColor(s.fill).text(s.text, s.x - Math.min(width, TEXT_WIDTH) / 2, s.y, {
        lineBreak: false,
        baseline: 'alphabetic',
      });
      return;
    }
    case 'qr': {
      const n = s.modules.length + 2 * QR_QUIET_MODULES;
      const m = s.size / n;
      doc.rect(s.x, s.y, s.size, s.size).fill('#ffffff');
      // Runs overlap the next row by a hair so that viewers show no seams between rows.
      for (const [x, y, len] of qrRuns(s.modules)) {
        doc.rect(s.x + (x + QR_QUIET_MODULES) * m, s.y + (y + QR_QUIET_MODULES) * m, len * m, m + 0.02);
      }
      doc.fill('#000000');
      return;
    }
  }
}

// ---------------------------------------------------------------- fonts

interface Fonts {
  family: string;
  regularPath: string;
  boldPath: string;
  regular: Buffer;
  bold: Buffer;
}

let fontsLoaded: Promise<Fonts> | undefined;

/** Noto Sans S Chinese (OFL-1.1) from @embedpdf/fonts-sc: CJK and Latin glyphs, read once per process. */
function loadFonts(): Promise<Fonts> {
  fontsLoaded ??= (async () => {
    // The package exports only its index; its fonts/ folder sits beside dist/.
    const index = createRequire(import.meta.url).resolve('@embedpdf/fonts-sc');
    const dir = path.join(path.dirname(index), '..', 'fonts');
    const regularPath = path.join(dir, 'NotoSansHans-Regular.otf');
    const boldPath = path.join(dir, 'NotoSansHans-Bold.otf');
    for (const f of [regularPath, boldPath]) {
      if (!existsSync(f)) throw new Error(`font ${f} is missing: reinstall @embedpdf/fonts-sc`);
    }
    const [regular, bold] = await Promise.all([readFile(regularPath), readFile(boldPath)]);
    return { family: 'Noto Sans S Chinese', regularPath, boldPath, regular, bold };
  })();
  return fontsLoaded;
}

// ---------------------------------------------------------------- command

function dpiArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 72 || n > 1200)
    throw new InvalidArgumentError('dpi must be an integer 72–1200');
  return n;
}

/** `posters --operator X [--route R] [--kind K] --out DIR --format svg|pdf|png [--sheet a4]`. */
export function registerPosterCommands(program: Command): void {
  program
    .command('posters')
    .description(
      'print-ready A5 posters (148 × 210 mm) with the current QR code of each active carrier of an operator',
    )
    .requiredOption('--operator <id>', 'operator whose carriers get posters')
    .option('--route <route>', 'only carriers of this route')
    .addOption(new Option('--kind <kind>', 'only carriers of this kind').choices(CARRIER_KINDS))
    .requiredOption('--out <dir>', 'directory for the files (created if missing)')
    .addOption(new Option('--format <format>', 'file format').choices(POSTER_FORMATS).makeOptionMandatory())
    .addOption(
      new Option('--sheet <paper>', 'two A5 posters side by side on each A4 landscape sheet').choices(['a4']),
    )
    .option('--dpi <n>', 'PNG resolution', dpiArg, 300)
    .addHelpText(
      'after',
      `
Files: <plate>-<carrierId>.<ext>, one poster each; with --sheet a4, <operator>[-<route>][-<kind>]-a4-001.<ext>
per sheet (SVG, PNG) or <operator>[-<route>][-<kind>]-a4.pdf with one page per sheet.
Reissuing a carrier's code (POST /v1/carriers/:id/code) makes its printed posters stop working: print again.

Example:
  pnpm cli posters --operator metro-bus --route 36路 --out posters --format pdf --sheet a4`,
    )
    .action(
      (opts: {
        operator: string;
        route?: string;
        kind?: CarrierKind;
        out: string;
        format: PosterFormat;
        sheet?: 'a4';
        dpi: number;
      }) =>
        withContext(async (ctx) => {
          const progress = createProgress('rendered');
          let report: PosterReport;
          try {
            report = await renderPosters(ctx, {
              ...opts,
              onProgress: (done, total) => progress.update(done, total),
            });
          } finally {
            progress.stop();
          }
          console.log(
            `${report.carriers} carriers of ${report.operatorId}: ${report.files.length} ${opts.format.toUpperCase()} ` +
              `file${report.files.length === 1 ? '' : 's'}, ${report.pages} page${report.pages === 1 ? '' : 's'} ` +
              `in ${path.resolve(opts.out)}, duration ${(report.durationMs / 1000).toFixed(1)} s`,
          );
        }),
    );
}
