import { AppError } from '../../errors.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../db/index.js';
import { Keyring } from '../../crypto/keyring.js';
import {
  assertValidIdDocument,
  identityIndexes,
  idNumberIndexInput,
  newPassengerKey,
  openIdentity,
  sealIdentity,
} from './identity.js';

// The keyring's system keys in memory: these tests need its blind index and key wrapping, not a database.
vi.mock('../../crypto/keys.repository.js', () => {
  const rows: { name: string; master_key_id: string; wrapped: Buffer }[] = [];
  return {
    insertSystemKeyIfMissing: async (_db: unknown, name: string, masterKeyId: string, wrapped: Buffer) => {
      if (!rows.some((r) => r.name === name)) rows.push({ name, master_key_id: masterKeyId, wrapped });
    },
    findSystemKeys: async () => rows,
  };
});

let keyring: Keyring;
beforeAll(async () => {
  keyring = await Keyring.load({} as Db, {
    keys: new Map([['k1', randomBytes(32)]]),
    activeId: 'k1',
    source: 'env',
  });
});

const RESIDENT = '11010519491231002X';
const phone = '13812345678';

describe('the ID number blind index', () => {
  it('cn_id: byte for byte the index from before document types (trim + upper-case of the number)', () => {
    const before = keyring.blindIndex('id-number', RESIDENT.trim().toUpperCase());
    for (const who of [
      { phone, idNumber: RESIDENT },
      { phone, idNumber: '11010519491231002x' },
      { phone, idType: 'cn_id' as const, idNumber: RESIDENT },
      { phone, idType: undefined, idNumber: RESIDENT },
    ])
      expect(identityIndexes(keyring, who).id_number_index!.equals(before)).toBe(true);
    expect(idNumberIndexInput('cn_id', '11010519491231002x')).toBe(RESIDENT);
  });

  it('other types: the type in front, so equal characters of two documents never match', () => {
    expect(idNumberIndexInput('passport', 'e12345678')).toBe('passport:E12345678');
    expect(idNumberIndexInput('hk_mo_permit', 'H12345678(01)')).toBe('hk_mo_permit:H12345678');
    expect(idNumberIndexInput('tw_permit', '0561682001(D)')).toBe('tw_permit:05616820');
    expect(idNumberIndexInput('foreign_pr', 'usa110080010101')).toBe('foreign_pr:USA110080010101');
    const indexes = (['cn_id', 'passport', 'hk_mo_permit', 'tw_permit', 'foreign_pr'] as const).map(
      (idType) =>
        identityIndexes(keyring, { phone, idType, idNumber: '12345678' }).id_number_index!.toString('hex'),
    );
    expect(new Set(indexes).size).toBe(indexes.length);
  });

  it('every spelling of one permit number has one index', () => {
    const a = identityIndexes(keyring, { phone, idType: 'hk_mo_permit', idNumber: 'H12345678' });
    const b = identityIndexes(keyring, { phone, idType: 'hk_mo_permit', idNumber: 'h12345678 (02)' });
    expect(a.id_number_index!.equals(b.id_number_index!)).toBe(true);
  });

  it('no ID number: no index; the phone index does not depend on the ID', () => {
    const a = identityIndexes(keyring, { phone });
    const b = identityIndexes(keyring, { name: '', phone, idType: 'passport', idNumber: 'E12345678' });
    expect(a.id_number_index).toBeNull();
    expect(a.phone_index.equals(b.phone_index)).toBe(true);
  });
});

