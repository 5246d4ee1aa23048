import { describe, expect, it } from 'vitest';
import {
  identityBody,
  identityErrors,
  isValidIdNumber,
  isValidName,
  isValidPhone,
  normalizePhone,
} from './identity';

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

  it('a whole identity: the refused fields, and the body sent', () => {
    expect(identityErrors({ name: '张三丰', phone: '138 1234 5678', idNumber: '' })).toEqual({});
    expect(identityErrors({ name: 'R2D2', phone: '12345', idNumber: '110101199003070001' })).toEqual({
      name: 'confirm.invalidName',
      phone: 'confirm.invalidPhone',
      idNumber: 'confirm.invalidId',
    });
    expect(identityBody({ name: ' 张三丰 ', phone: '+86 138-1234-5678', idNumber: ' ' })).toEqual({
      name: '张三丰',
      phone: '13812345678',
    });
    expect(identityBody({ name: '张三丰', phone: '13812345678', idNumber: '11010119900307002x ' })).toEqual({
      name: '张三丰',
      phone: '13812345678',
      idNumber: '11010119900307002X',
    });
  });
});
