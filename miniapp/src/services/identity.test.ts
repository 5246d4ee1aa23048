import { describe, expect, it } from 'vitest';
import { isValidIdNumber, isValidName, isValidPhone, normalizePhone } from './identity';

describe('input checks', () => {
  it('phones', () => {
    expect(normalizePhone('+86 138-1234-5678')).toBe('13812345678');
    expect(isValidPhone('13812345678')).toBe(true);
    expect(isValidPhone('12812345678')).toBe(false);
    expect(isValidPhone('1381234567')).toBe(false);
  });

  it('names', () => {
    expect(isValidName('张三丰')).toBe(true);
    expect(isValidName('阿卜杜·热合曼')).toBe(true);
    expect(isValidName("Li Lei-O'Neil")).toBe(true);
    expect(isValidName(' ')).toBe(false);
    expect(isValidName('R2D2')).toBe(false);
    expect(isValidName('<script>')).toBe(false);
  });

  it('ID numbers with their check character', () => {
    expect(isValidIdNumber('11010119900307002X')).toBe(true);
    expect(isValidIdNumber('11010119900307002x')).toBe(true);
    expect(isValidIdNumber('110101199003070001')).toBe(false);
    expect(isValidIdNumber('1101011990030700')).toBe(false);
  });
});
