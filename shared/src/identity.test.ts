import { describe, expect, it } from 'vitest';
import {
  ID_NUMBER_INPUT_PATTERN,
  ID_TYPE_NAMES,
  ID_TYPES,
  isIdType,
  isValidIdNumber,
  isValidName,
  isValidPhone,
  NAME_PATTERN,
  normaliseIdNumber,
  normalizeIdNumber,
  normalizePhone,
  PHONE_PATTERN,
  type IdType,
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

/**
 * ISO 7064 MOD 11-2 as the standard states it (weights 2^(17-i) mod 11; check value (12 - sum mod 11) mod 11, 10 → X),
 * apart from the lookup table the implementation uses.
 */
function withCheck(first17: string): string {
  const sum = Array.from(first17).reduce((acc, d, i) => acc + Number(d) * (2 ** (17 - i) % 11), 0);
  const v = (12 - (sum % 11)) % 11;
  return `${first17}${v === 10 ? 'X' : String(v)}`;
}
/** The same number with another (wrong) check character. */
const wrongCheck = (id: string) => `${id.slice(0, 17)}${id.endsWith('1') ? '2' : '1'}`;
/** 2024-03-10 16:30 UTC: 2024-03-11 00:30 in Beijing. */
const NOW = new Date('2024-03-10T16:30:00Z');

describe('ID_TYPES', () => {
  it('are the five document types, cn_id first (the default)', () => {
    expect(ID_TYPES).toEqual(['cn_id', 'passport', 'hk_mo_permit', 'tw_permit', 'foreign_pr']);
    for (const t of ID_TYPES) {
      expect(isIdType(t)).toBe(true);
      expect(ID_TYPE_NAMES[t].length).toBeGreaterThan(0);
    }
    expect(isIdType('CN_ID')).toBe(false);
    expect(isIdType('id_card')).toBe(false);
    expect(isIdType(undefined)).toBe(false);
  });
});

describe('normaliseIdNumber', () => {
  it('cn_id: trims and upper-cases (as before types); also drops inner spaces, hyphens and full-width forms', () => {
    expect(normaliseIdNumber('cn_id', ' 11010519491231002x ')).toBe('11010519491231002X');
    expect(normaliseIdNumber('cn_id', '110105 19491231 002x')).toBe('11010519491231002X');
    expect(normaliseIdNumber('cn_id', '110105-19491231-002X')).toBe('11010519491231002X');
    expect(normaliseIdNumber('cn_id', '１１０１０５１９４９１２３１００２ｘ')).toBe('11010519491231002X');
  });

  it('cn_id: every number the API took before types (18 ASCII characters) normalises as it did (blind index)', () => {
    for (const id of ['11010519491231002X', '11010519491231002x', '110101199003074477', '000000000000000000'])
      expect(normaliseIdNumber('cn_id', id), id).toBe(id.trim().toUpperCase());
  });

  it('normalizeIdNumber (deprecated) is the cn_id form', () => {
    expect(normalizeIdNumber(' 11010519491231002x ')).toBe('11010519491231002X');
  });

  it('passport: upper-case ASCII without spaces or hyphens', () => {
    expect(normaliseIdNumber('passport', ' e1234 5678 ')).toBe('E12345678');
    expect(normaliseIdNumber('passport', 'ea-123-4567')).toBe('EA1234567');
    expect(normaliseIdNumber('passport', 'Ｅ１２３４５６７８')).toBe('E12345678');
  });

  it('hk_mo_permit: the lifelong H/M + 8 digits, without the 2 renewal digits however written', () => {
    for (const raw of [
      'H12345678',
      'h12345678',
      'H1234567801',
      'H12345678 01',
      'H12345678(01)',
      'Ｈ１２３４５６７８（０１）',
    ])
      expect(normaliseIdNumber('hk_mo_permit', raw), raw).toBe('H12345678');
    expect(normaliseIdNumber('hk_mo_permit', 'M8765432102')).toBe('M87654321');
    // Not a permit number: left as typed (upper-case, no separators) for the validator to refuse.
    expect(normaliseIdNumber('hk_mo_permit', 'H123456789')).toBe('H123456789');
  });

  it('tw_permit: the lifelong 8 digits, without the issue count and office code of older booklets', () => {
    for (const raw of [
      '05616820',
      '0561682001',
      '05616820(01)',
      '0561682001(D)',
      '0561682001D',
      '0561682001 (D)',
    ])
      expect(normaliseIdNumber('tw_permit', raw), raw).toBe('05616820');
    expect(normaliseIdNumber('tw_permit', '123456789')).toBe('123456789');
  });

  it('foreign_pr: upper-case ASCII without separators', () => {
    expect(normaliseIdNumber('foreign_pr', 'usa 110080 010101')).toBe('USA110080010101');
  });
});

describe('isValidIdNumber: cn_id (resident identity card)', () => {
  it('accepts ID numbers with a correct digit check character', () => {
    expect(isValidIdNumber('110101199003074477')).toBe(true);
    expect(isValidIdNumber('440304198501011235')).toBe(true);
    expect(isValidIdNumber('cn_id', '110101199003074477')).toBe(true);
  });

  it('accepts a correct X check character in either case', () => {
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('11010519491231002x')).toBe(true);
  });

  it('the one-argument form is cn_id', () => {
    for (const id of [
      '11010519491231002X',
      '110101199003074478',
      withCheck('11010119991399123'),
      'E12345678',
    ])
      expect(isValidIdNumber(id), id).toBe(isValidIdNumber('cn_id', id));
  });

  it('rejects a wrong check character', () => {
    expect(isValidIdNumber('110101199003074478')).toBe(false);
    expect(isValidIdNumber('11010519491231002' + '1')).toBe(false);
    expect(isValidIdNumber('11010119900307447X')).toBe(false);
    for (const first17 of ['11010519491231002', '44030519800101987', '31010119800101123']) {
      expect(isValidIdNumber(withCheck(first17)), first17).toBe(true);
      expect(isValidIdNumber(wrongCheck(withCheck(first17))), first17).toBe(false);
    }
  });

  it('rejects a transposition of two digits (what MOD 11-2 is for)', () => {
    const id = withCheck('44030519800101987');
    const swapped = `${id.slice(0, 14)}${id[15]}${id[14]}${id.slice(16)}`;
    expect(swapped).not.toBe(id);
    expect(isValidIdNumber(swapped)).toBe(false);
  });

  it('rejects wrong lengths and characters', () => {
    expect(isValidIdNumber('')).toBe(false);
    expect(isValidIdNumber('11010119900307447')).toBe(false);
    expect(isValidIdNumber('1101011990030744770')).toBe(false);
    expect(isValidIdNumber('1101011990030744A7')).toBe(false);
    expect(isValidIdNumber('X10101199003074477')).toBe(false);
    // The first-generation 15-digit card is no longer valid (since 2013).
    expect(isValidIdNumber('110105491231002')).toBe(false);
  });

  it('rejects impossible birth dates even with a correct check character', () => {
    for (const date of [
      '19991399', // month 13, day 99
      '19991301',
      '19990001', // month 0
      '19990100', // day 0
      '19990132',
      '19990230', // no 30 February
      '19990229', // 1999 is not a leap year
      '19000229', // nor is 1900 (divisible by 100)
      '19990431', // April has 30 days
      '19991131',
    ]) {
      const id = withCheck(`110101${date}123`);
      expect(isValidIdNumber('cn_id', id, NOW), date).toBe(false);
    }
  });

  it('accepts the real edge dates', () => {
    for (const date of ['19000101', '20000229', '19960229', '19991231', '19990131', '19990430'])
      expect(isValidIdNumber('cn_id', withCheck(`110101${date}123`), NOW), date).toBe(true);
  });

  it('rejects a birth date before 1900', () => {
    expect(isValidIdNumber('cn_id', withCheck('11010118991231123'), NOW)).toBe(false);
    expect(isValidIdNumber('cn_id', withCheck('11010108000101123'), NOW)).toBe(false);
  });

  it("rejects a birth date in the future, counted in China's time (UTC+8)", () => {
    // NOW is 2024-03-11 00:30 in Beijing: born today is fine, tomorrow is not.
    expect(isValidIdNumber('cn_id', withCheck('11010120240311123'), NOW)).toBe(true);
    expect(isValidIdNumber('cn_id', withCheck('11010120240312123'), NOW)).toBe(false);
    expect(isValidIdNumber('cn_id', withCheck('11010120250101123'), NOW)).toBe(false);
    // 23:59:59 on 10 March in Beijing: 11 March is still tomorrow.
    const evening = new Date('2024-03-10T15:59:59Z');
    expect(isValidIdNumber('cn_id', withCheck('11010120240310123'), evening)).toBe(true);
    expect(isValidIdNumber('cn_id', withCheck('11010120240311123'), evening)).toBe(false);
  });

  it('by default "now" is the current time', () => {
    const nextYear = new Date().getUTCFullYear() + 1;
    expect(isValidIdNumber(withCheck(`110101${nextYear}0101123`))).toBe(false);
    expect(isValidIdNumber(withCheck('11010120000101123'))).toBe(true);
  });

  it('rejects a number starting with 9 (a permanent residence card) or 0: resident ID numbers start with 1–8', () => {
    const pr = withCheck('91184019800101123');
    expect(isValidIdNumber('foreign_pr', pr, NOW)).toBe(true);
    expect(isValidIdNumber('cn_id', pr, NOW)).toBe(false);
    expect(isValidIdNumber('cn_id', withCheck('01010119800101123'), NOW)).toBe(false);
    // Hong Kong, Macao and Taiwan residence permits (81/82/83 address codes) are resident numbers.
    expect(isValidIdNumber('cn_id', withCheck('81000019800101123'), NOW)).toBe(true);
  });

  it('accepts separators and full-width digits (normalised first)', () => {
    expect(isValidIdNumber('cn_id', '110105 19491231 002x')).toBe(true);
    expect(isValidIdNumber('cn_id', '１１０１０５１９４９１２３１００２Ｘ')).toBe(true);
  });
});

