import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { consent, fakeApi, preview, ride, taro } from '../../test/harness';
import ConfirmPage from '../pages/confirm/index';
import { setLang } from '../services/i18n-core';
import {
  EMPTY_IDENTITY,
  identityBody,
  identityErrors,
  type IdentityErrors,
  type IdentityInput,
} from '../services/identity';
import { IdentityFields } from './IdentityFields';

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

/** The fields with their state, checked as a page checks them on submit. */
function Form() {
  const [identity, setIdentity] = useState<IdentityInput>(EMPTY_IDENTITY);
  const [errors, setErrors] = useState<IdentityErrors>({});
  return (
    <>
      <IdentityFields
        idPrefix="t"
        value={identity}
        onChange={(field, value) => setIdentity((i) => ({ ...i, [field]: value }))}
        errors={errors}
        placeholders
      />
      <button type="button" onClick={() => setErrors(identityErrors(identity))}>
        check
      </button>
      <output>{JSON.stringify(identityBody(identity))}</output>
    </>
  );
}

const body = () => JSON.parse(screen.getByRole('status').textContent ?? '{}') as Record<string, string>;

describe('ID document type', () => {
  it('starts as a resident ID card; the picker lists the other four and closes on a choice', () => {
    render(<Form />);
    expect(screen.getByLabelText('身份证号（选填）')).toBeTruthy();
    const toggle = screen.getByRole('button', { name: '更换证件类型: 居民身份证' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    for (const name of ['护照', '港澳居民来往内地通行证', '台湾居民来往大陆通行证', '外国人永久居留身份证'])
      expect(screen.getByRole('button', { name })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '护照' }));
    expect(screen.queryByRole('button', { name: '港澳居民来往内地通行证' })).toBeNull();
    expect(screen.getByRole('button', { name: '更换证件类型: 护照' })).toBeTruthy();
    const field = screen.getByLabelText('证件号码（选填）');
    expect(field.getAttribute('placeholder')).toBe('护照号码，如 E12345678');
    expect(field.getAttribute('type')).toBe('text');
  });

  it('checks the number by its type and names the type in the error', () => {
    render(<Form />);
    type('姓名', '张三丰');
    type('手机号', '13812345678');
    fireEvent.click(screen.getByRole('button', { name: '更换证件类型: 居民身份证' }));
    fireEvent.click(screen.getByRole('button', { name: '港澳居民来往内地通行证' }));
    type('证件号码（选填）', 'K12345678');
    fireEvent.click(screen.getByRole('button', { name: 'check' }));
    expect(screen.getByText('港澳居民来往内地通行证号码格式不正确')).toBeTruthy();
    type('证件号码（选填）', 'h12345678(01)');
    fireEvent.click(screen.getByRole('button', { name: 'check' }));
    expect(screen.queryByText('港澳居民来往内地通行证号码格式不正确')).toBeNull();
    expect(body()).toEqual({
      name: '张三丰',
      phone: '13812345678',
      idType: 'hk_mo_permit',
      idNumber: 'H12345678',
    });
  });

  it('in English too', () => {
    setLang('en');
    render(<Form />);
    fireEvent.click(
      screen.getByRole('button', { name: 'Change the ID document: Resident identity card (mainland China)' }),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Mainland Travel Permit for Taiwan Residents' }));
    type('Document number (optional)', '1234567');
    fireEvent.click(screen.getByRole('button', { name: 'check' }));
    expect(screen.getByText('The Taiwan travel permit number is not valid')).toBeTruthy();
  });

  it('the confirm page sends the type with the number', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'POST /v1/passengers/me/confirm': {
        status: 200,
        body: { accessToken: 't', expiresIn: 7200, passenger: { id: 'p-1', confirmed: true }, ride: ride() },
      },
    });
    render(<ConfirmPage />);
    await screen.findByText('版本 2026-11');
    type('姓名', 'Anna Schmidt');
    type('手机号', '13812345678');
    fireEvent.click(screen.getByRole('button', { name: '更换证件类型: 居民身份证' }));
    fireEvent.click(screen.getByRole('button', { name: '外国人永久居留身份证' }));
    type('证件号码（选填）', 'deu 440090 010152');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalled());
    expect(seen.find((r) => r.path === '/v1/passengers/me/confirm')!.data).toEqual({
      name: 'Anna Schmidt',
      phone: '13812345678',
      idType: 'foreign_pr',
      idNumber: 'DEU440090010152',
      consentVersion: '2026-11',
    });
  });
});

describe('identityErrors / identityBody by type', () => {
  const who = { name: '张三丰', phone: '13812345678' };

  it('a resident ID card: no idType in the body (the API default), a birth date that cannot be is refused', () => {
    expect(identityBody({ ...who, idType: 'cn_id', idNumber: '11010519491231002x' })).toEqual({
      ...who,
      idNumber: '11010519491231002X',
    });
    // 1999-13-99 with a correct check character.
    expect(identityErrors({ ...who, idNumber: '110101199913991231' })).toEqual({
      idNumber: 'confirm.invalidId',
    });
  });

  it('each other type: its own error key, its normalised number and its type in the body', () => {
    const cases: [IdentityInput['idType'], string, string, string][] = [
      ['passport', 'e1234 5678', 'E12345678', 'ZHANGSAN'],
      ['hk_mo_permit', 'M87654321 02', 'M87654321', 'K87654321'],
      ['tw_permit', '0561682001(D)', '05616820', '123456789'],
      ['foreign_pr', 'usa110080010101', 'USA110080010101', 'USA11008001010'],
    ];
    for (const [idType, typed, sent, wrong] of cases) {
      expect(identityErrors({ ...who, idType, idNumber: typed }), typed).toEqual({});
      expect(identityBody({ ...who, idType, idNumber: typed })).toEqual({ ...who, idType, idNumber: sent });
      expect(identityErrors({ ...who, idType, idNumber: wrong }), wrong).toEqual({
        idNumber: `confirm.invalidId.${idType}`,
      });
    }
  });

  it('no number: neither number nor type is sent', () => {
    expect(identityBody({ ...who, idType: 'passport', idNumber: '  ' })).toEqual(who);
    expect(identityErrors({ ...who, idType: 'passport', idNumber: '' })).toEqual({});
  });
});
