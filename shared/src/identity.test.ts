import { describe, expect, it } from 'vitest';
import {
  isValidIdNumber,
  isValidName,
  isValidPhone,
  NAME_PATTERN,
  normalizeIdNumber,
  normalizePhone,
  PHONE_PATTERN,
} from './identity.js';

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

describe("isValidPhone (the server's pattern on the normalised number clients send)", () => {
  it('accepts mainland mobile numbers in any accepted input form', () => {
    expect(isValidPhone('13812345678')).toBe(true);
    expect(isValidPhone('+86 138-1234-5678')).toBe(true);
    expect(isValidPhone(' 13812345678 ')).toBe(true);
  });

  it('rejects other numbers', () => {
    expect(isValidPhone('12812345678')).toBe(false);
    expect(isValidPhone('1381234567')).toBe(false);
    expect(isValidPhone('+86 12812345678')).toBe(false);
    expect(isValidPhone('１３８１２３４５６７８')).toBe(false);
  });

  it('agrees with PHONE_PATTERN on what it normalises to', () => {
    for (const p of ['138 1234 5678', '13 812345678', '0086 13812345678', '12812345678', '138-1234-567'])
      expect(isValidPhone(p), p).toBe(new RegExp(PHONE_PATTERN).test(normalizePhone(p)));
  });
});

describe('isValidName (NAME_PATTERN, Unicode-aware, on the trimmed name)', () => {
  it('accepts names in any script with middle dot, apostrophe, hyphen and spaces', () => {
    expect(isValidName('张三丰')).toBe(true);
    expect(isValidName('阿卜杜·热合曼')).toBe(true);
    expect(isValidName("Li Lei-O'Neil")).toBe(true);
    expect(isValidName('José Zoë')).toBe(true);
    expect(isValidName(' 张三丰 ')).toBe(true);
  });

  it('rejects empty names, digits and symbols', () => {
    expect(isValidName(' ')).toBe(false);
    expect(isValidName('R2D2')).toBe(false);
    expect(isValidName('<script>')).toBe(false);
  });

  it('rejects what only looks like the allowed punctuation, full-width digits and other spaces', () => {
    for (const n of [
      '阿卜杜•热合曼',
      '阿卜杜・热合曼',
      '阿卜杜．热合曼',
      '张三，',
      '张三１',
      '张\u3000三',
      '张\t三',
      '😀',
    ])
      expect(isValidName(n), n).toBe(false);
  });

  it('counts characters, not UTF-16 units: 40 at most', () => {
    expect(isValidName('𠀀'.repeat(40))).toBe(true);
    expect(isValidName('𠀀'.repeat(41))).toBe(false);
    expect(isValidName('a'.repeat(41))).toBe(false);
  });

  it("is the server's NAME_PATTERN, compiled with the u flag as Ajv does", () => {
    for (const n of ['张三丰', 'R2D2', '阿卜杜•热合曼', '𠀀'.repeat(21)])
      expect(isValidName(n), n).toBe(new RegExp(NAME_PATTERN, 'u').test(n));
  });
});