describe('sealIdentity / openIdentity', () => {
  function sealed(who: Parameters<typeof sealIdentity>[3]) {
    const id = randomUUID();
    const key = newPassengerKey(keyring, id);
    return { id, ...key.columns, ...sealIdentity(keyring, key.dek, id, who) };
  }

  it('stores the type with the number (cn_id when omitted) and opens both', () => {
    const row = sealed({ name: '张三丰', phone, idNumber: '11010519491231002x' });
    expect(row.id_type).toBe('cn_id');
    expect(openIdentity(keyring, row)).toEqual({
      name: '张三丰',
      phone,
      idType: 'cn_id',
      idNumber: RESIDENT,
    });

    const p = sealed({ name: 'Anna Schmidt', phone, idType: 'passport', idNumber: 'c01x-00t47' });
    expect(p.id_type).toBe('passport');
    expect(openIdentity(keyring, p)).toMatchObject({ idType: 'passport', idNumber: 'C01X00T47' });
    expect(p.id_number_index!.equals(keyring.blindIndex('id-number', 'passport:C01X00T47'))).toBe(true);
  });

  it('seals the permit number normalised (the lifelong number)', () => {
    const row = sealed({ name: '陈大文', phone, idType: 'hk_mo_permit', idNumber: 'H12345678(01)' });
    expect(openIdentity(keyring, row)).toMatchObject({ idType: 'hk_mo_permit', idNumber: 'H12345678' });
  });

  it('no ID number: no type either', () => {
    const row = sealed({ name: '张三丰', phone, idType: 'passport' });
    expect(row).toMatchObject({ id_number_sealed: null, id_number_index: null, id_type: null });
    expect(openIdentity(keyring, row)).toEqual({
      name: '张三丰',
      phone,
      idType: undefined,
      idNumber: undefined,
    });
  });

  it('a row sealed before document types (id_type null) opens as cn_id; a row read without the column: unknown', () => {
    const { id_type: _, ...withoutColumn } = sealed({ name: '张三丰', phone, idNumber: RESIDENT });
    expect(openIdentity(keyring, { ...withoutColumn, id_type: null })).toMatchObject({ idType: 'cn_id' });
    expect(openIdentity(keyring, withoutColumn)?.idType).toBeUndefined();
  });

  it('idNumber: false opens neither the number nor its type', () => {
    const row = sealed({ name: '张三丰', phone, idType: 'passport', idNumber: 'E12345678' });
    expect(openIdentity(keyring, row, { idNumber: false })).toEqual({
      name: '张三丰',
      phone,
      idType: undefined,
      idNumber: undefined,
    });
  });

  it('refuses (400) to store a number that is not valid for its type', () => {
    for (const who of [
      { idNumber: '11010119991399123X' },
      { idType: 'passport' as const, idNumber: RESIDENT },
      { idType: 'tw_permit' as const, idNumber: 'H12345678' },
    ])
      expect(() => sealed({ name: '张三丰', phone, ...who }), who.idNumber).toThrow(AppError);
  });
});

describe('assertValidIdDocument', () => {
  it('passes without an ID number, or with one valid for its type', () => {
    expect(() => assertValidIdDocument({})).not.toThrow();
    expect(() => assertValidIdDocument({ idType: 'passport' })).not.toThrow();
    expect(() => assertValidIdDocument({ idNumber: RESIDENT })).not.toThrow();
    expect(() => assertValidIdDocument({ idType: 'tw_permit', idNumber: '05616820' })).not.toThrow();
  });

  it('400 validation_failed naming the type otherwise', () => {
    const failure = (doc: Parameters<typeof assertValidIdDocument>[0]) => {
      try {
        assertValidIdDocument(doc);
      } catch (err) {
        return err as AppError;
      }
      throw new Error('no error');
    };
    const resident = failure({ idNumber: '110105194912310021' });
    expect(resident).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(resident.message).toMatch(/resident identity card.*cn_id/);
    expect(failure({ idType: 'passport', idNumber: 'ZHANGSAN' }).message).toMatch(
      /passport.*\(idType passport\)/,
    );
    expect(failure({ idType: 'hk_mo_permit', idNumber: 'K12345678' }).message).toMatch(/Hong Kong and Macao/);
    expect(failure({ idType: 'nope' as 'cn_id', idNumber: RESIDENT }).message).toMatch(/not a document type/);
  });
});
