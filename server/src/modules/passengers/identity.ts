import {
  maskName,
  maskPhone,
  normalizeIdNumber,
  normalizePhone,
  type MaskedIdentity,
} from '@ridetrace/shared';
import { newDataKey, openText, seal } from '../../crypto/aead.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { PassengerRow, SealedIdentity } from '../../db/tables.js';

/** The PII of a person as entered (confirm or manual registration). */
export interface Identity {
  name: string;
  phone: string;
  idNumber?: string | undefined;
}

const aad = (id: string, column: string) => `passengers/${column}/${id}`;

export function newPassengerKey(keyring: Keyring, passengerId: string) {
  const dek = newDataKey();
  const w = keyring.wrap(dek, aad(passengerId, 'dek'));
  return { dek, columns: { dek_master_key_id: w.masterKeyId, dek_wrapped: w.wrapped } };
}

/** The passenger's own data key; null once crypto-shredded. */
export function passengerKey(
  keyring: Keyring,
  row: Pick<PassengerRow, 'id' | 'dek_master_key_id' | 'dek_wrapped'>,
): Buffer | null {
  if (!row.dek_wrapped || !row.dek_master_key_id) return null;
  return keyring.unwrap({ masterKeyId: row.dek_master_key_id, wrapped: row.dek_wrapped }, aad(row.id, 'dek'));
}

/** Blind indexes of an identity: lookup by phone or ID number without storing either. */
export function identityIndexes(keyring: Keyring, who: Identity) {
  return {
    phone_index: keyring.blindIndex('phone', normalizePhone(who.phone)),
    id_number_index: who.idNumber ? keyring.blindIndex('id-number', normalizeIdNumber(who.idNumber)) : null,
  };
}

/** Columns that store an identity: sealed values (AEAD bound to row and column) and blind indexes. */
export function sealIdentity(keyring: Keyring, dek: Buffer, passengerId: string, who: Identity) {
  return {
    name_sealed: seal(dek, who.name.trim(), aad(passengerId, 'name')),
    phone_sealed: seal(dek, normalizePhone(who.phone), aad(passengerId, 'phone')),
    id_number_sealed: who.idNumber
      ? seal(dek, normalizeIdNumber(who.idNumber), aad(passengerId, 'id_number'))
      : null,
    ...identityIndexes(keyring, who),
  };
}

/**
 * The identity of a passenger, decrypted; null once crypto-shredded. `idNumber: false` leaves the ID number sealed
 * (a masked view never shows it, so it is not decrypted for one).
 */
export function openIdentity(
  keyring: Keyring,
  row: SealedIdentity,
  opts: { idNumber: boolean } = { idNumber: true },
): Identity | null {
  const dek = passengerKey(keyring, row);
  if (!dek || !row.name_sealed || !row.phone_sealed) return null;
  return {
    name: openText(dek, row.name_sealed, aad(row.id, 'name')),
    phone: openText(dek, row.phone_sealed, aad(row.id, 'phone')),
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
