import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import {
  consent,
  errorBody,
  fakeApi,
  phoneNumberEvent,
  preview,
  profile,
  ride,
  taro,
  type FakeRequest,
} from '../../../test/harness';
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

  it('without a pending scan, sends the passenger back to scan', () => {
    fakeApi({});
    render(<ConfirmPage />);
    expect(screen.getByText('没有待确认的乘车记录，请重新扫码。')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '返回首页' }));
    expect(taro.reLaunch).toHaveBeenCalledWith({ url: '/pages/scan/index' });
  });
});

const verifiedProfile = (source: 'superapp' | 'otp', phone = '138****5678') =>
  profile({ phone, phoneVerified: true, phoneSource: source });
const codeSent = { status: 200, body: { phone: '138****5678', expiresIn: 600, resendIn: 60 } };
const button = (name: string | RegExp) => screen.getByRole('button', { name }) as HTMLButtonElement;
const confirmBody = (seen: FakeRequest[]) => seen.find((r) => r.path === '/v1/passengers/me/confirm')!.data;
const calls = (seen: FakeRequest[], path: string) => seen.filter((r) => r.path === path);

/** A first-time passenger on the confirm page, consent loaded. */
async function openConfirm(routes: Parameters<typeof fakeApi>[0] = {}, version = '版本 2026-11') {
  taro.storage.set('rt.pendingPreview', preview());
  // h5 logs in through the login-code bridge (services/login.ts).
  taro.storage.set('rt.loginCode', 'ok:tester');
  const seen = fakeApi({
    'GET /v1/consent': { status: 200, body: consent },
    'POST /v1/passengers/me/confirm': confirmed(),
    ...routes,
  });
  render(<ConfirmPage />);
  await screen.findByText(version);
  return seen;
}

