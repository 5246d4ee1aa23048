import { describe, expect, it } from 'vitest';
import type { IdType } from './identity.js';
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

  it('cn_id with its type: the same mask as with one argument', () => {
    for (const id of ['11010519491231002X', '11010519491231002x', ' 110101199003074477 ', '12345678', ''])
      expect(maskIdNumber('cn_id', id), id).toBe(maskIdNumber(id));
  });

  it('foreign_pr: the 2023 card as a resident ID card, the 15-character card keeps its nationality letters', () => {
    expect(maskIdNumber('foreign_pr', '911840198001011232')).toBe('9118**********1232');
    expect(maskIdNumber('foreign_pr', 'usa110080010101')).toBe('USA********0101');
  });

  it('hk_mo_permit: the H/M letter and the last 3 digits of the lifelong number', () => {
    expect(maskIdNumber('hk_mo_permit', 'H12345678')).toBe('H*****678');
    expect(maskIdNumber('hk_mo_permit', 'm87654321(02)')).toBe('M*****321');
  });

  it('tw_permit: the last 3 digits of the lifelong number', () => {
    expect(maskIdNumber('tw_permit', '05616820')).toBe('*****820');
    expect(maskIdNumber('tw_permit', '0561682001(D)')).toBe('*****820');
  });

  it('passport: the first and last 2, or only the last 2 under 8 characters', () => {
    expect(maskIdNumber('passport', 'E12345678')).toBe('E1*****78');
    expect(maskIdNumber('passport', 'ea1234567')).toBe('EA*****67');
    expect(maskIdNumber('passport', 'A1234567890123456')).toBe('A1*************56');
    expect(maskIdNumber('passport', 'K1234')).toBe('***34');
    expect(maskIdNumber('passport', 'K123456')).toBe('*****56');
  });

  it('every type masks at least half of the characters, and never shows a short value', () => {
    const samples: [IdType, string][] = [
      ['cn_id', '11010519491231002X'],
      ['passport', 'E12345678'],
      ['passport', 'K1234'],
      ['hk_mo_permit', 'H12345678'],
      ['tw_permit', '05616820'],
      ['foreign_pr', 'USA110080010101'],
      ['foreign_pr', '911840198001011232'],
    ];
    for (const [type, id] of samples) {
      const masked = maskIdNumber(type, id);
      const stars = Array.from(masked).filter((c) => c === '*').length;
      expect(stars, `${type} ${id}`).toBeGreaterThanOrEqual(Math.ceil(masked.length / 2));
    }
    expect(maskIdNumber('passport', 'K12')).toBe('***');
    expect(maskIdNumber('hk_mo_permit', 'H12')).toBe('***');
  });
});
