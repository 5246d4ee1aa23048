import PDFDocument from 'pdfkit';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { qrRuns, QR_QUIET_MODULES, TEXT_WIDTH, type PageSize, type Poster, type Shape } from './layout.js';

// Laid-out posters to a print-ready PDF with Noto Sans SC embedded (the API's poster routes and the CLI).

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
  for (const [n, posters] of pages.entries()) {
    // A page at a time: a long file must not hold the event loop (scans wait on it) for its whole length.
    if (n > 0) await new Promise((resolve) => setImmediate(resolve));
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
