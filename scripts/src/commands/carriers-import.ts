import {
  existingOperators,
  importCarriers as importCarrierRecords,
  type AppContext,
  type CarrierRecord,
} from '@ridetrace/server';
import { CARRIER_KINDS, OperatorId, PLATE_PATTERN, type CarrierKind } from '@ridetrace/shared';
import type { Command } from 'commander';
import { CsvError, parse } from 'csv-parse/sync';
import { readFile, writeFile } from 'node:fs/promises';
import { withContext } from '../context.js';
import { withProgress } from '../progress.js';

const COLUMNS = ['kind', 'plate', 'route', 'city', 'operator'] as const;
type Column = (typeof COLUMNS)[number];
const PLATE = new RegExp(PLATE_PATTERN, 'u');
const OPERATOR = new RegExp(OperatorId.pattern!);
const MAX_TEXT = 40;

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
export interface RowProblem {
  line: number;
  field: string;
  message: string;
}

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

interface CsvRecord {
  line: number;
  raw: string;
  fields: string[];
}

/** A valid row and the line of the file it starts on. */
type CarrierRowInput = CarrierRecord & { line: number };

/** `carriers.csv:17: plate: '粤B!!' does not look like a plate` */
export function formatProblem(file: string, p: RowProblem): string {
  return `${file}:${p.line}: ${p.field}: ${p.message}`;
}

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
  const { bom, header, records } = await readCsv(file);
  const columns = checkHeader(file, header);
  if (opts.operator !== undefined && !(await operatorsThatExist(ctx, [opts.operator])).has(opts.operator)) {
    throw new CarrierImportError(`--operator: '${opts.operator}' is not an existing operator`);
  }
  if (!columns.has('operator') && opts.operator === undefined) {
    throw new CarrierImportError(
      `${file}:${header.line}: operator: no operator column; add one or pass --operator <id>`,
    );
  }

  const problems = new Map<CsvRecord, RowProblem[]>();
  const candidates: { record: CsvRecord; row: CarrierRowInput }[] = [];
  for (const record of records) {
    const result = validateRecord(record, header.fields.length, columns, opts.operator);
    if ('problems' in result) problems.set(record, result.problems);
    else candidates.push({ record, row: result.row });
  }

  // Operators are checked once per distinct id, then each row against the answer.
  const known = await operatorsThatExist(ctx, [...new Set(candidates.map((c) => c.row.operatorId))]);
  const firstLine = new Map<string, number>();
  const rows: CarrierRowInput[] = [];
  for (const { record, row } of candidates) {
    const rowProblems: RowProblem[] = [];
    if (!known.has(row.operatorId)) {
      rowProblems.push({
        line: row.line,
        field: 'operator',
        message: `${quote(row.operatorId)} is not an existing operator`,
      });
    }
    // One statement may not upsert the same key twice, and a repeated plate is a mistake in the file anyway.
    const key = `${row.operatorId}\u0000${row.plate}`;
    const seen = firstLine.get(key);
    if (seen !== undefined) {
      rowProblems.push({
        line: row.line,
        field: 'plate',
        message: `${quote(row.plate)} repeats line ${seen} (same operator and plate)`,
      });
    } else if (rowProblems.length === 0) firstLine.set(key, row.line);
    if (rowProblems.length > 0) problems.set(record, rowProblems);
    else rows.push(row);
  }

  const rejected = [...problems.keys()].sort((a, b) => a.line - b.line);
  const report: CarrierImportReport = {
    file,
    rows: records.length,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: rejected.length,
    problems: rejected.flatMap((r) => problems.get(r)!),
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
    await writeRejects(report.rejectsFile, bom, header, rejected, problems);
  }
  report.durationMs = performance.now() - started;
  return report;
}

// ---------------------------------------------------------------- reading

async function readCsv(file: string): Promise<{ bom: boolean; header: CsvRecord; records: CsvRecord[] }> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CarrierImportError(`${file}: cannot read: ${why}`);
  }
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf); // drops the BOM
  } catch {
    const lenient = new TextDecoder('utf-8').decode(buf);
    const line = lenient.slice(0, lenient.indexOf('\uFFFD')).split('\n').length;
    throw new CarrierImportError(
      `${file}:${line}: not UTF-8 text (a GBK export? save the sheet as "CSV UTF-8")`,
    );
  }
  // csv-parse counts a CRLF inside a quoted field as two lines; with LF only its line numbers are exact.
  text = text.replace(/\r\n?/g, '\n');

  let parsed: { record: string[]; raw: string; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true, // rows of empty cells that spreadsheets leave at the end
    }) as unknown as typeof parsed; // with info and raw, each record comes as { record, raw, info }
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines ?? 0;
      throw new CarrierImportError(`${file}:${line}: malformed CSV: ${err.message}`);
    }
    throw err;
  }
  const records = parsed.map(({ record, raw, info }) => {
    // raw starts with the blank lines skipped before the record and ends with its line break.
    const own = raw.replace(/^\n+/, '').replace(/\n$/, '');
    const newlines = own.split('\n').length - 1;
    return { line: info.lines - newlines, raw: own, fields: record };
  });
  const header = records.shift();
  if (!header) {
    throw new CarrierImportError(`${file}: empty file; the first row must be a header: ${COLUMNS.join(',')}`);
  }
  return { bom, header, records };
}