describe('isValidIdNumber: passport', () => {
  it('accepts Chinese passports (E + 8 digits, E + letter + 7 digits, G + 8 digits) and foreign ones', () => {
    for (const p of [
      'E12345678',
      'EA1234567',
      'EH7654321',
      'G12345678',
      'C01X00T47',
      '123456789',
      'TK1234567',
      '12AB34567',
    ])
      expect(isValidIdNumber('passport', p), p).toBe(true);
  });

  it('accepts 5 to 17 letters and digits', () => {
    expect(isValidIdNumber('passport', 'K1234')).toBe(true);
    expect(isValidIdNumber('passport', 'A1234567890123456')).toBe(true);
    expect(isValidIdNumber('passport', 'K123')).toBe(false);
    expect(isValidIdNumber('passport', 'A12345678901234567')).toBe(false);
  });

  it('needs at least one digit (a name typed into the field is refused)', () => {
    expect(isValidIdNumber('passport', 'ZHANGSAN')).toBe(false);
    expect(isValidIdNumber('passport', 'ZHANGSAN1')).toBe(true);
  });

  it('refuses other characters, accepts separators and lower case', () => {
    for (const p of ['E1234567<', 'E1234567.8', '(E12345678)', 'E1234567８x张', 'É12345678', ''])
      expect(isValidIdNumber('passport', p), p).toBe(false);
    expect(isValidIdNumber('passport', 'e1234-5678')).toBe(true);
    expect(isValidIdNumber('passport', ' ea 1234567 ')).toBe(true);
  });

  it('an 18-character resident ID number is not a passport number', () => {
    expect(isValidIdNumber('passport', '11010519491231002X')).toBe(false);
  });
});

