/** The server's identity rules; also `@ridetrace/shared/identity` for the mini-program: keep it import-free. */

/** Mainland mobile numbers (11 digits starting with 1), optionally with +86/0086 and separators. */
export const PHONE_PATTERN = '^(\\+?86|0086)?[\\s-]*1[3-9]\\d[\\s-]*\\d{4}[\\s-]*\\d{4}$';

/** Resident ID card: 17 digits and a check character (digit or X). The API takes any type: ID_NUMBER_INPUT_PATTERN. */
export const ID_NUMBER_PATTERN = '^\\d{17}[\\dXx]$';

export function normalizePhone(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '').replace(/^(\+86|0086|86)(?=1\d{10}$)/, '');
  return digits;
}

/** Whether the server accepts the phone as clients send it: normalised. */
export function isValidPhone(phone: string): boolean {
  return new RegExp(PHONE_PATTERN).test(normalizePhone(phone));
}

/**
 * The identity documents whose number a rider may give. `cn_id` is the default wherever a type is omitted (every
 * client and every stored row from before types existed).
 */
export const ID_TYPES = ['cn_id', 'passport', 'hk_mo_permit', 'tw_permit', 'foreign_pr'] as const;
export type IdType = (typeof ID_TYPES)[number];
export const DEFAULT_ID_TYPE: IdType = 'cn_id';

/** English names of the document types, for API messages (the mini-program has its own texts). */
export const ID_TYPE_NAMES: Readonly<Record<IdType, string>> = {
  cn_id: 'mainland resident identity card',
  passport: 'passport',
  hk_mo_permit: 'Mainland Travel Permit for Hong Kong and Macao Residents',
  tw_permit: 'Mainland Travel Permit for Taiwan Residents',
  foreign_pr: "Foreigner's Permanent Residence ID Card",
};

export function isIdType(value: unknown): value is IdType {
  return typeof value === 'string' && (ID_TYPES as readonly string[]).includes(value);
}

/**
 * What the API takes as an ID number of any type, as typed: letters, digits, spaces, hyphens and parentheses. Only
 * the charset; the server checks the number against its type (`isValidIdNumber`).
 */
export const ID_NUMBER_INPUT_PATTERN = '^[0-9A-Za-z ()-]+$';
export const ID_NUMBER_INPUT_MIN = 5;
export const ID_NUMBER_INPUT_MAX = 24;

/** Full-width forms (Ｅ１２３, （０１）) as an IME types them → ASCII; the ideographic space → a space. */
function toAscii(s: string): string {
  return s.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

// Hong Kong / Macao permit: the holder's lifelong number (H or M + 8 digits), then an optional 2-digit renewal count.
const HK_MO_TYPED = /^([HM]\d{8})(?:\d{2})?$/;
// Taiwan permit: the lifelong 8 digits; booklets (1992–2008) added a 2-digit issue count and an issuing office code.
const TW_TYPED = /^(\d{8})(?:\d{2}[0-9A-Z]?)?$/;

/**
 * The canonical form of an ID number of a type: what is validated, sealed and blind-indexed. Upper-case ASCII without
 * spaces or hyphens; for the permits the lifelong number alone (renewal counts and office codes change with each
 * document, the holder's number does not), so every spelling of one person's number is the same string.
 * A `cn_id` number typed as before (18 ASCII characters) normalises exactly as it always did (trim + upper-case):
 * stored blind indexes keep matching.
 */
export function normaliseIdNumber(type: IdType, raw: string): string {
  const s = toAscii(raw).toUpperCase().replace(/[\s-]/g, '');
  switch (type) {
    case 'hk_mo_permit': {
      const bare = s.replace(/[()]/g, '');
      return HK_MO_TYPED.exec(bare)?.[1] ?? bare;
    }
    case 'tw_permit': {
      const bare = s.replace(/[()]/g, '');
      return TW_TYPED.exec(bare)?.[1] ?? bare;
    }
    default:
      return s;
  }
}

/** @deprecated `normaliseIdNumber(type, raw)`; this is its `cn_id` form. */
export function normalizeIdNumber(id: string): string {
  return normaliseIdNumber('cn_id', id);
}

const MOD11_2_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const MOD11_2_CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 (GB 11643-1999): the 18th character checks the first 17 digits. */
function hasMod11_2Check(s: string): boolean {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * MOD11_2_WEIGHTS[i]!;
  return MOD11_2_CHECK[sum % 11] === s[17];
}

/**
 * Whether YYYYMMDD is a real birth date: a calendar date from 1900-01-01 up to today. "Today" is China's (UTC+8):
 * a child born just after midnight in Beijing has a birth date that is still tomorrow in UTC.
 */
function isBirthDate(yyyymmdd: string, now: Date): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  if (d > days) return false;
  const china = new Date(now.getTime() + 8 * 3_600_000);
  const today = china.getUTCFullYear() * 10_000 + (china.getUTCMonth() + 1) * 100 + china.getUTCDate();
  return y * 10_000 + m * 100 + d <= today;
}

