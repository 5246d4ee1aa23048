import type { Carrier, CarrierKind } from '@ridetrace/shared';
import QRCode from 'qrcode';

// Page geometry of the posters, in millimetres: what goes where, independent of the output format.

export const INSTRUCTION_ZH = '请使用超级应用扫码登记乘车';
export const INSTRUCTION_EN = 'Scan with the super-app to register your ride';

const KIND_LABELS: Record<CarrierKind, string> = {
  bus: '公交 Bus',
  taxi: '出租车 Taxi',
  metro: '地铁 Metro',
  ferry: '轮渡 Ferry',
};

/** What a poster shows of its carrier (as the API has it), with the QR content of the carrier's current code. */
export type PosterCarrier = Pick<
  Carrier,
  'id' | 'operatorId' | 'kind' | 'plate' | 'route' | 'city' | 'codeGeneration'
> & {
  /** The same content as GET /v1/carriers/:id/code answers, on the config's publicBaseUrl. */
  url: string;
};

export interface Poster {
  carrierId: number;
  plate: string;
  /** The QR content: the carrier's current code (PosterCarrier.url). */
  url: string;
  shapes: Shape[];
}

export type Shape =
  | { type: 'rect'; x: number; y: number; w: number; h: number; r: number; fill?: string; stroke?: string }
  | { type: 'text'; x: number; y: number; size: number; text: string; bold: boolean; fill: string }
  | { type: 'qr'; x: number; y: number; size: number; modules: boolean[][] };

export interface PageSize {
  w: number;
  h: number;
  /** Left edge of each poster on the page. */
  slots: number[];
}

const POSTER_W = 148;
const POSTER_H = 210;
export const A5: PageSize = { w: POSTER_W, h: POSTER_H, slots: [0] };
// A4 landscape (297 × 210) holds two A5 portrait posters; the 1 mm left over goes around and between them.
const GAP = (297 - 2 * POSTER_W) / 3;
export const SHEET: PageSize = { w: 297, h: POSTER_H, slots: [GAP, 2 * GAP + POSTER_W] };

/** Inside this margin (most printers cannot print to the edge). */
const MARGIN = 6;
/** Widest line of text: inside the frame with 4 mm to spare on each side. */
export const TEXT_WIDTH = POSTER_W - 2 * MARGIN - 8;
const INK = '#111111';
const DETAILS_MIN_SIZE = 3.5;
export const QR_QUIET_MODULES = 4;

/** The shapes of one carrier's poster: header band, plate, details line, QR of its code, instructions, footer. */
export function layoutPoster(c: PosterCarrier): Poster {
  // Q (25% recovery) rather than the API's M: posters in vehicles get scratched and dirty.
  const qr = QRCode.create(c.url, { errorCorrectionLevel: 'Q' });
  const n = qr.modules.size;
  const modules = Array.from({ length: n }, (_, y) =>
    Array.from({ length: n }, (_, x) => qr.modules.get(y, x) === 1),
  );
  const cx = POSTER_W / 2;
  const width = TEXT_WIDTH;
  const details = detailsLine(c.city, c.route, KIND_LABELS[c.kind], DETAILS_MIN_SIZE, width);
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
    text(cx, 47, c.plate, 15, true, INK, width, 7),
    text(cx, 57.5, details, 6, false, INK, width, DETAILS_MIN_SIZE),
    { type: 'qr', x: (POSTER_W - qrSize) / 2, y: 61, size: qrSize, modules },
    text(cx, 174, INSTRUCTION_ZH, 6, true, INK, width),
    text(cx, 181.5, INSTRUCTION_EN, 4.3, false, INK, width),
    text(cx, 198, `${c.operatorId} · No. ${c.id} · gen. ${c.codeGeneration}`, 2.8, false, '#555555', width),
  ];
  return { carrierId: c.id, plate: c.plate, url: c.url, shapes };
}

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

/** Dark modules merged into horizontal runs: [x, y, length]. */
export function qrRuns(modules: boolean[][]): [number, number, number][] {
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
