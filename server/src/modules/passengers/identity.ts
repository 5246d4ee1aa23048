import {
  DEFAULT_ID_TYPE,
  ID_TYPE_NAMES,
  isIdType,
  isValidIdNumber,
  maskName,
  maskPhone,
  normaliseIdNumber,
  normalizePhone,
  type IdType,
  type MaskedIdentity,
} from '@ridetrace/shared';
import { randomBytes } from 'node:crypto';
import { newDataKey, openText, seal } from '../../crypto/aead.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { PassengerRow, SealedIdentity } from '../../db/tables.js';
import { AppError } from '../../errors.js';
import type { RideLink } from '../rides/ride-key.js';

/** The PII of a person as entered (confirm or manual registration). */
export interface Identity {
  name: string;
  phone: string;
  /** The document `idNumber` belongs to; `cn_id` when omitted. Opened rows without an id_type column: unknown. */
  idType?: IdType | undefined;
  idNumber?: string | undefined;
}

/** An ID number with the type it is of, as a lookup or registration gives it. */
export type IdDocument = Pick<Identity, 'idType' | 'idNumber'>;

/**
 * 400 validation_failed unless the ID number (if any) is valid for its type (`cn_id` when omitted): a resident ID
 * card needs its check character and a real birth date, the other documents their published formats.
 */
export function assertValidIdDocument(doc: IdDocument): void {
  if (!doc.idNumber) return;
  const type = doc.idType ?? DEFAULT_ID_TYPE;
  if (!isIdType(type))
    throw new AppError('validation_failed', `idType ${String(type)} is not a document type`);
  if (!isValidIdNumber(type, doc.idNumber)) {
    throw new AppError(
      'validation_failed',
      type === DEFAULT_ID_TYPE
        ? `idNumber is not a valid ${ID_TYPE_NAMES[type]} number (idType ${type}): check the digits, the birth ` +
            'date and the check character'
        : `idNumber is not a valid ${ID_TYPE_NAMES[type]} number (idType ${type})`,
    );
  }
}

/**
 * What the ID number's blind index is computed over: a resident ID card's bare normalised number, byte for byte
 * as before document types (stored indexes keep matching); any other type prefixed with it, so a passport or
 * permit number never matches a resident ID card, or each other, with the same characters.
 */
export function idNumberIndexInput(type: IdType, idNumber: string): string {
  const n = normaliseIdNumber(type, idNumber);
  return type === DEFAULT_ID_TYPE ? n : `${type}:${n}`;
}

const aad = (id: string, column: string) => `passengers/${column}/${id}`;

export function newPassengerKey(keyring: Keyring, passengerId: string) {
  const dek = newDataKey();
  const w = keyring.wrap(dek, aad(passengerId, 'dek'));
  return { dek, columns: { dek_master_key_id: w.masterKeyId, dek_wrapped: w.wrapped } };
}

/**
 * A new registration's link secret: the input of its rides' blind index (RideLink). Random, so that nothing kept
 * after the account's deletion (its id, its phone's index) recomputes it.
 */
export function newLinkSecret(): Buffer {
  return randomBytes(32);
}

/** The ride link of a registration; null once the account is deleted (its rides are found from nothing). */
export function rideLinkOfRow(
  row: Pick<PassengerRow, 'id' | 'link_secret' | 'link_since' | 'deleted_at'>,
): RideLink | null {
  if (row.deleted_at !== null) return null;
  return { passengerId: row.id, secret: row.link_secret, since: row.link_since };
}

/** The passenger's own data key; null once crypto-shredded. */
export function passengerKey(
  keyring: Keyring,
  row: Pick<PassengerRow, 'id' | 'dek_master_key_id' | 'dek_wrapped'>,
): Buffer | null {
  if (!row.dek_wrapped || !row.dek_master_key_id) return null;
  return keyring.unwrap({ masterKeyId: row.dek_master_key_id, wrapped: row.dek_wrapped }, aad(row.id, 'dek'));
}

/**
 * Blind indexes of an identity: lookup by phone or ID number (of its type, `cn_id` when omitted) without storing
 * either. A lookup needs no valid number: one that is not valid was never stored, so it matches nobody. Under the
 * current key generation, or under `generation` (one this process holds).
 */
export function identityIndexes(
  keyring: Keyring,
  who: Pick<Identity, 'phone' | 'idType' | 'idNumber'> & { name?: string },
  generation: number = keyring.indexGeneration,
) {
  const index = (kind: 'phone' | 'id-number', value: string) =>
    keyring.blindIndexAt(generation, kind, value)!;
  return {
    phone_index: index('phone', normalizePhone(who.phone)),
    id_number_index: who.idNumber
      ? index('id-number', idNumberIndexInput(who.idType ?? DEFAULT_ID_TYPE, who.idNumber))
      : null,
  };
}

/** What a super-app user's subject index is computed over: the provider's name and the user's id there. */
export function subjectIndexInput(provider: string, openId: string): string {
  return `${provider}:${openId}`;
}

/** What a registration's identity indexes are computed from, opened from its sealed fields (null: not stored). */
export interface IndexInputs {
  phone: string | null;
  /** The ID number's index input (`idNumberIndexInput`), not the number as shown. */
  idNumber: string | null;
  /** The super-app user id; the subject index also needs the provider's name (`subjectIndexInput`). */
  openId: string | null;
}