/** The rule of each type, on the normalised number. */
const ID_RULES: Record<IdType, (s: string, now: Date) => boolean> = {
  // GB 11643-1999: 6-digit address code (first digit 1–8), birth date YYYYMMDD, 3-digit sequence, MOD 11-2 check.
  cn_id: (s, now) => /^[1-8]\d{16}[\dX]$/.test(s) && isBirthDate(s.slice(6, 14), now) && hasMod11_2Check(s),
  // ICAO 9303 document number: letters and digits, at least one digit; 5–17 so that foreign numbers (9 in the MRZ,
  // some states longer) fit. Chinese passports (E + 8 digits, E + letter + 7 digits, older G + 8) are among them.
  passport: (s) => /^[A-Z0-9]{5,17}$/.test(s) && /\d/.test(s),
  // Mainland Travel Permit for HK/Macao residents (card since 2013): H (Hong Kong) or M (Macao) + 8 digits.
  hk_mo_permit: (s) => /^[HM]\d{8}$/.test(s),
  // Mainland Travel Permit for Taiwan residents: 8 digits, lifelong since 2008 (older 10-digit forms normalise to them).
  tw_permit: (s) => /^\d{8}$/.test(s),
  // Foreigner's Permanent Residence ID Card: 2004/2017 cards 3 letters (nationality) + 12 digits; cards since
  // 2023-12-01 as cn_id: 9, 2-digit office, 3-digit nationality, birth date YYYYMMDD, sequence, MOD 11-2 check.
  foreign_pr: (s, now) =>
    /^[A-Z]{3}\d{12}$/.test(s) ||
    (/^9\d{16}[\dX]$/.test(s) && isBirthDate(s.slice(6, 14), now) && hasMod11_2Check(s)),
};

/**
 * Whether an ID number (as typed: it is normalised first) is valid for its document type; one argument: a resident
 * ID card (`cn_id`). `now` dates the "birth date not in the future" rule.
 */
export function isValidIdNumber(id: string): boolean;
export function isValidIdNumber(type: IdType, id: string, now?: Date): boolean;
export function isValidIdNumber(typeOrId: string, id?: string, now: Date = new Date()): boolean {
  const [type, value] = id === undefined ? [DEFAULT_ID_TYPE, typeOrId] : [typeOrId, id];
  if (!isIdType(type)) return false;
  return ID_RULES[type](normaliseIdNumber(type, value), now);
}

/** Names: 1–40 characters, letters (any script), middle dot, spaces, hyphen, apostrophe. */
export const NAME_PATTERN = "^[\\p{L}\\p{M}·'\\- ]{1,40}$";

/** Whether the server accepts the name as clients send it: trimmed. `u` as Ajv compiles patterns (for `\p{L}`). */
export function isValidName(name: string): boolean {
  return new RegExp(NAME_PATTERN, 'u').test(name.trim());
}
