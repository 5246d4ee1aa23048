import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import {
  consent,
  errorBody,
  fakeApi,
  phoneNumberEvent,
  profile,
  ride,
  taro,
  type Reply,
} from '../../../test/harness';
import { formatDateTime } from '../../services/format';
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

  it('delete my data: the confirmation says what deletion does; nothing is sent before confirming', async () => {
    const seen = fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<SettingsPage />);
    expect(screen.queryByRole('alertdialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    const dialog = screen.getByRole('alertdialog', { name: '删除我的数据' });
    expect(
      within(dialog)
        .getAllByRole('listitem')
        .map((i) => i.textContent),
    ).toEqual([
      '· 您的账号和加密密钥被销毁，服务器上的姓名、手机号和证件号码再也无法读取；',
      '· 已登记的乘车记录不再能与您关联：如果您曾与确诊病例同乘，卫生健康部门将无法通知您；',
      '· 数据访问记录和接收提醒的授权一并删除；',
      '· 您将退出登录，本机保存的数据也会清除。之后再扫码将作为新用户登记，需要重新填写信息并同意告知。',
    ]);
    expect(seen.some((r) => r.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    const en = screen.getByRole('alertdialog', { name: 'Delete my data' });
    expect(en.textContent).toContain('destroys your account and its encryption key');
    expect(en.textContent).toContain('unlinks your registered rides from you');
    expect(en.textContent).toContain('signs you out');
    expect(within(en).getByRole('button', { name: 'Yes, delete' })).toBeTruthy();
  });

  it('delete my data: once the server deleted it, clears what the phone keeps and signs out', async () => {
    taro.storage.set('rt.lang', 'zh-CN');
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    taro.storage.set('rt.lastRide', ride());
    taro.storage.set('rt.lastRideRepeat', true);
    taro.storage.set('rt.profile', profile({ confirmed: true, phone: '138****5678' }));
    taro.storage.set('rt.passengerToken', { token: 'token-0', expiresAt: Date.now() + 3_600_000 });
    const seen = fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'DELETE /v1/passengers/me': { status: 204 },
    });
    render(<SettingsPage />);
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    fireEvent.click(screen.getByRole('button', { name: '确认删除' }));
    expect((await screen.findByRole('status')).textContent).toBe(
      '您的数据已删除，您已退出登录。再次扫码将作为新用户登记。',
    );
    expect(seen.find((r) => r.method === 'DELETE')!.authorization).toBe('Bearer token-0');
    for (const id of ['settings-access-log', 'settings-export', 'settings-phone'])
      expect(document.getElementById(id)).toBeNull();
    expect(screen.queryByRole('button', { name: '删除我的数据' })).toBeNull();
    for (const key of ['rt.identity', 'rt.lastRide', 'rt.lastRideRepeat', 'rt.profile', 'rt.passengerToken'])
      expect(taro.storage.has(key)).toBe(false);
    expect(taro.storage.get('rt.lang')).toBe('zh-CN');
  });

  it('delete my data: an account already gone (a lost reply, tried again) counts as deleted', async () => {
    taro.storage.set('rt.identity', { name: '张三丰', phone: '13812345678' });
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      'DELETE /v1/passengers/me': { status: 404, body: errorBody('passenger_not_found') },
    });
    render(<SettingsPage />);
    fireEvent.click(screen.getByRole('button', { name: '删除我的数据' }));
    fireEvent.click(screen.getByRole('button', { name: '确认删除' }));
    expect(await screen.findByText('您的数据已删除，您已退出登录。再次扫码将作为新用户登记。')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(taro.storage.has('rt.identity')).toBe(false);
  });

  it('export my data: opens the export page', async () => {
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<SettingsPage />);
    const card = document.getElementById('settings-export')!;
    expect(card.textContent).toContain('查看服务器保存的关于您的全部数据');
    fireEvent.click(within(card).getByRole('button', { name: '导出我的数据' }));
    expect(taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/export/index' });
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

describe('settings page: who accessed my data', () => {
  const ACCESS_LOG = 'GET /v1/passengers/me/access-log';
  const entry = (at: string, purpose: string, agency = '深圳市卫生健康委员会') => ({ at, agency, purpose });
  const page = (items: object[], nextCursor: string | null = null): Reply => ({
    status: 200,
    body: { items, nextCursor },
  });
  const card = () => document.getElementById('settings-access-log')!;
  const accessLogUrls = () =>
    taro.request.mock.calls
      .map(([opts]) => (opts as { url: string }).url)
      .filter((url) => url.includes('/access-log'));

  it('lists each access: date and time, agency, purpose (zh-CN and en)', async () => {
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      [ACCESS_LOG]: page([
        entry('2026-11-22T08:05:00.000Z', 'contact_tracing'),
        entry('2026-11-20T02:30:00.000Z', 'notification', '广州市疾病预防控制中心'),
        entry('2026-11-19T11:00:00.000Z', 'case_investigation'),
      ]),
    });
    render(<SettingsPage />);
    const items = await within(card()).findAllByRole('listitem');
    expect(items.map((i) => i.textContent)).toEqual([
      `${formatDateTime('2026-11-22T08:05:00.000Z')}深圳市卫生健康委员会密切接触者追踪`,
      `${formatDateTime('2026-11-20T02:30:00.000Z')}广州市疾病预防控制中心发送接触提醒`,
      `${formatDateTime('2026-11-19T11:00:00.000Z')}深圳市卫生健康委员会病例调查（您为病例本人）`,
    ]);
    expect(within(card()).getByText('数据访问记录')).toBeTruthy();
    expect(within(card()).queryByRole('button', { name: '加载更多' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(within(card()).getByText('Who accessed my data')).toBeTruthy();
    expect(
      within(card())
        .getAllByRole('listitem')
        .map((i) => i.lastChild!.textContent),
    ).toEqual([
      'Contact tracing for a case',
      'Exposure notification',
      'Case investigation (you were the case)',
    ]);
  });

  it('says so when the health authority has not accessed my data', async () => {
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent }, [ACCESS_LOG]: page([]) });
    render(<SettingsPage />);
    expect(await within(card()).findByText('暂无卫生健康部门访问记录')).toBeTruthy();
    expect(within(card()).queryByRole('list')).toBeNull();
  });

  it('shows loading, then an error with retry that loads it again', async () => {
    let calls = 0;
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      [ACCESS_LOG]: () =>
        ++calls === 1
          ? { status: 503, body: errorBody('service_unavailable') }
          : page([entry('2026-11-22T08:05:00.000Z', 'contact_tracing')]),
    });
    render(<SettingsPage />);
    expect(within(card()).getByText('加载中…')).toBeTruthy();
    const alert = await within(card()).findByRole('alert');
    expect(alert.textContent).toContain('重试');
    fireEvent.click(within(alert).getByRole('button', { name: '重试' }));
    expect(await within(card()).findByText('密切接触者追踪')).toBeTruthy();
    expect(within(card()).queryByRole('alert')).toBeNull();
    expect(calls).toBe(2);
  });

  it('loads older entries page by page with the cursor (and retries a failed page)', async () => {
    let olderCalls = 0;
    fakeApi({
      'GET /v1/consent': { status: 200, body: consent },
      [ACCESS_LOG]: () => {
        const url = accessLogUrls().at(-1)!;
        if (!url.includes('cursor=')) return page([entry('2026-11-22T08:05:00.000Z', 'notification')], '41');
        return ++olderCalls === 1 ? 'network' : page([entry('2026-11-18T08:05:00.000Z', 'contact_tracing')]);
      },
    });
    render(<SettingsPage />);
    fireEvent.click(await within(card()).findByRole('button', { name: '加载更多' }));
    const alert = await within(card()).findByRole('alert');
    expect(alert.textContent).toContain('网络不可用');
    expect(within(card()).getAllByRole('listitem')).toHaveLength(1);
    fireEvent.click(within(alert).getByRole('button', { name: '重试' }));
    expect(await within(card()).findByText('密切接触者追踪')).toBeTruthy();
    expect(within(card()).getAllByRole('listitem')).toHaveLength(2);
    expect(within(card()).queryByRole('button', { name: '加载更多' })).toBeNull();
    expect(accessLogUrls().map((u) => new URL(u).search)).toEqual(['', '?cursor=41', '?cursor=41']);
  });

  it('a server without the access log yet: "not available", no error', async () => {
    fakeApi({ 'GET /v1/consent': { status: 200, body: consent } });
    render(<SettingsPage />);
    expect((await within(card()).findByRole('status')).textContent).toBe(
      '暂不可用：服务器尚未开放数据访问记录。',
    );
    expect(within(card()).queryByRole('alert')).toBeNull();
  });
});
