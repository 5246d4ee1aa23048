import type { MessageKey } from './messages';

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

/** What a rider types: name, phone and an optional ID number, as typed. */
export interface IdentityInput {
  name: string;
  phone: string;
  idNumber: string;
}

export type IdentityErrors = Partial<Record<keyof IdentityInput, MessageKey>>;

export const EMPTY_IDENTITY: IdentityInput = { name: '', phone: '', idNumber: '' };

/** The message of every field the server would refuse; none when the identity can be sent. */
export function identityErrors({ name, phone, idNumber }: IdentityInput): IdentityErrors {
  const errors: IdentityErrors = {};
  if (!isValidName(name)) errors.name = 'confirm.invalidName';
  if (!isValidPhone(phone)) errors.phone = 'confirm.invalidPhone';
  if (idNumber.trim() && !isValidIdNumber(idNumber)) errors.idNumber = 'confirm.invalidId';
  return errors;
}

/** The identity as the API takes it: name trimmed, phone normalised, the ID number only when given. */
export function identityBody({ name, phone, idNumber }: IdentityInput): {
  name: string;
  phone: string;
  idNumber?: string;
} {
  return {
    name: name.trim(),
    phone: normalizePhone(phone),
    ...(idNumber.trim() ? { idNumber: idNumber.trim().toUpperCase() } : {}),
  };
}
