import {
  checkCarrierRows,
  CsvFileError,
  existingOperators,
  formatProblem,
  importCarriers as importCarrierRecords,
  parseCarriersCsv,
  type AppContext,
  type CsvRecord,
  type ParsedCsv,
} from '@ridetrace/server';
import type { CsvProblem } from '@ridetrace/shared';
import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { withContext } from '../context.js';
import { withProgress } from '../progress.js';

export { formatProblem };

export interface CarrierImportOptions {
  /** Operator of the rows that have no `operator` value (or of every row, without that column). */
  operator?: string | undefined;
  /** Write the valid rows and `<file>.rejects.csv` instead of refusing the whole file. */
  skipInvalid?: boolean | undefined;
  /** Rows per INSERT statement (5 parameters a row; Postgres allows 65535 parameters). */
  batchSize?: number | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** One reason a data row was refused; `line` is the line of the file where the row starts. */
export type RowProblem = CsvProblem;

export interface CarrierImportReport {
  file: string;
  /** Data rows read (header and blank rows not counted). */
  rows: number;
  created: number;
  /** Existing carriers (same operator and plate) whose kind, route or city changed. */
  updated: number;
  /** Existing carriers that the file repeats as they are. */
  unchanged: number;
  rejected: number;
  problems: RowProblem[];
  /** False when bad rows made the import refuse the file: nothing was written. */
  written: boolean;
  rejectsFile: string | null;
  durationMs: number;
}

/** The file cannot be imported at all (unreadable, not UTF-8, malformed CSV, bad header, unknown --operator). */
export class CarrierImportError extends Error {}

/**
 * Validates every row of a carriers CSV and upserts the valid ones by operator + plate in one transaction:
 * new carriers are created; existing ones get kind, route and city updated and keep their id, code
 * generation and retirement. Bad rows make it write nothing, unless `skipInvalid`.
 */
export async function importCarriers(
  ctx: AppContext,
  file: string,
  opts: CarrierImportOptions = {},
): Promise<CarrierImportReport> {
  const started = performance.now();
  const csv = parseFile(await readCsvFile(file), file);
  if (opts.operator !== undefined && !(await existingOperators(ctx.db, [opts.operator])).has(opts.operator)) {
    throw new CarrierImportError(`--operator: '${opts.operator}' is not an existing operator`);
  }
  if (!csv.columns.has('operator') && opts.operator === undefined) {
    throw new CarrierImportError(
      `${file}:${csv.header.line}: operator: no operator column; add one or pass --operator <id>`,
    );
  }
  const { rows, rejected } = await checkCarrierRows(csv, {
    defaultOperator: opts.operator,
    defaultOperatorHint: 'pass --operator',
    existingOperators: (ids) => existingOperators(ctx.db, ids),
  });

  const report: CarrierImportReport = {
    file,
    rows: csv.records.length,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: rejected.length,
    problems: rejected.flatMap((r) => r.problems),
    written: false,
    rejectsFile: null,
    durationMs: 0,
  };
  if (rejected.length > 0 && !opts.skipInvalid) {
    report.durationMs = performance.now() - started;
    return report;
  }

  Object.assign(
    report,
    await importCarrierRecords(ctx, rows, { batchSize: opts.batchSize ?? 1000, onProgress: opts.onProgress }),
  );
  report.written = true;
  if (rejected.length > 0) {
    report.rejectsFile = `${file}.rejects.csv`;
    await writeRejects(report.rejectsFile, csv.bom, csv.header, rejected);
  }
  report.durationMs = performance.now() - started;
  return report;
}

// ---------------------------------------------------------------- reading

function parseFile(buf: Buffer, file: string): ParsedCsv {
  try {
    return parseCarriersCsv(buf, file);
  } catch (err) {
    if (err instanceof CsvFileError) throw new CarrierImportError(err.message);
    throw err;
  }
}

async function readCsvFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CarrierImportError(`${file}: cannot read: ${why}`);
  }
}

// ---------------------------------------------------------------- rejects file

/** The header and each rejected row as they were in the file, plus a `reason` column. */
async function writeRejects(
  path: string,
  bom: boolean,
  header: CsvRecord,
  rejected: { record: CsvRecord; problems: CsvProblem[] }[],
): Promise<void> {
  const lines = [`${header.raw},reason`];
  for (const { record: r, problems } of rejected) {
    const reason = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    lines.push(`${r.raw},${csvField(`line ${r.line}: ${reason}`)}`);
  }
  await writeFile(path, `${bom ? '\uFEFF' : ''}${lines.join('\n')}\n`, 'utf8');
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

// ---------------------------------------------------------------- command

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Prints at most this many bad rows; the rejects file (--skip-invalid) has all of them. */
const MAX_PRINTED_PROBLEMS = 50;

/** `carriers import <file.csv>`. */
export function registerCarrierCommands(program: Command): void {
  const carriers = program.command('carriers').description('carriers (buses, taxis, metro cars, ferries)');
  carriers
    .command('import')
    .description(
      'create or update carriers from a CSV file, matched by operator + plate; all rows or none unless --skip-invalid',
    )
    .argument('<file.csv>', 'UTF-8 CSV (BOM and CRLF are fine) whose first row is the header')
    .option('--operator <id>', 'operator of the rows without an operator value (or column)')
    .option(
      '--skip-invalid',
      'import the valid rows and write the bad ones, with a reason column, to <file.csv>.rejects.csv',
      false,
    )
    .addHelpText(
      'after',
      `
Columns (header row required, any order):
  kind      bus | taxi | metro | ferry
  plate     licence plate or car number: 2–16 letters or digits, '·', '.', '-' or spaces inside
  route     optional, at most 40 characters
  city      required, at most 40 characters
  operator  an existing operator id; optional with --operator

An existing carrier (same operator and plate) gets its kind, route and city updated and keeps its id,
its printed codes and its retirement. Bad rows are reported as <file>:<line>: <field>: <reason>; without
--skip-invalid one bad row means nothing is written and the exit code is 1.

Example:
  pnpm cli carriers import buses.csv --operator metro-bus`,
    )
    .action((file: string, opts: { operator?: string; skipInvalid: boolean }) =>
      withContext(async (ctx) => {
        const report = await withProgress('imported', (onProgress) =>
          importCarriers(ctx, file, { operator: opts.operator, skipInvalid: opts.skipInvalid, onProgress }),
        );
        for (const p of report.problems.slice(0, MAX_PRINTED_PROBLEMS)) console.error(formatProblem(file, p));
        if (report.problems.length > MAX_PRINTED_PROBLEMS) {
          console.error(`… and ${report.problems.length - MAX_PRINTED_PROBLEMS} more`);
        }
        if (!report.written) {
          console.error(
            `${file}: ${report.rejected} of ${report.rows} rows are invalid; nothing imported ` +
              '(fix them, or use --skip-invalid to import the others)',
          );
          process.exitCode = 1;
          return;
        }
        console.log(
          `${file}: created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}, ` +
            `rejected ${report.rejected}, duration ${seconds(report.durationMs)}`,
        );
        if (report.rejectsFile) console.log(`rejected rows: ${report.rejectsFile}`);
      }),
    );
}
