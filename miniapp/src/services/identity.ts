import {
  isValidIdNumber,
  isValidName,
  isValidPhone,
  normalizeIdNumber,
  normalizePhone,
} from '@ridetrace/shared/identity';
import type { MessageKey } from './messages';

/** What a rider types: name, phone and an optional ID number, as typed. */
export interface IdentityInput {
  name: string;
  phone: string;
  idNumber: string;
}

export type IdentityErrors = Partial<Record<keyof IdentityInput, MessageKey>>;

export const EMPTY_IDENTITY: IdentityInput = { name: '', phone: '', idNumber: '' };

/** The message of every field the server would refuse (its own rules, from shared/); none when it can be sent. */
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
    ...(idNumber.trim() ? { idNumber: normalizeIdNumber(idNumber) } : {}),
  };
}