describe('confirm page: verifying the phone', () => {
  it('weapp: one tap on the phone-number button sends its code; the verified phone is shown masked', async () => {
    phoneNumberEvent.detail = { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' };
    const seen = await openConfirm({
      'POST /v1/passengers/me/phone': { status: 200, body: verifiedProfile('superapp') },
    });
    expect(screen.getByText(/未验证的手机号只是您自己填写的联系方式/)).toBeTruthy();
    fireEvent.click(button('使用微信绑定的手机号'));
    const state = await screen.findByText('138****5678');
    expect(state.closest('#confirm-phone-verified')!.textContent).toContain('已验证');
    expect(calls(seen, '/v1/passengers/me/phone').map((r) => r.data)).toEqual([{ code: 'phone-code-1' }]);
    // The app never learns the number and need not: left empty, the server keeps the verified one.
    expect(screen.getByText(/已验证，无需填写/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: '使用微信绑定的手机号' })).toBeNull();
    // A typed number is compared by its masked form (the server decides).
    type('手机号', '13912345678');
    expect(screen.getByText(/与已验证的号码 138\*\*\*\*5678 不一致/)).toBeTruthy();
    expect(screen.getByRole('button', { name: '获取验证码' })).toBeTruthy();
    type('手机号', '13812345678');
    expect(screen.getByText(/与已验证的微信绑定号码 138\*\*\*\*5678 相符/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: '获取验证码' })).toBeNull();
    type('姓名', '张三丰');
    fireEvent.click(button('同意并登记'));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
    expect(confirmBody(seen)).toEqual({ name: '张三丰', phone: '13812345678', consentVersion: '2026-11' });
  });

  it('weapp: after the phone-number button the passenger types only the name; the phone is left to the server', async () => {
    phoneNumberEvent.detail = { code: 'phone-code-2', errMsg: 'getPhoneNumber:ok' };
    const seen = await openConfirm({
      'POST /v1/passengers/me/phone': { status: 200, body: verifiedProfile('superapp') },
    });
    fireEvent.click(button('使用微信绑定的手机号'));
    await screen.findByText('138****5678');
    type('姓名', '张三丰');
    fireEvent.click(button('同意并登记'));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
    expect(confirmBody(seen)).toEqual({ name: '张三丰', consentVersion: '2026-11' });
    expect(taro.storage.get('rt.identity')).toEqual({ name: '张三丰', phone: '' });
  });

  it('without a verified phone an empty phone is refused before sending', async () => {
    const seen = await openConfirm();
    type('姓名', '张三丰');
    fireEvent.click(button('同意并登记'));
    expect(await screen.findByText('请输入正确的 11 位手机号')).toBeTruthy();
    expect(calls(seen, '/v1/passengers/me/confirm')).toHaveLength(0);
  });

  it('weapp: a declined phone-number button falls back to the SMS code', async () => {
    phoneNumberEvent.detail = { errMsg: 'getPhoneNumber:fail user deny' };
    const seen = await openConfirm();
    expect(screen.queryByRole('button', { name: '获取验证码' })).toBeNull();
    fireEvent.click(button('使用微信绑定的手机号'));
    expect(screen.getByText('未获取到微信绑定的手机号，可以改用短信验证码验证。')).toBeTruthy();
    expect(button('获取验证码').disabled).toBe(true);
    type('手机号', '13812345678');
    expect(button('获取验证码').disabled).toBe(false);
    expect(calls(seen, '/v1/passengers/me/phone')).toHaveLength(0);
  });

  it('weapp: a refused phone code shows its message and offers the SMS code', async () => {
    phoneNumberEvent.detail = { code: 'stale' };
    await openConfirm({
      'POST /v1/passengers/me/phone': { status: 400, body: errorBody('phone_code_invalid') },
    });
    fireEvent.click(button('使用微信绑定的手机号'));
    expect((await screen.findByRole('alert')).textContent).toContain(
      '获取手机号失败，请重试或改用短信验证码',
    );
    expect(screen.getByRole('button', { name: '获取验证码' })).toBeTruthy();
  });

  it('weapp: the SMS code is there for another number without declining first', async () => {
    await openConfirm();
    fireEvent.click(button('改用短信验证码'));
    expect(screen.getByRole('button', { name: '获取验证码' })).toBeTruthy();
  });

  it('h5: no phone-number button; SMS code with a resend countdown, then verified and confirmed', async () => {
    process.env.TARO_ENV = 'h5';
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const seen = await openConfirm({
      'POST /v1/passengers/me/phone/otp': codeSent,
      'POST /v1/passengers/me/phone/verify': { status: 200, body: verifiedProfile('otp') },
    });
    expect(screen.queryByRole('button', { name: '使用微信绑定的手机号' })).toBeNull();
    expect(screen.queryByRole('button', { name: '改用短信验证码' })).toBeNull();
    type('姓名', '张三丰');
    type('手机号', '138 1234 5678');
    fireEvent.click(button('获取验证码'));
    expect(await screen.findByText('验证码已发送至 138****5678，10 分钟内有效')).toBeTruthy();
    expect(calls(seen, '/v1/passengers/me/phone/otp').map((r) => r.data)).toEqual([{ phone: '13812345678' }]);
    expect(button('60 秒后重新获取').disabled).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(button('59 秒后重新获取').disabled).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(59_000));
    expect(button('重新获取').disabled).toBe(false);

    expect(button('验证').disabled).toBe(true);
    type('短信验证码', '12345');
    expect(button('验证').disabled).toBe(true);
    type('短信验证码', '123456');
    fireEvent.click(button('验证'));
    expect(await screen.findByText('已验证：此号码会收到接触提醒短信。')).toBeTruthy();
    expect(screen.getByText('138****5678').closest('#confirm-phone-verified')!.textContent).toContain(
      '已验证',
    );
    expect(calls(seen, '/v1/passengers/me/phone/verify').map((r) => r.data)).toEqual([
      { phone: '13812345678', code: '123456' },
    ]);
    expect(screen.queryByRole('button', { name: /获取/ })).toBeNull();
    expect(taro.storage.get('rt.profile')).toMatchObject({ phoneVerified: true, phoneSource: 'otp' });

    fireEvent.click(button('同意并登记'));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalled());
    // The number as it was verified (normalised), so the server keeps it verified.
    expect(confirmBody(seen)).toEqual({ name: '张三丰', phone: '13812345678', consentVersion: '2026-11' });
  });

  it('a wrong code shows otp_invalid and leaves the phone unverified', async () => {
    process.env.TARO_ENV = 'h5';
    await openConfirm({
      'POST /v1/passengers/me/phone/otp': codeSent,
      'POST /v1/passengers/me/phone/verify': { status: 400, body: errorBody('otp_invalid') },
    });
    type('手机号', '13812345678');
    fireEvent.click(button('获取验证码'));
    await screen.findByLabelText('短信验证码');
    type('短信验证码', '000000');
    fireEvent.click(button('验证'));
    expect((await screen.findByRole('alert')).textContent).toBe('验证码错误。');
    expect(screen.getByText(/未验证的手机号只是您自己填写的联系方式/)).toBeTruthy();
    expect((screen.getByLabelText('短信验证码') as HTMLInputElement).value).toBe('');
  });

  it('too many codes: the otp_rate_limited message, and a countdown when Retry-After can be read', async () => {
    process.env.TARO_ENV = 'h5';
    await openConfirm({
      'POST /v1/passengers/me/phone/otp': {
        status: 429,
        body: errorBody('otp_rate_limited'),
        headers: { 'Retry-After': '42' },
      },
    });
    type('手机号', '13812345678');
    fireEvent.click(button('获取验证码'));
    expect((await screen.findByRole('alert')).textContent).toBe('获取验证码过于频繁，请稍后再试。');
    expect(button('42 秒后重新获取').disabled).toBe(true);
    expect(screen.queryByLabelText('短信验证码')).toBeNull();
  });

  it('an unavailable SMS service says so', async () => {
    process.env.TARO_ENV = 'h5';
    await openConfirm({
      'POST /v1/passengers/me/phone/otp': { status: 503, body: errorBody('sms_unavailable') },
    });
    type('手机号', '13812345678');
    fireEvent.click(button('获取验证码'));
    expect((await screen.findByRole('alert')).textContent).toContain('短信服务暂时无响应');
    expect(button('获取验证码').disabled).toBe(false);
  });

  it('skipping verification: the typed phone is sent as is, with a note that it gets no SMS', async () => {
    const seen = await openConfirm();
    type('姓名', '张三丰');
    type('手机号', '13812345678');
    expect(screen.getByText(/不会收到接触提醒短信。可以先验证，也可以直接提交/)).toBeTruthy();
    fireEvent.click(button('同意并登记'));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalled());
    expect(confirmBody(seen)).toEqual({ name: '张三丰', phone: '13812345678', consentVersion: '2026-11' });
    expect(seen.filter((r) => r.path.startsWith('/v1/passengers/me/phone'))).toHaveLength(0);
  });

  it('a known passenger sees whether the phone on file is verified', async () => {
    taro.storage.set('rt.pendingPreview', preview({ name: '张*丰', phone: '138****5678' }));
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'GET /v1/passengers/me': {
        status: 200,
        body: verifiedProfile('superapp'),
      },
    });
    render(<ConfirmPage />);
    const known = await screen.findByText('已验证');
    expect(known.closest('#confirm-known-phone')!.textContent).toContain('138****5678');
    expect(screen.queryByRole('button', { name: '验证手机号' })).toBeNull();
  });

  it('a known passenger with an unverified phone is offered to verify it', async () => {
    taro.storage.set('rt.pendingPreview', preview({ name: '张*丰', phone: '138****5678' }));
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'GET /v1/passengers/me': { status: 200, body: profile({ phone: '138****5678', phoneSource: 'self' }) },
    });
    render(<ConfirmPage />);
    expect(await screen.findByText('未验证')).toBeTruthy();
    fireEvent.click(button('验证手机号'));
    expect((screen.getByLabelText('手机号') as HTMLInputElement).value).toBe('13812345678');
    expect(screen.getByRole('button', { name: '使用微信绑定的手机号' })).toBeTruthy();
  });

  it('in English too', async () => {
    taro.storage.set('rt.lang', 'en');
    await openConfirm({}, 'Version 2026-11');
    expect(screen.getByRole('button', { name: 'Use my WeChat phone number' })).toBeTruthy();
    expect(screen.getByText(/An unverified number is only your own claim/)).toBeTruthy();
    fireEvent.click(button('Use an SMS code instead'));
    expect(button('Send code').disabled).toBe(true);
  });
  describe('exposure-message subscription', () => {
    const confirmOnce = async (routes: Parameters<typeof fakeApi>[0] = {}) => {
      taro.storage.set('rt.pendingPreview', preview());
      const seen = fakeApi({
        'GET /v1/consent': { status: 200, body: consent },
        'POST /v1/passengers/me/confirm': confirmed(),
        'POST /v1/passengers/me/subscriptions': { status: 200, body: { messageGrants: 1 } },
        ...routes,
      });
      render(<ConfirmPage />);
      await screen.findByText('版本 2026-11');
      type('姓名', '张三丰');
      type('手机号', '13812345678');
      fireEvent.click(screen.getByRole('button', { name: '同意并登记' }));
      return seen;
    };

    it('weapp: asks for both notice templates in the confirm tap and posts the answers once confirmed', async () => {
      taro.requestSubscribeMessage.mockResolvedValue({
        errMsg: 'requestSubscribeMessage:ok',
        ridetrace_exposure: 'accept',
        ridetrace_secondary_exposure: 'reject',
      });
      const seen = await confirmOnce();
      // Within the tap itself, before the confirmation's reply.
      expect(taro.requestSubscribeMessage).toHaveBeenCalledWith({
        tmplIds: ['ridetrace_exposure', 'ridetrace_secondary_exposure'],
      });
      await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
      await waitFor(() =>
        expect(seen.filter((r) => r.path === '/v1/passengers/me/subscriptions').map((r) => r.data)).toEqual([
          { templateId: 'ridetrace_exposure', result: 'accept' },
          { templateId: 'ridetrace_secondary_exposure', result: 'reject' },
        ]),
      );
      const paths = seen.map((r) => r.path);
      expect(paths.indexOf('/v1/passengers/me/subscriptions')).toBeGreaterThan(
        paths.indexOf('/v1/passengers/me/confirm'),
      );
      await waitFor(() => expect(taro.storage.get('rt.profile')).toMatchObject({ messageGrants: 1 }));
    });

    it('weapp: a refused prompt or a failed post never holds up the confirmation', async () => {
      taro.requestSubscribeMessage.mockRejectedValue({ errMsg: 'requestSubscribeMessage:fail' });
      await confirmOnce({ 'POST /v1/passengers/me/subscriptions': 'network' });
      await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
      expect(screen.queryByRole('alert')).toBeNull();
    });

    it('h5: no prompt and nothing posted', async () => {
      process.env.TARO_ENV = 'h5';
      taro.storage.set('rt.loginCode', 'ok:tester');
      const seen = await confirmOnce();
      await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
      expect(taro.requestSubscribeMessage).not.toHaveBeenCalled();
      expect(seen.some((r) => r.path === '/v1/passengers/me/subscriptions')).toBe(false);
    });
  });
});