function checkHeader(file: string, header: CsvRecord): Map<Column, number> {
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
  const where = `${file}:${header.line}: header`;
  if (unknown.length > 0) {
    throw new CarrierImportError(
      `${where}: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map(quote).join(', ')}` +
        ` (expected ${COLUMNS.join(', ')}; the first row must be the header)`,
    );
  }
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) {
    throw new CarrierImportError(`${where}: column ${[...new Set(repeated)].map(quote).join(', ')} twice`);
  }
  const missing = (['kind', 'plate', 'city'] as const).filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new CarrierImportError(
      `${where}: missing column${missing.length > 1 ? 's' : ''} ${missing.map(quote).join(', ')}`,
    );
  }
  return new Map(names.map((n, i) => [n as Column, i]));
}

// ---------------------------------------------------------------- validation

function validateRecord(
  record: CsvRecord,
  width: number,
  columns: Map<Column, number>,
  defaultOperator: string | undefined,
): { row: CarrierRowInput } | { problems: RowProblem[] } {
  const { line, fields } = record;
  if (fields.length !== width) {
    return {
      problems: [
        {
          line,
          field: 'row',
          message: `expected ${width} fields (as in the header), found ${fields.length}`,
        },
      ],
    };
  }
  const value = (c: Column) => {
    const i = columns.get(c);
    const v = i === undefined ? '' : fields[i]!.trim();
    return v === '' ? undefined : v;
  };
  const problems: RowProblem[] = [];
  const problem = (field: Column, message: string) => problems.push({ line, field, message });

  const kind = value('kind')?.toLowerCase();
  if (kind === undefined) problem('kind', 'required');
  else if (!(CARRIER_KINDS as readonly string[]).includes(kind)) {
    problem('kind', `${quote(kind)} is not one of ${CARRIER_KINDS.join(', ')}`);
  }
  const plate = value('plate');
  if (plate === undefined) problem('plate', 'required');
  else if (!PLATE.test(plate)) {
    problem(
      'plate',
      `${quote(plate)} does not look like a plate (2–16 letters or digits; '·', '.', '-' or spaces inside)`,
    );
  }
  const route = value('route');
  if (route !== undefined && length(route) > MAX_TEXT) {
    problem('route', `longer than ${MAX_TEXT} characters (${length(route)})`);
  }
  const city = value('city');
  if (city === undefined) problem('city', 'required');
  else if (length(city) > MAX_TEXT) problem('city', `longer than ${MAX_TEXT} characters (${length(city)})`);
  const operator = value('operator') ?? defaultOperator;
  if (operator === undefined) problem('operator', 'required (fill the operator column or pass --operator)');
  else if (!OPERATOR.test(operator)) problem('operator', `${quote(operator)} is not an existing operator`);

  if (problems.length > 0) return { problems };
  return {
    row: {
      line,
      operatorId: operator!,
      kind: kind as CarrierKind,
      plate: plate!,
      route: route ?? null,
      city: city!,
    },
  };
}

/** Characters as people count them (code points), as the API's maxLength does. */
function length(s: string): number {
  return [...s].length;
}

function quote(v: string): string {
  const chars = [...v];
  return `'${chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : v}'`;
}

// ---------------------------------------------------------------- rejects file

/** The header and each rejected row as they were in the file, plus a `reason` column. */
async function writeRejects(
  path: string,
  bom: boolean,
  header: CsvRecord,
  rejected: CsvRecord[],
  problems: Map<CsvRecord, RowProblem[]>,
): Promise<void> {
  const lines = [`${header.raw},reason`];
  for (const r of rejected) {
    const reason = problems
      .get(r)!
      .map((p) => `${p.field}: ${p.message}`)
      .join('; ');
    lines.push(`${r.raw},${csvField(`line ${r.line}: ${reason}`)}`);
  }
  await writeFile(path, `${bom ? '\uFEFF' : ''}${lines.join('\n')}\n`, 'utf8');
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

// ---------------------------------------------------------------- database: through the carriers service

/** Of `ids`, those naming an existing operator. */
async function operatorsThatExist(ctx: AppContext, ids: string[]): Promise<Set<string>> {
  return existingOperators(
    ctx.db,
    ids.filter((id) => OPERATOR.test(id)),
  );
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
