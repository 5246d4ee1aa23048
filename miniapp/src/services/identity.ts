import {
  DEFAULT_ID_TYPE,
  ID_TYPES,
  isValidIdNumber,
  isValidName,
  isValidPhone,
  normaliseIdNumber,
  normalizePhone,
  type IdType,
} from '@ridetrace/shared/identity';
import type { MessageKey } from './messages';

export { ID_TYPES, type IdType };

/** What a rider types: name, phone and an optional ID number of a document type (resident ID card if none), as typed. */
export interface IdentityInput {
  name: string;
  phone: string;
  idType?: IdType;
  idNumber: string;
}

export type IdentityErrors = Partial<Record<keyof IdentityInput, MessageKey>>;

export const EMPTY_IDENTITY: IdentityInput = { name: '', phone: '', idType: DEFAULT_ID_TYPE, idNumber: '' };

/** The label, placeholder and error of the ID number field for a document type (a resident ID card: as before types). */
export const idNumberTexts = (type: IdType = DEFAULT_ID_TYPE) =>
  type === 'cn_id'
    ? ({
        label: 'confirm.idNumber',
        placeholder: 'confirm.idPlaceholder',
        invalid: 'confirm.invalidId',
      } as const)
    : ({
        label: 'confirm.idNumberOther',
        placeholder: `confirm.idPlaceholder.${type}`,
        invalid: `confirm.invalidId.${type}`,
      } as const);

/** How many characters the ID number field takes: the longest way each document's number is written. */
export const ID_NUMBER_MAXLENGTH: Record<IdType, number> = {
  cn_id: 18,
  passport: 17,
  hk_mo_permit: 13, // H12345678(01)
  tw_permit: 13, // 0561682001(D)
  foreign_pr: 18,
};

/**
 * The message of every field the server would refuse (its own rules, from shared/); none when it can be sent. With
 * `phoneOnFile` (a verified phone the server holds) the phone may be left empty: the server keeps that one.
 */
export function identityErrors(
  { name, phone, idType, idNumber }: IdentityInput,
  opts: { phoneOnFile?: boolean } = {},
): IdentityErrors {
  const errors: IdentityErrors = {};
  const type = idType ?? DEFAULT_ID_TYPE;
  if (!isValidName(name)) errors.name = 'confirm.invalidName';
  const phoneLeftOut = opts.phoneOnFile === true && phone.trim() === '';
  if (!phoneLeftOut && !isValidPhone(phone)) errors.phone = 'confirm.invalidPhone';
  if (idNumber.trim() && !isValidIdNumber(type, idNumber)) errors.idNumber = idNumberTexts(type).invalid;
  return errors;
}

/**
 * The identity as the API takes it: name trimmed, phone normalised, the ID number (normalised for its type) only when
 * given, and its type only when it is not a resident ID card (the API's default: a server from before types takes
 * the body too).
 */
export function identityBody({ name, phone, idType, idNumber }: IdentityInput): {
  name: string;
  phone: string;
  idType?: IdType;
  idNumber?: string;
} {
  const type = idType ?? DEFAULT_ID_TYPE;
  return {
    name: name.trim(),
    phone: normalizePhone(phone),
    ...(idNumber.trim()
      ? { ...(type === DEFAULT_ID_TYPE ? {} : { idType: type }), idNumber: normaliseIdNumber(type, idNumber) }
      : {}),
  };
}
