import { maskPhone as sharedMaskPhone } from '@ridetrace/shared';
import { describe, expect, it } from 'vitest';
import { fakeApi, passengerToken, profile, taro } from '../../test/harness';
import { loginPassenger } from './api';
import { maskPhone, phoneMatch, verifiedPhoneOf } from './phone';

describe('services/phone', () => {
  it('masks phones as the server does', () => {
    for (const phone of ['13812345678', '+86 138 1234 5678', '138-1234-5678', '1234567', '123'])
      expect(maskPhone(phone)).toBe(sharedMaskPhone(phone));
  });

  it('a verified phone comes only from a profile that says so', () => {
    expect(verifiedPhoneOf(null)).toBeNull();
    expect(verifiedPhoneOf(profile({ phone: '138****5678', phoneSource: 'self' }))).toBeNull();
    expect(
      verifiedPhoneOf(
        profile({ phone: '138****5678', phoneVerified: true, phoneSource: 'otp' }),
        '13812345678',
      ),
    ).toEqual({ masked: '138****5678', source: 'otp', full: '13812345678' });
  });

  it('matches a typed phone: in full after an SMS code, by its masked form after the super-app button', () => {
    const sms = { masked: '138****5678', source: 'otp' as const, full: '13812345678' };
    const superApp = { masked: '138****5678', source: 'superapp' as const };
    expect(phoneMatch('13812345678', null)).toBe('unverified');
    expect(phoneMatch('138 1234 5678', sms)).toBe('verified');
    expect(phoneMatch('13800005678', sms)).toBe('differs');
    expect(phoneMatch('1381234', sms)).toBe('empty');
    expect(phoneMatch('', superApp)).toBe('empty');
    expect(phoneMatch('13800005678', superApp)).toBe('likely');
    expect(phoneMatch('13912345678', superApp)).toBe('differs');
  });

  it("forgets the kept profile when another passenger logs in on this device (h5's login bridge)", async () => {
    taro.storage.set('rt.profile', profile({ id: 'p-other', phone: '138****5678' }));
    fakeApi({});
    await loginPassenger();
    expect(taro.storage.has('rt.profile')).toBe(false);
    taro.storage.set('rt.profile', profile({ id: 'p-1', phone: '138****5678' }));
    fakeApi({ 'POST /v1/auth/passenger': { status: 200, body: passengerToken('token-2') } });
    await loginPassenger();
    expect(taro.storage.get('rt.profile')).toMatchObject({ id: 'p-1' });
  });
});
