import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CODE_URL, errorBody, fakeApi, preview, ride, taro } from '../../../test/harness';
import ScanPage from './index';

const opened = (code = CODE_URL) => {
  taro.state.params = { q: encodeURIComponent(code) };
};

describe('scan page', () => {
  it('registers the scanned code from the launch URL (q) and opens the pass', async () => {
    opened();
    const seen = fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    render(<ScanPage />);
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
    const rides = seen.filter((r) => r.path === '/v1/rides');
    expect(rides).toHaveLength(1);
    expect(rides[0]!.data).toMatchObject({ code: CODE_URL });
    expect(rides[0]!.data!.clientRideId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(rides[0]!.data).not.toHaveProperty('scannedAt');
    expect(rides[0]!.authorization).toBe('Bearer token-1');
    expect(taro.login).toHaveBeenCalledTimes(1);
    expect(taro.storage.get('rt.lastRide')).toMatchObject({ carrier: { plate: '粤B12345' } });
  });

  it('accepts the code as `code` too, and goes to the confirmation on 202', async () => {
    taro.state.params = { code: CODE_URL };
    fakeApi({
      'POST /v1/rides': { status: 202, body: { result: 'confirmation_required', preview: preview() } },
    });
    render(<ScanPage />);
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/confirm/index' }));
    expect(taro.storage.get('rt.pendingPreview')).toMatchObject({ consentVersion: '2026-11' });
  });

  it('queues the scan without network and says so', async () => {
    opened();
    fakeApi({ 'POST /v1/rides': 'network' });
    render(<ScanPage />);
    expect(await screen.findByText(/网络不可用：乘车记录已保存在本机/)).toBeTruthy();
    expect(screen.getByText('1 条乘车记录等待联网提交')).toBeTruthy();
    const queue = taro.storage.get('rt.queue') as { code: string; clientRideId: string; scannedAt: string }[];
    expect(queue).toHaveLength(1);
    expect(queue[0]!.code).toBe(CODE_URL);
    expect(Date.parse(queue[0]!.scannedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(taro.redirectTo).not.toHaveBeenCalled();
  });

  it('queues the scan when even the login has no network', async () => {
    opened();
    taro.login.mockRejectedValue({ errMsg: 'login:fail network' });
    const seen = fakeApi({});
    render(<ScanPage />);
    expect(await screen.findByText(/网络不可用/)).toBeTruthy();
    expect(seen).toHaveLength(0);
    expect(taro.storage.get('rt.queue')).toHaveLength(1);
  });

  it('explains a revoked code without offering a useless retry', async () => {
    opened();
    fakeApi({ 'POST /v1/rides': { status: 410, body: errorBody('code_revoked') } });
    render(<ScanPage />);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('此乘车码已作废');
    expect(screen.queryByRole('button', { name: '重试' })).toBeNull();
  });

  it('explains rate limiting and retries with the button', async () => {
    opened();
    let calls = 0;
    fakeApi({
      'POST /v1/rides': () =>
        ++calls === 1
          ? { status: 429, body: errorBody('rate_limited') }
          : { status: 201, body: { result: 'registered', ride: ride() } },
    });
    render(<ScanPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('操作太频繁');
    fireEvent.click(screen.getByRole('button', { name: '重试' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
  });

  it('refuses something that is not a ride code without asking the server', async () => {
    opened('https://example.com/not-a-ride-code');
    const seen = fakeApi({});
    render(<ScanPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('这不是乘车登记码');
    expect(seen).toHaveLength(0);
  });

  it('opens the camera with the scan button on weapp', async () => {
    taro.scanCode.mockResolvedValue({ result: CODE_URL, errMsg: 'scanCode:ok' });
    const seen = fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    render(<ScanPage />);
    fireEvent.click(screen.getByRole('button', { name: '打开相机扫描车内乘车码' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalledWith({ url: '/pages/pass/index' }));
    expect(taro.scanCode).toHaveBeenCalledWith({ onlyFromCamera: true, scanType: ['qrCode'] });
    expect(seen.filter((r) => r.path === '/v1/rides')).toHaveLength(1);
  });

  it('ignores a cancelled camera', async () => {
    taro.scanCode.mockRejectedValue({ errMsg: 'scanCode:fail cancel' });
    const seen = fakeApi({});
    render(<ScanPage />);
    fireEvent.click(screen.getByRole('button', { name: '打开相机扫描车内乘车码' }));
    await waitFor(() => expect(taro.scanCode).toHaveBeenCalled());
    expect(screen.queryByRole('alert')).toBeNull();
    expect(seen).toHaveLength(0);
  });

  it('offers a paste field instead of the camera on h5', async () => {
    process.env.TARO_ENV = 'h5';
    taro.storage.set('rt.loginCode', 'ok:web');
    const seen = fakeApi({ 'POST /v1/rides': { status: 201, body: { result: 'registered', ride: ride() } } });
    render(<ScanPage />);
    expect(screen.queryByRole('button', { name: '打开相机扫描车内乘车码' })).toBeNull();
    fireEvent.change(screen.getByLabelText('乘车码内容'), { target: { value: CODE_URL } });
    fireEvent.click(screen.getByRole('button', { name: '登记' }));
    await waitFor(() => expect(taro.redirectTo).toHaveBeenCalled());
    expect(seen[0]).toMatchObject({ path: '/v1/auth/passenger', data: { loginCode: 'ok:web' } });
    expect(taro.login).not.toHaveBeenCalled();
  });

  it('says when h5 has no login code', async () => {
    process.env.TARO_ENV = 'h5';
    opened();
    fakeApi({});
    render(<ScanPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('请在超级应用内打开本小程序');
  });

  it('shows what the last queue flush delivered or dropped, and a pending confirmation', async () => {
    taro.storage.set('rt.queueReport', {
      delivered: [ride()],
      failed: [{ code: CODE_URL, clientRideId: 'x', error: 'scan_too_old' }],
    });
    taro.storage.set('rt.pendingPreview', preview());
    fakeApi({});
    render(<ScanPage />);
    expect(screen.getByText(/离线保存的乘车记录已提交：粤B12345/)).toBeTruthy();
    expect(screen.getByText(/已超过 24 小时/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '去确认' }));
    expect(taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/confirm/index' });
    fireEvent.click(screen.getByRole('button', { name: '知道了' }));
    await waitFor(() => expect(screen.queryByText(/离线保存的乘车记录已提交/)).toBeNull());
  });

  it('links to the other pages with large labelled buttons', () => {
    fakeApi({});
    render(<ScanPage />);
    for (const name of ['健康状态', '我的行程', '通知', '设置', '工作人员'])
      expect(screen.getByRole('button', { name })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '健康状态' }));
    expect(taro.navigateTo).toHaveBeenCalledWith({ url: '/pages/status/index' });
  });
});
