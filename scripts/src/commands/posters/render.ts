import { Resvg } from '@resvg/resvg-js';
import PDFDocument from 'pdfkit';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { qrRuns, QR_QUIET_MODULES, TEXT_WIDTH, type PageSize, type Poster, type Shape } from './layout.js';

// Laid-out posters to file contents: SVG (fonts left to the viewer), PNG and PDF (Noto Sans SC embedded).

/** Viewers pick the first installed; resvg (PNG) gets Noto Sans S Chinese from the font package. */
const FONT_FAMILY =
  "'Noto Sans SC', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Noto Sans S Chinese', 'PingFang SC', " +
  "'Hiragino Sans GB', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif";

/** One SVG page holding `posters` side by side in `page`'s slots (a cut line between two). */
export function renderSvg(posters: Poster[], page: PageSize): string {
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

/** An SVG page rasterised at `dpi` with the embedded fonts. */
export function renderPng(svg: string, page: PageSize, dpi: number, fonts: Fonts): Buffer {
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

/** One PDF, a page per entry of `pages`, each holding its posters in `size`'s slots. */
export async function renderPdf(
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

export interface Fonts {
  family: string;
  regularPath: string;
  boldPath: string;
  regular: Buffer;
  bold: Buffer;
}

let fontsLoaded: Promise<Fonts> | undefined;

/** Noto Sans S Chinese (OFL-1.1) from @embedpdf/fonts-sc: CJK and Latin glyphs, read once per process. */
export function loadFonts(): Promise<Fonts> {
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
