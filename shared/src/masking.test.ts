import { describe, expect, it } from 'vitest';
import { maskIdNumber, maskName, maskPhone } from './masking.js';

describe('maskName', () => {
  it('keeps the first and last character of a Chinese name of three or more', () => {
    expect(maskName('张三丰')).toBe('张*丰');
    expect(maskName('欧阳娜娜')).toBe('欧**娜');
  });

  it('keeps the first character of a two-character name', () => {
    expect(maskName('张三')).toBe('张*');
  });

  it('masks a single character completely', () => {
    expect(maskName('张')).toBe('*');
  });

  it('keeps the first letter of each word of a Latin name', () => {
    expect(maskName('Li Lei')).toBe('L* L**');
  });

  it('ignores surrounding whitespace', () => {
    expect(maskName('  张三丰 ')).toBe('张*丰');
    expect(maskName('   ')).toBe('');
  });
});

describe('maskPhone', () => {
  it('keeps the first 3 and last 4 digits of a mainland mobile number', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
  });

  it('ignores spaces and hyphens', () => {
    expect(maskPhone('138 1234 5678')).toBe('138****5678');
    expect(maskPhone('138-1234-5678')).toBe('138****5678');
  });

  it('masks a number written with the +86 country code like the bare number', () => {
    expect(maskPhone('+86 138 1234 5678')).toBe('138****5678');
    expect(maskPhone('+8613812345678')).toBe('138****5678');
  });

  it('never shows a short value', () => {
    expect(maskPhone('1234')).toBe('****');
  });
});

describe('maskIdNumber', () => {
  it('keeps the first and last 4 characters of an 18-character ID number', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('1101**********002X');
    expect(maskIdNumber('110101199003074477')).toBe('1101**********4477');
  });

  it('ignores surrounding whitespace', () => {
    expect(maskIdNumber(' 110101199003074477 ')).toBe('1101**********4477');
  });

  it('masks short values completely', () => {
    expect(maskIdNumber('12345678')).toBe('********');
  });
});