describe('isValidIdNumber: hk_mo_permit', () => {
  it('accepts H (Hong Kong) or M (Macao) + 8 digits, with or without the 2 renewal digits', () => {
    for (const p of ['H12345678', 'M87654321', 'h12345678', 'H1234567801', 'H12345678(01)', 'M87654321 03'])
      expect(isValidIdNumber('hk_mo_permit', p), p).toBe(true);
  });

  it('refuses other letters and lengths', () => {
    for (const p of [
      'K12345678',
      'W12345678',
      '12345678',
      'H1234567',
      'H123456789',
      'H123456789012',
      'HH2345678',
      'H1234567A',
      'H12345678(1)',
    ])
      expect(isValidIdNumber('hk_mo_permit', p), p).toBe(false);
  });
});

describe('isValidIdNumber: tw_permit', () => {
  it('accepts 8 digits, and the 10-digit booklet forms (with an office code in parentheses)', () => {
    for (const p of [
      '05616820',
      '12345678',
      '0561682001',
      '05616820(01)',
      '0561682001(D)',
      '0561682001(1)',
      '0561682001D',
    ])
      expect(isValidIdNumber('tw_permit', p), p).toBe(true);
  });

  it('refuses other lengths and letters', () => {
    for (const p of ['1234567', '123456789', 'A1234567', 'T12345678', '0561682001(DD)', '056168200123'])
      expect(isValidIdNumber('tw_permit', p), p).toBe(false);
  });
});

