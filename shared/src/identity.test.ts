import { describe, expect, it } from 'vitest';
import { isValidIdNumber, normalizeIdNumber, normalizePhone, PHONE_PATTERN } from './identity.js';

describe('normalizePhone', () => {
  it('removes spaces and hyphens', () => {
    expect(normalizePhone('138 1234 5678')).toBe('13812345678');
    expect(normalizePhone('138-1234-5678')).toBe('13812345678');
  });

  it('removes a +86, 0086 or 86 country prefix of a mobile number', () => {
    expect(normalizePhone('+86 138 1234 5678')).toBe('13812345678');
    expect(normalizePhone('+8613812345678')).toBe('13812345678');
    expect(normalizePhone('0086 13812345678')).toBe('13812345678');
    expect(normalizePhone('8613812345678')).toBe('13812345678');
  });

  it('leaves a bare mobile number unchanged', () => {
    expect(normalizePhone('13812345678')).toBe('13812345678');
  });

  it('every accepted input form normalises to the same number', () => {
    const forms = [
      '13812345678',
      '138 1234 5678',
      '+86 138-1234-5678',
      '0086 138 1234 5678',
      '86 13812345678',
    ];
    for (const f of forms) {
      expect(new RegExp(PHONE_PATTERN).test(f), f).toBe(true);
      expect(normalizePhone(f), f).toBe('13812345678');
    }
  });
});

describe('normalizeIdNumber', () => {
  it('trims and upper-cases', () => {
    expect(normalizeIdNumber(' 11010519491231002x ')).toBe('11010519491231002X');
  });
});

describe('isValidIdNumber', () => {
  it('accepts ID numbers with a correct digit check character', () => {
    expect(isValidIdNumber('110101199003074477')).toBe(true);
    expect(isValidIdNumber('440304198501011235')).toBe(true);
  });

  it('accepts a correct X check character in either case', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('11010519491231002x')).toBe(true);
  });

  it('rejects a wrong check character', () => {
    expect(isValidIdNumber('110101199003074478')).toBe(false);
    expect(isValidIdNumber('11010519491231002' + '1')).toBe(false);
    expect(isValidIdNumber('11010119900307447X')).toBe(false);
  });

  it('rejects wrong lengths and characters', () => {
    expect(isValidIdNumber('')).toBe(false);
    expect(isValidIdNumber('11010119900307447')).toBe(false);
    expect(isValidIdNumber('1101011990030744770')).toBe(false);
    expect(isValidIdNumber('1101011990030744A7')).toBe(false);
    expect(isValidIdNumber('X10101199003074477')).toBe(false);
  });
});
