import {
  A5,
  layoutPoster,
  listCodeKeys,
  listOperators,
  loadFonts,
  renderPdf,
  SHEET,
  type AppContext,
  type CodeKeyInfo,
} from '@ridetrace/server';
import { CARRIER_KINDS, type CarrierKind } from '@ridetrace/shared';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { when } from '../code-keys.js';
import { withContext } from '../../context.js';
import { withProgress } from '../../progress.js';
import { findPosterCarriers, PosterError, type PosterFilter } from './query.js';
import { renderPng, renderSvg } from './render.js';

export const POSTER_FORMATS = ['svg', 'pdf', 'png'] as const;
export type PosterFormat = (typeof POSTER_FORMATS)[number];

export interface PosterOptions extends PosterFilter {
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

/**
 * Print-ready A5 posters (148 × 210 mm), one per active carrier of an operator: the QR of the carrier's
 * current code (the same content as GET /v1/carriers/:id/code), plate, route, kind and a bilingual
 * instruction. SVG leaves fonts to the viewer; PDF and PNG embed Noto Sans (SC) from @embedpdf/fonts-sc.
 */
export async function renderPosters(ctx: AppContext, opts: PosterOptions): Promise<PosterReport> {
  const started = performance.now();
  const carriers = await findPosterCarriers(ctx, opts);
  const posters = carriers.map(layoutPoster);
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

export interface ReissueOptions extends Omit<PosterOptions, 'operator'> {
  /** One operator's carriers (files in `out`); without it every operator's, each in `out/<operator>`. */
  operator?: string | undefined;
}

export interface ReissueReport {
  /** The code-signing key of every poster written: the active key. */
  codeKeyId: number;
  /** Older keys whose posters still scan until `retiresAt`: the deadline for putting the new posters up. */
  inGrace: CodeKeyInfo[];
  /** One per operator that got posters. */
  operators: PosterReport[];
}

/**
 * Posters for every active carrier after a code key rotation (`pnpm cli keys rotate-code`): the current code
 * generation signed with the active key. The generation is kept on purpose: a new one would revoke the old
 * posters at once (410 code_revoked), while the vehicles still carry them until someone replaces them; this way
 * the old posters scan until their key's grace period ends, and only the key rotation decides when.
 */
export async function reissuePosters(
  ctx: AppContext,
  opts: ReissueOptions,
  render: (opts: PosterOptions) => Promise<PosterReport> = (o) => renderPosters(ctx, o),
): Promise<ReissueReport> {
  const operators =
    opts.operator !== undefined ? [opts.operator] : (await listOperators(ctx.db)).map((o) => o.id);
  const reports: PosterReport[] = [];
  for (const operator of operators) {
    const out = opts.operator !== undefined ? opts.out : path.join(opts.out, safeName(operator));
    try {
      reports.push(await render({ ...opts, operator, out }));
    } catch (err) {
      // Across all operators, one without matching active carriers is no error.
      if (opts.operator !== undefined || !(err instanceof PosterError)) throw err;
    }
  }
  if (reports.length === 0)
    throw new PosterError('no operator has active carriers that match: no posters written');
  const now = ctx.now();
  return {
    codeKeyId: ctx.keyring.activeCodeKeyId,
    inGrace: (await listCodeKeys(ctx.db)).filter(
      (k) => !k.active && k.retiresAt !== null && k.retiresAt > now,
    ),
    operators: reports,
  };
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

function dpiArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 72 || n > 1200)
    throw new InvalidArgumentError('dpi must be an integer 72–1200');
  return n;
}

/** `posters --operator X [--route R] [--kind K] --out DIR --format svg|pdf|png [--sheet a4] [--reissue]`. */
export function registerPosterCommands(program: Command): void {
  program
    .command('posters')
    .description(
      'print-ready A5 posters (148 × 210 mm) with the current QR code of each active carrier of an operator',
    )
    .option('--operator <id>', 'operator whose carriers get posters (required without --reissue)')
    .option('--route <route>', 'only carriers of this route')
    .addOption(new Option('--kind <kind>', 'only carriers of this kind').choices(CARRIER_KINDS))
    .requiredOption('--out <dir>', 'directory for the files (created if missing)')
    .addOption(new Option('--format <format>', 'file format').choices(POSTER_FORMATS).makeOptionMandatory())
    .addOption(
      new Option('--sheet <paper>', 'two A5 posters side by side on each A4 landscape sheet').choices(['a4']),
    )
    .option('--dpi <n>', 'PNG resolution', dpiArg, 300)
    .option(
      '--reissue',
      'after `keys rotate-code`: posters under the new key for every operator (or --operator), in <dir>/<operator>',
      false,
    )
    .addHelpText(
      'after',
      `
Files: <plate>-<carrierId>.<ext>, one poster each; with --sheet a4, <operator>[-<route>][-<kind>]-a4-001.<ext>
per sheet (SVG, PNG) or <operator>[-<route>][-<kind>]-a4.pdf with one page per sheet.
The QR codes point at the server's PUBLIC_BASE_URL, as the server resolves it (without it, in development:
http://127.0.0.1:<PORT>); the first line printed says which base URL was used.
Reissuing a carrier's code (POST /v1/carriers/:id/code) makes its printed posters stop working: print again.
Posters are always signed with the active code key. After \`pnpm cli keys rotate-code\`, --reissue prints every
active carrier's poster under the new key (same code generation): the posters in the vehicles keep scanning until
their key's grace period ends (the deadline is printed), so there is time to replace them.

Example:
  pnpm cli posters --operator metro-bus --route 36路 --out posters --format pdf --sheet a4
  pnpm cli posters --reissue --out posters-2026-12 --format pdf --sheet a4`,
    )
    .action(
      (
        opts: {
          operator?: string;
          route?: string;
          kind?: CarrierKind;
          out: string;
          format: PosterFormat;
          sheet?: 'a4';
          dpi: number;
          reissue: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.operator === undefined && !opts.reissue) {
          cmd.error("error: required option '--operator <id>' not specified");
        }
        return withContext(async (ctx) => {
          // The server's own config (loadConfig): a poster printed from here scans on that server.
          console.log(`QR base URL: ${ctx.config.publicBaseUrl}`);
          if (!opts.reissue) {
            const report = await withProgress('rendered', (onProgress) =>
              renderPosters(ctx, { ...opts, operator: opts.operator!, onProgress }),
            );
            printReport(report, opts.format);
            return;
          }
          const r = await reissuePosters(ctx, opts, (o) =>
            withProgress(`rendered ${o.operator}`, (onProgress) => renderPosters(ctx, { ...o, onProgress })),
          );
          for (const report of r.operators) printReport(report, opts.format);
          console.log(`code-signing key: ${r.codeKeyId}`);
          for (const k of r.inGrace) {
            console.log(
              `posters of key ${k.id} keep scanning until ${when(k.retiresAt!, ctx.config.timeZone)}: ` +
                'replace them before then',
            );
          }
        });
      },
    );
}

function printReport(report: PosterReport, format: PosterFormat): void {
  const dir = path.resolve(path.dirname(report.files[0] ?? '.'));
  console.log(
    `${report.carriers} carriers of ${report.operatorId}: ${report.files.length} ${format.toUpperCase()} ` +
      `file${report.files.length === 1 ? '' : 's'}, ${report.pages} page${report.pages === 1 ? '' : 's'} ` +
      `in ${dir}, duration ${(report.durationMs / 1000).toFixed(1)} s`,
  );
}
