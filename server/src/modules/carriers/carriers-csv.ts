import {
  CARRIER_KINDS,
  OperatorId,
  PLATE_PATTERN,
  type CarrierKind,
  type CsvProblem,
} from '@ridetrace/shared';
import { CsvError, parse } from 'csv-parse/sync';

// The fleet CSV (header `kind,plate,route,city[,operator]`) as `pnpm cli carriers import` and
// POST /v1/carriers/import read it: parsing, then every row checked before anything is written.

export const CSV_COLUMNS = ['kind', 'plate', 'route', 'city', 'operator'] as const;
type Column = (typeof CSV_COLUMNS)[number];
const PLATE = new RegExp(PLATE_PATTERN, 'u');
const OPERATOR = new RegExp(OperatorId.pattern!);
const MAX_TEXT = 40;

/** The file cannot be read as a carriers CSV at all (not UTF-8, malformed, bad header); the message says where. */
export class CsvFileError extends Error {}

export interface CsvRecord {
  /** The file line the record starts on. */
  line: number;
  /** The record as it was in the file (LF line breaks). */
  raw: string;
  fields: string[];
}

export interface ParsedCsv {
  /** The file started with a UTF-8 byte order mark (a rejects file keeps it). */
  bom: boolean;
  header: CsvRecord;
  records: CsvRecord[];
  columns: Map<Column, number>;
}

/** A carrier as a fleet file describes it (the carriers service upserts it by operator and plate). */
export interface CarrierRecord {
  operatorId: string;
  kind: CarrierKind;
  plate: string;
  route: string | null;
  city: string;
}

/** A valid row and the line of the file it starts on. */
export type CarrierRowInput = CarrierRecord & { line: number };

/** `carriers.csv:17: plate: '粤B!!' does not look like a plate` */
export function formatProblem(source: string, p: CsvProblem): string {
  return `${source}:${p.line}: ${p.field}: ${p.message}`;
}

/**
 * A carriers CSV from its bytes (strictly UTF-8) or text. `source` names it in messages (a file name, or "line"
 * for an upload).
 */
export function parseCarriersCsv(input: Buffer | string, source: string): ParsedCsv {
  let text: string;
  let bom: boolean;
  if (typeof input === 'string') {
    bom = input.startsWith('\uFEFF');
    text = bom ? input.slice(1) : input;
  } else {
    bom = input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input); // drops the BOM
    } catch {
      const lenient = new TextDecoder('utf-8').decode(input);
      const line = lenient.slice(0, lenient.indexOf('\uFFFD')).split('\n').length;
      throw new CsvFileError(
        `${source}:${line}: not UTF-8 text (a GBK export? save the sheet as "CSV UTF-8")`,
      );
    }
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
      throw new CsvFileError(`${source}:${line}: malformed CSV: ${err.message}`);
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
    throw new CsvFileError(`${source}: empty file; the first row must be a header: ${CSV_COLUMNS.join(',')}`);
  }
  return { bom, header, records, columns: checkHeader(source, header) };
}

function checkHeader(source: string, header: CsvRecord): Map<Column, number> {
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
  const where = `${source}:${header.line}: header`;
  if (unknown.length > 0) {
    throw new CsvFileError(
      `${where}: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map(quote).join(', ')}` +
        ` (expected ${CSV_COLUMNS.join(', ')}; the first row must be the header)`,
    );
  }
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) {
    throw new CsvFileError(`${where}: column ${[...new Set(repeated)].map(quote).join(', ')} twice`);
  }
  const missing = (['kind', 'plate', 'city'] as const).filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new CsvFileError(
      `${where}: missing column${missing.length > 1 ? 's' : ''} ${missing.map(quote).join(', ')}`,
    );
  }
  return new Map(names.map((n, i) => [n as Column, i]));
}

export interface RowCheckOptions {
  /** Operator of the rows without an `operator` value (or of every row, without that column). */
  defaultOperator?: string | undefined;
  /** How the reader supplies a default operator, for the message of a row without one. */
  defaultOperatorHint: string;
  /** Of `ids`, those naming an existing operator. */
  existingOperators: (ids: string[]) => Promise<Set<string>>;
  /** When set, a row naming another operator is refused (an operator imports only its own fleet). */
  onlyOperator?: string | undefined;
}

export interface RowCheck {
  /** The valid rows, in file order, each (operator, plate) once. */
  rows: CarrierRowInput[];
  /** The refused records in file order, each with its problems. */
  rejected: { record: CsvRecord; problems: CsvProblem[] }[];
}

/** Every data row checked: fields, existing operators, and no (operator, plate) twice in the file. */
export async function checkCarrierRows(csv: ParsedCsv, opts: RowCheckOptions): Promise<RowCheck> {
  const problems = new Map<CsvRecord, CsvProblem[]>();
  const candidates: { record: CsvRecord; row: CarrierRowInput }[] = [];
  for (const record of csv.records) {
    const result = validateRecord(record, csv.header.fields.length, csv.columns, opts);
    if ('problems' in result) problems.set(record, result.problems);
    else candidates.push({ record, row: result.row });
  }

  // Operators are checked once per distinct id, then each row against the answer.
  const ids = [...new Set(candidates.map((c) => c.row.operatorId))].filter((id) => OPERATOR.test(id));
  const known = await opts.existingOperators(ids);
  const firstLine = new Map<string, number>();
  const rows: CarrierRowInput[] = [];
  for (const { record, row } of candidates) {
    const rowProblems: CsvProblem[] = [];
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
  const rejected = [...problems.keys()]
    .sort((a, b) => a.line - b.line)
    .map((record) => ({ record, problems: problems.get(record)! }));
  return { rows, rejected };
}

function validateRecord(
  record: CsvRecord,
  width: number,
  columns: Map<Column, number>,
  opts: RowCheckOptions,
): { row: CarrierRowInput } | { problems: CsvProblem[] } {
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
  const problems: CsvProblem[] = [];
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
  const operator = value('operator') ?? opts.defaultOperator;
  if (operator === undefined)
    problem('operator', `required (fill the operator column or ${opts.defaultOperatorHint})`);
  else if (!OPERATOR.test(operator)) problem('operator', `${quote(operator)} is not an existing operator`);
  else if (opts.onlyOperator !== undefined && operator !== opts.onlyOperator) {
    problem('operator', `${quote(operator)} is not your operator (${opts.onlyOperator})`);
  }

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

export function quote(v: string): string {
  const chars = [...v];
  return `'${chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : v}'`;
}
