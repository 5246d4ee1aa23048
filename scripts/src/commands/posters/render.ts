import { Resvg } from '@resvg/resvg-js';
import {
  qrRuns,
  QR_QUIET_MODULES,
  type Fonts,
  type PageSize,
  type Poster,
  type Shape,
} from '@ridetrace/server';

// Laid-out posters to SVG (fonts left to the viewer) and PNG; the PDF renderer is the server's (the API serves it).

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
