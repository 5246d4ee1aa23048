import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { consent, errorBody, fakeApi, preview, ride, taro } from '../../../test/harness';
import ConfirmPage from './index';

const confirmed = (withRide = true) => ({
  status: 200,
  body: {
    accessToken: 'confirmed-token',
    expiresIn: 7200,
    passenger: { id: 'p-1', confirmed: true },
    ride: withRide ? ride() : null,
  },
});

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('confirm page', () => {
  it('shows the preview, the consent text and its version, and confirms with one button', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'POST /v1/passengers/me/confirm': confirmed(),
    });
    render(<ConfirmPage />);
    expect(screen.getByText('公交 粤B12345')).toBeTruthy();
    expect(screen.getByText('36路')).toBeTruthy();
    expect(screen.getByText('深圳')).toBeTruthy();
    expect(await screen.findByText(/为配合传染病疫情防控/)).toBeTruthy();
    expect(screen.getByText('版本 2026-11')).toBeTruthy();
    type('姓名', ' 张三丰 ');
    type('手机号', '138 1234 5678');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
    const body = seen.find((r) => r.path === '/v1/passengers/me/confirm')!.data;
    expect(body).toEqual({ name: '张三丰', phone: '13812345678', consentVersion: '2026-11' });
    expect(taro.storage.get('rt.passengerToken')).toMatchObject({ token: 'confirmed-token' });
    expect(taro.storage.get('rt.pendingPreview')).toBeUndefined();
    expect(taro.storage.get('rt.lastRide')).toMatchObject({ carrier: { plate: '粤B12345' } });
    expect(taro.storage.get('rt.identity')).toEqual({ name: '张三丰', phone: '13812345678' });
  });

  it('checks the inputs before sending', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    const seen = fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<ConfirmPage />);
    await screen.findByText('版本 2026-11');
    type('姓名', 'R2D2');
    type('手机号', '12345');
    type('身份证号（选填）', '110101199003070001');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    expect(screen.getByText('请输入真实姓名')).toBeTruthy();
    expect(screen.getByText('请输入正确的 11 位手机号')).toBeTruthy();
    expect(screen.getByText('身份证号格式不正确')).toBeTruthy();
    expect(seen.some((r) => r.path === '/v1/passengers/me/confirm')).toBe(false);
  });

  it('sends a valid optional ID number', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'POST /v1/passengers/me/confirm': confirmed(),
    });
    render(<ConfirmPage />);
    await screen.findByText('版本 2026-11');
    type('姓名', '张三丰');
    type('手机号', '13812345678');
    type('身份证号（选填）', '11010119900307002x');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalled());
    expect(seen.find((r) => r.path === '/v1/passengers/me/confirm')!.data).toMatchObject({
      idNumber: '11010119900307002X',
    });
  });

  it('a known passenger (renewed consent) sees the masked identity and needs no typing', async () => {
    taro.storage.set('rt.pendingPreview', preview({ name: '张*丰', phone: '138****5678' }));
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'POST /v1/passengers/me/confirm': confirmed(),
    });
    render(<ConfirmPage />);
    expect(screen.getByText('张*丰 138****5678')).toBeTruthy();
    expect(screen.queryByLabelText('姓名')).toBeNull();
    await screen.findByText('版本 2026-11');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalled());
    expect(seen.find((r) => r.path === '/v1/passengers/me/confirm')!.data).toMatchObject({ name: '张三丰' });
  });

  it('says so when the held scan could not be registered', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'POST /v1/passengers/me/confirm': confirmed(false),
    });
    render(<ConfirmPage />);
    await screen.findByText('版本 2026-11');
    type('姓名', '张三丰');
    type('手机号', '13812345678');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    expect(await screen.findByText(/身份已确认。这次扫码已失效/)).toBeTruthy();
    expect(taro.redirectTo).not.toHaveBeenCalled();
  });

  it('shows server errors and reloads an outdated consent text', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    let consentLoads = 0;
    fakeApi({
      'GET /v1/consent': () => ({ status: 200, body: { ...consent, version: `v${++consentLoads}` } }),
      'POST /v1/passengers/me/confirm': { status: 409, body: errorBody('consent_version_outdated') },
    });
    render(<ConfirmPage />);
    await screen.findByText('版本 v1');
    type('姓名', '张三丰');
    type('手机号', '13812345678');
    fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
    expect((await screen.findByRole('alert')).textContent).toContain('告知内容已更新');
    expect(await screen.findByText('版本 v2')).toBeTruthy();
  });

  it('cannot confirm while the consent text is missing, and offers a retry', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    let fail = true;
    fakeApi({ 'GET /v1/consent': () => (fail ? 'network' : { status: 200, body: consent }) });
    render(<ConfirmPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('网络不可用');
    expect((screen.getByRole('button', { name: '同意并登记' }) as HTMLButtonElement).disabled).toBe(true);
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: '重试' }));
    expect(await screen.findByText('版本 2026-11')).toBeTruthy();
    expect((screen.getByRole('button', { name: '同意并登记' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('offers the phone-number button on weapp and falls back to typing', async () => {
    taro.storage.set('rt.pendingPreview', preview());
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<ConfirmPage />);
    fireEvent.click(screen.getByRole('button', { name: '使用本机号码' }));
    expect(screen.getByText('未能获取手机号，请手动输入')).toBeTruthy();
  });

  it('has no phone-number button on h5', () => {
    process.env.TARO_ENV = 'h5';
    taro.storage.set('rt.pendingPreview', preview());
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<ConfirmPage />);
    expect(screen.queryByRole('button', { name: '使用本机号码' })).toBeNull();
  });

  it('without a pending scan, sends the passenger back to scan', () => {
    fakeApi({});
    render(<ConfirmPage />);
    expect(screen.getByText('没有待确认的乘车记录，请重新扫码。')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '返回首页' }));
    expect(taro.reLaunch).toHaveBeenCalledWith({ url: '/pages/scan/index' });
  });
});
