/**
 * Input checks before sending (the server validates again with the patterns in shared/src/identity.ts; these are
 * simplified copies because the mini-program imports no runtime code from shared/).
 */
export function normalizePhone(phone: string): string {
  return phone.replace(/[\s-]/g, '').replace(/^(\+86|0086|86)(?=1\d{10}$)/, '');
}

export function isValidPhone(phone: string): boolean {
  return /^1[3-9]\d{9}$/.test(normalizePhone(phone));
}

/** 1–40 characters, no digits or symbols other than the middle dot, apostrophe, hyphen and space. */
export function isValidName(name: string): boolean {
  const s = name.trim();
  return s.length >= 1 && s.length <= 40 && !/[\d!-&(-,./:-@[-`{-~]/.test(s);
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** 18-character resident ID number with its GB 11643 check character. */
export function isValidIdNumber(id: string): boolean {
  const s = id.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === s[17];
}
