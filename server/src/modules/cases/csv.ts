/**
 * CSV for spreadsheet users: UTF-8 with BOM, RFC 4180 quoting, and neutralised formulas. A cell starting with
 * `=`, `+`, `-`, `@`, tab or carriage return is prefixed with an apostrophe, so a spreadsheet shows it as text
 * instead of evaluating it (the 2021 luca health-office export incident: `=HYPERLINK(...)`, `=cmd|' /C calc'!A0`).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  return csvDocument(header, rows.map(csvLine));
}

/** One line of cells, without its line break. */
export function csvLine(cells: readonly (string | number | null)[]): string {
  return cells.map(csvCell).join(',');
}

/** The file: BOM, header, the lines (from csvLine), CRLF after each. */
export function csvDocument(header: readonly string[], lines: readonly string[]): string {
  return `\uFEFF${[csvLine(header), ...lines].join('\r\n')}\r\n`;
}
