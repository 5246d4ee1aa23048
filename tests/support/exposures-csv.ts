/** The exposures CSV as a spreadsheet would read it: parsed strictly, keyed by header, compared with the JSON page. */
import { EXPOSURE_CSV_COLUMNS, type ExposurePage } from '@ridetrace/shared';
import type { Response } from 'supertest';
import { expect } from 'vitest';

/** A cell that a spreadsheet would run as a formula. */
export const FORMULA_START = /^[=+\-@\t\r]/;

/** RFC 4180 parser: quoted fields, doubled quotes, CRLF records; throws on malformed input. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const row: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error('unterminated quoted field');
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          cell += text[i];
          i++;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
          cell += text[i];
          i++;
        }
      }
      row.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text.startsWith('\r\n', i)) {
        i += 2;
        break;
      }
      if (i >= n) break;
      throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
    }
    rows.push(row);
  }
  return rows;
}

/** The CSV body (BOM stripped) as records keyed by header. */
export function csvRecords(res: Response): Record<string, string>[] {
  expect(res.text.startsWith('\uFEFF')).toBe(true);
  const [header, ...rows] = parseCsv(res.text.slice(1));
  expect(header).toEqual(EXPOSURE_CSV_COLUMNS);
  return rows.map((r) => {
    expect(r).toHaveLength(EXPOSURE_CSV_COLUMNS.length);
    return Object.fromEntries(EXPOSURE_CSV_COLUMNS.map((h, i) => [h, r[i]!]));
  });
}

/** What a cell must read after parsing: formulas neutralised with a leading apostrophe. */
const cellText = (v: string | number | null) =>
  v === null ? '' : typeof v === 'number' ? String(v) : FORMULA_START.test(v) ? `'${v}` : v;

/** The CSV lines the exposures page implies: one per contact. */
export function csvFromPage(page: ExposurePage): Record<string, string>[] {
  return page.items.flatMap((e) =>
    e.contacts.map((c) => {
      const values: (string | number | null)[] = [
        e.personId,
        e.name,
        e.phone,
        e.idNumber,
        e.registration,
        e.level,
        c.degree,
        c.via,
        c.carrier.kind,
        c.carrier.plate,
        c.carrier.route,
        c.carrier.city,
        c.caseBoardedAt,
        c.contactBoardedAt,
        c.gapMinutes,
        c.level,
        String(c.flags.carrierSwitch),
        String(c.flags.lateOffline),
        String(c.flags.manual),
      ];
      return Object.fromEntries(EXPOSURE_CSV_COLUMNS.map((h, i) => [h, cellText(values[i]!)]));
    }),
  );
}

export const byKey = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