/** The inputs of a row's identity indexes, recomputable from what is sealed (a key rotation recomputes them). */
export function indexInputsOf(
  keyring: Keyring,
  row: Pick<
    PassengerRow,
    'id' | 'dek_master_key_id' | 'dek_wrapped' | 'phone_sealed' | 'id_number_sealed' | 'id_type'
  > & {
    openid_sealed?: Buffer | null;
  },
): IndexInputs {
  const dek = passengerKey(keyring, row);
  if (!dek) return { phone: null, idNumber: null, openId: null };
  const opened = (sealed: Buffer | null, column: string) =>
    sealed ? openText(dek, sealed, aad(row.id, column)) : null;
  const phone = opened(row.phone_sealed, 'phone');
  const idNumber = opened(row.id_number_sealed, 'id_number');
  return {
    phone: phone === null ? null : normalizePhone(phone),
    idNumber: idNumber === null ? null : idNumberIndexInput(row.id_type ?? DEFAULT_ID_TYPE, idNumber),
    openId: opened(row.openid_sealed ?? null, 'openid'),
  };
}

/** Columns that store a phone: sealed (bound to row and column) and its blind index. */
export function sealPhone(keyring: Keyring, dek: Buffer, passengerId: string, phone: string) {
  const normalized = normalizePhone(phone);
  return {
    phone_sealed: seal(dek, normalized, aad(passengerId, 'phone')),
    phone_index: keyring.blindIndex('phone', normalized),
  };
}

/**
 * Columns that store an identity: sealed values (AEAD bound to row and column), the ID document type and blind
 * indexes. Refuses (400) an ID number that is not valid for its type: none is ever stored.
 */
export function sealIdentity(keyring: Keyring, dek: Buffer, passengerId: string, who: Identity) {
  assertValidIdDocument(who);
  const idType = who.idType ?? DEFAULT_ID_TYPE;
  return {
    name_sealed: seal(dek, who.name.trim(), aad(passengerId, 'name')),
    phone_sealed: seal(dek, normalizePhone(who.phone), aad(passengerId, 'phone')),
    id_number_sealed: who.idNumber
      ? seal(dek, normaliseIdNumber(idType, who.idNumber), aad(passengerId, 'id_number'))
      : null,
    id_type: who.idNumber ? idType : null,
    ...identityIndexes(keyring, who),
  };
}

/**
 * The type of a row's ID number: null without one; `cn_id` for a null id_type (rows sealed before document types);
 * undefined when the row was read without its id_type column (the type is not known).
 */
function idTypeOfRow(
  row: Omit<SealedIdentity, 'id_type'> & { id_type?: IdType | null },
): IdType | null | undefined {
  if (!row.id_number_sealed) return null;
  if (row.id_type === undefined) return undefined;
  return row.id_type ?? DEFAULT_ID_TYPE;
}

/**
 * The identity of a passenger, decrypted; null once crypto-shredded. `idNumber: false` leaves the ID number sealed
 * (a masked view never shows it, so it is not decrypted for one).
 */
export function openIdentity(
  keyring: Keyring,
  row: Omit<SealedIdentity, 'id_type'> & { id_type?: IdType | null },
  opts: { idNumber: boolean } = { idNumber: true },
): Identity | null {
  const dek = passengerKey(keyring, row);
  if (!dek || !row.name_sealed || !row.phone_sealed) return null;
  return {
    name: openText(dek, row.name_sealed, aad(row.id, 'name')),
    phone: openText(dek, row.phone_sealed, aad(row.id, 'phone')),
    idType: opts.idNumber ? (idTypeOfRow(row) ?? undefined) : undefined,
    idNumber:
      opts.idNumber && row.id_number_sealed
        ? openText(dek, row.id_number_sealed, aad(row.id, 'id_number'))
        : undefined,
  };
}

export function maskIdentity(who: Identity | null): MaskedIdentity {
  return { name: who ? maskName(who.name) : null, phone: who ? maskPhone(who.phone) : null };
}

export function sealPending(dek: Buffer, passengerId: string, pending: unknown): Buffer {
  return seal(dek, JSON.stringify(pending), aad(passengerId, 'pending'));
}

export function openPending<T>(dek: Buffer, row: PassengerRow): T | null {
  if (!row.pending_sealed) return null;
  return JSON.parse(openText(dek, row.pending_sealed, aad(row.id, 'pending'))) as T;
}

export function sealOpenId(dek: Buffer, passengerId: string, openId: string): Buffer {
  return seal(dek, openId, aad(passengerId, 'openid'));
}

/** Only what a notification channel needs (super-app user id or phone), with one unwrap of the passenger key. */
export function openContact(keyring: Keyring, row: PassengerRow, channel: 'app' | 'sms'): string | null {
  const sealed = channel === 'app' ? row.openid_sealed : row.phone_sealed;
  if (!sealed) return null;
  const dek = passengerKey(keyring, row);
  if (!dek) return null;
  return openText(dek, sealed, aad(row.id, channel === 'app' ? 'openid' : 'phone'));
}
