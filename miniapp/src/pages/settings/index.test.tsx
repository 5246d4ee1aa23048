import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { consent, errorBody, fakeApi, phoneNumberEvent, profile, ride, taro } from '../../../test/harness';
import SettingsPage from './index';

describe('settings page', () => {
  it('is Chinese by default and switches to English (and back), remembering the choice', async () => {
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<SettingsPage />);
    expect(await screen.findByText(/为配合传染病疫情防控/)).toBeTruthy();
    expect(screen.getByRole('button', { name: '中文' }).getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(screen.getByText('Settings')).toBeTruthy();
    expect(screen.getByText('To support infectious-disease control.')).toBeTruthy();
    expect(screen.getByText('Version 2026-11')).toBeTruthy();
    expect(taro.storage.get('rt.lang')).toBe('en');
    expect(taro.setNavigationBarTitle).toHaveBeenLastCalledWith({ title: 'Settings' });
    fireEvent.click(screen.getByRole('button', { name: '中文' }));
    expect(screen.getByText('设置')).toBeTruthy();
  });

  it('delete my data: asks first, then says "not available yet" while the server has no such route', async () => {
    const seen = fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<SettingsPage />);
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    expect(seen.some((r) => r.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: '确认删除' }));
    expect((await screen.findByRole('alert')).textContent).toContain('暂不可用：服务器尚未开放删除数据功能');
    expect(seen.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/v1/passengers/me']);
  });

  it('delete my data: clears what the phone keeps once the server deleted it', async () => {
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    taro.storage.set('rt.lastRide', ride());
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'DELETE /v1/passengers/me': { status: 204 },
    });
    render(<SettingsPage />);
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    fireEvent.click(screen.getByRole('button', { name: '确认删除' }));
    expect(await screen.findByText('您的数据已删除。')).toBeTruthy();
    expect(taro.storage.has('rt.identity')).toBe(false);
    expect(taro.storage.has('rt.lastRide')).toBe(false);
    expect(taro.storage.has('rt.passengerToken')).toBe(false);
  });

  it('delete my data: other errors are shown and the button comes back; cancel works', async () => {
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent }, 'DELETE /v1/passengers/me': 'network' });
    render(<SettingsPage />);
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    fireEvent.click(screen.getByRole('button', { name: '取消' }));
    expect(screen.queryByRole('button', { name: '确认删除' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    fireEvent.click(screen.getByRole('button', { name: '确认删除' }));
    expect((await screen.findByRole('alert')).textContent).toContain('网络不可用');
    await waitFor(() => expect(screen.getByRole('button', { name: '删除我的数据' })).toBeTruthy());
  });

  it('shows a consent loading error with retry', async () => {
    fakeApi({ 'GET /v1/consent': { status: 500, body: errorBody('internal_error') } });
    render(<SettingsPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('服务器出错了');
  });

  it('shows the phone and whether it is verified', async () => {
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'GET /v1/passengers/me': {
        status: 200,
        body: profile({ phone: '138****5678', phoneVerified: true, phoneSource: 'superapp' }),
      },
    });
    render(<SettingsPage />);
    const state = (await screen.findByText('138****5678')).closest('#settings-phone-state')!;
    expect(state.textContent).toBe('138****5678已验证微信绑定');
  });

  it('验证手机号: an SMS code verifies the phone, and the remembered identity takes the number', async () => {
    process.env.TARO_ENV = 'h5';
    taro.storage.set('rt.loginCode', 'ok:tester');
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'GET /v1/passengers/me': {
        status: 200,
        body: profile({ confirmed: true, phone: '138****5678', phoneSource: 'self' }),
      },
      'POST /v1/passengers/me/phone/otp': {
        status: 200,
        body: { phone: '139****0000', expiresIn: 600, resendIn: 60 },
      },
      'POST /v1/passengers/me/phone/verify': {
        status: 200,
        body: profile({ confirmed: true, phone: '139****0000', phoneVerified: true, phoneSource: 'otp' }),
      },
    });
    render(<SettingsPage />);
    expect((await screen.findByText('未验证')).closest('#settings-phone-state')!.textContent).toContain(
      '138****5678',
    );
    fireEvent.click(screen.getByRole('button', { name: '验证手机号' }));
    const input = screen.getByLabelText('手机号') as HTMLInputElement;
    expect(input.value).toBe('13812345678');
    fireEvent.change(input, { target: { value: '13900000000' } });
    fireEvent.click(screen.getByRole('button', { name: '获取验证码' }));
    fireEvent.change(await screen.findByLabelText('短信验证码'), { target: { value: '654321' } });
    fireEvent.click(screen.getByRole('button', { name: '验证' }));
    expect(await screen.findByText('手机号已验证。')).toBeTruthy();
    expect(screen.getByText('139****0000').closest('#settings-phone-state')!.textContent).toContain('已验证');
    expect(seen.find((r) => r.path === '/v1/passengers/me/phone/verify')!.data).toEqual({
      phone: '13900000000',
      code: '654321',
    });
    expect(taro.storage.get('rt.identity')).toEqual({ name: '张三丰', phone: '13900000000' });
    expect(taro.storage.get('rt.profile')).toMatchObject({ phone: '139****0000', phoneVerified: true });
  });

  it('验证手机号 in weapp: the phone-number button', async () => {
    phoneNumberEvent.detail = { code: 'phone-code-2' };
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'POST /v1/passengers/me/phone': {
        status: 200,
        body: profile({ phone: '138****5678', phoneVerified: true, phoneSource: 'superapp' }),
      },
    });
    render(<SettingsPage />);
    expect(await screen.findByText('尚未登记手机号')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '验证手机号' }));
    fireEvent.click(screen.getByRole('button', { name: '使用微信绑定的手机号' }));
    expect(await screen.findByText('手机号已验证。')).toBeTruthy();
    expect(screen.getByText('138****5678')).toBeTruthy();
    expect(seen.find((r) => r.path === '/v1/passengers/me/phone')!.data).toEqual({ code: 'phone-code-2' });
  });
});
