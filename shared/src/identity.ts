/** The server's identity rules; also `@ridetrace/shared/identity` for the mini-program: keep it import-free. */

/** Mainland mobile numbers (11 digits starting with 1), optionally with +86/0086 and separators. */
export const PHONE_PATTERN = '^(\\+?86|0086)?[\\s-]*1[3-9]\\d[\\s-]*\\d{4}[\\s-]*\\d{4}$';

/** Resident ID card: 17 digits and a check character (digit or X). */
export const ID_NUMBER_PATTERN = '^\\d{17}[\\dXx]$';

export function normalizePhone(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '').replace(/^(\+86|0086|86)(?=1\d{10}$)/, '');
  return digits;
}

/** Whether the server accepts the phone as clients send it: normalised. */
export function isValidPhone(phone: string): boolean {
  return new RegExp(PHONE_PATTERN).test(normalizePhone(phone));
}

export function normalizeIdNumber(id: string): string {
  return id.trim().toUpperCase();
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** GB 11643-1999 check character of an 18-character resident ID number. */
export function isValidIdNumber(id: string): boolean {
  const s = normalizeIdNumber(id);
  if (!new RegExp(ID_NUMBER_PATTERN).test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === s[17];
}

/** Names: 1–40 characters, letters (any script), middle dot, spaces, hyphen, apostrophe. */
export const NAME_PATTERN = "^[\\p{L}\\p{M}·'\\- ]{1,40}$";

/** Whether the server accepts the name as clients send it: trimmed. `u` as Ajv compiles patterns (for `\p{L}`). */
export function isValidName(name: string): boolean {
  return new RegExp(NAME_PATTERN, 'u').test(name.trim());
}
