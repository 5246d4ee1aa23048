import { describe, expect, it } from 'vitest';
import { qrMatrix, rowRuns } from './qr';

describe('QR encoding (qrcode-generator, pure JS)', () => {
  it('encodes a status token into a square module matrix with finder patterns', () => {
    const token = `RTS1.${'A'.repeat(130)}`;
    const m = qrMatrix(token);
    expect(m.length).toBeGreaterThanOrEqual(41);
    expect(m.every((row) => row.length === m.length)).toBe(true);
    // Top-left finder pattern: 7 dark modules across the first row.
    expect(m[0]!.slice(0, 7)).toEqual([true, true, true, true, true, true, true]);
    expect(m[0]![7]).toBe(false);
  });

  it('turns a row into runs that add up to the row', () => {
    expect(rowRuns([true, true, false, true])).toEqual([
      { dark: true, length: 2 },
      { dark: false, length: 1 },
      { dark: true, length: 1 },
    ]);
    const row = qrMatrix('hello')[3]!;
    expect(rowRuns(row).reduce((n, r) => n + r.length, 0)).toBe(row.length);
  });
});