describe('isValidIdNumber: foreign_pr', () => {
  it('accepts the 15-character card (3 letters + 12 digits)', () => {
    for (const p of ['USA110080010101', 'usa110080010101', 'CAN310075062801', 'DEU 4400 9001 0152'])
      expect(isValidIdNumber('foreign_pr', p, NOW), p).toBe(true);
  });

  it('refuses other 15-character shapes', () => {
    for (const p of [
      'US1110080010101',
      'USA11008001010',
      'USA1100800101011',
      '123110080010101',
      'USAA10080010101',
    ])
      expect(isValidIdNumber('foreign_pr', p, NOW), p).toBe(false);
  });

  it('accepts the 2023 card: 9, office, nationality, birth date, sequence and a MOD 11-2 check character', () => {
    const pr = withCheck('91184019800101123');
    expect(isValidIdNumber('foreign_pr', pr, NOW)).toBe(true);
    let x = '';
    for (let n = 0; !x.endsWith('X'); n++) x = withCheck(`93184019750601${String(n).padStart(3, '0')}`);
    expect(isValidIdNumber('foreign_pr', x.toLowerCase(), NOW)).toBe(true);
  });

  it('refuses a 2023 card with a wrong check character, an impossible or future birth date, or not starting with 9', () => {
    expect(isValidIdNumber('foreign_pr', wrongCheck(withCheck('91184019800101123')), NOW)).toBe(false);
    expect(isValidIdNumber('foreign_pr', withCheck('91184019991399123'), NOW)).toBe(false);
    expect(isValidIdNumber('foreign_pr', withCheck('91184020240312123'), NOW)).toBe(false);
    expect(isValidIdNumber('foreign_pr', withCheck('81184019800101123'), NOW)).toBe(false);
    expect(isValidIdNumber('foreign_pr', withCheck('11010519491231002'), NOW)).toBe(false);
  });
});

describe('isValidIdNumber: types', () => {
  it('an unknown type is never valid', () => {
    expect(isValidIdNumber('id_card' as IdType, '11010519491231002X')).toBe(false);
  });

  it('one number is valid for at most one of cn_id and foreign_pr (their first digits differ)', () => {
    for (const first17 of ['11010519491231002', '91184019800101123']) {
      const id = withCheck(first17);
      const valid = ID_TYPES.filter((t) => isValidIdNumber(t, id, NOW));
      expect(valid.filter((t) => t === 'cn_id' || t === 'foreign_pr')).toHaveLength(1);
    }
  });
});

describe('ID_NUMBER_INPUT_PATTERN (what the API schema takes)', () => {
  it('takes every valid number of every type as typed, separators included', () => {
    const re = new RegExp(ID_NUMBER_INPUT_PATTERN);
    for (const raw of [
      '11010519491231002x',
      'E1234-5678',
      'H12345678(01)',
      '0561682001 (D)',
      'USA110080010101',
    ])
      expect(re.test(raw), raw).toBe(true);
  });

  it('refuses other characters', () => {
    const re = new RegExp(ID_NUMBER_INPUT_PATTERN);
    for (const raw of ['E1234567<', '张三', '1101<script>', 'E12\n345678', '１１０１'])
      expect(re.test(raw), raw).toBe(false);
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
