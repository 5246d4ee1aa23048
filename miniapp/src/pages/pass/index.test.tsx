import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { errorBody, fakeApi, flush, profile, ride, taro } from '../../../test/harness';
import PassPage from './index';

const green = { colour: 'green', reason: 'none', since: null, validUntil: null };

describe('pass page', () => {
  it('shows plate, route, boarding time and the status colour', async () => {
    taro.storage.set('rt.lastRide', ride());
    fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: green } });
    render(<PassPage />);
    expect(screen.getByText('粤B12345')).toBeTruthy();
    expect(screen.getByText('36路')).toBeTruthy();
    expect(screen.getByText('公交 · 深圳')).toBeTruthy();
    expect(screen.getByText(/^2026-11-22 \d\d:05$/)).toBeTruthy();
    expect((await screen.findByRole('status', { name: '健康状态: 绿码' })).className).toContain(
      'colour--green',
    );
  });

  it('runs a live clock with seconds next to a moving bar', async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 22, 8, 30, 15) });
    taro.storage.set('rt.lastRide', ride({ late: true, source: 'offline' }));
    fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: { ...green, colour: 'yellow' } } });
    const { container } = render(<PassPage />);
    expect(screen.getByText('08:30:15')).toBeTruthy();
    await act(() => vi.advanceTimersByTimeAsync(2000));
    expect(screen.getByText('08:30:17')).toBeTruthy();
    expect(container.querySelector('.pass__runner')).toBeTruthy();
    expect(screen.getByLabelText('实时时钟，用于区分截图')).toBeTruthy();
    expect(screen.getByText('离线补登')).toBeTruthy();
    expect(screen.getByText('黄码')).toBeTruthy();
  });

  it('shows a status error with retry and keeps the pass', async () => {
    taro.storage.set('rt.lastRide', ride());
    let calls = 0;
    fakeApi({
      'GET /v1/passengers/me/status': () =>
        ++calls === 1
          ? { status: 503, body: errorBody('service_unavailable') }
          : { status: 200, body: green },
    });
    render(<PassPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('服务暂时不可用');
    expect(screen.getByText('粤B12345')).toBeTruthy();
    act(() => screen.getByRole('button', { name: '重试' }).click());
    await flush();
    expect(await screen.findByText('绿码')).toBeTruthy();
  });

  it('says when the scan repeated a ride moments before (not registered twice)', async () => {
    taro.storage.set('rt.lastRide', ride());
    taro.storage.set('rt.lastRideRepeat', true);
    fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: green } });
    render(<PassPage />);
    expect(screen.getByText('刚才已在本车登记，这是那次的乘车记录，不会重复登记。')).toBeTruthy();
    await screen.findByText('绿码');
  });

  it('without a ride, points back to scanning', () => {
    fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: green } });
    render(<PassPage />);
    expect(screen.getByText('还没有乘车记录，请先扫码登记。')).toBeTruthy();
  });

  it('shows the registrant beside the ride: masked name and phone, verified, from the kept profile', async () => {
    taro.storage.set('rt.lastRide', ride());
    taro.storage.set(
      'rt.profile',
      profile({
        confirmed: true,
        name: '张*丰',
        phone: '138****5678',
        phoneVerified: true,
        phoneSource: 'otp',
      }),
    );
    const seen = fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: green } });
    render(<PassPage />);
    const registrant = screen.getByText('登记人').closest('#pass-registrant')!;
    expect(registrant.textContent).toBe('登记人张*丰');
    const contact = screen.getByText('联系方式').closest('#pass-contact')!;
    expect(contact.textContent).toBe('联系方式138****5678已验证');
    await screen.findByText('绿码');
    // Kept since the confirmation: no extra request at every scan.
    expect(seen.some((r) => r.path === '/v1/passengers/me')).toBe(false);
  });

  it('fetches the profile once when none is kept, and says when the phone is not verified', async () => {
    taro.storage.set('rt.lastRide', ride());
    const seen = fakeApi({
      'GET /v1/passengers/me/status': { status: 200, body: green },
      'GET /v1/passengers/me': {
        status: 200,
        body: profile({ confirmed: true, name: '张*丰', phone: '138****5678', phoneSource: 'self' }),
      },
    });
    render(<PassPage />);
    expect((await screen.findByText('未验证')).closest('#pass-contact')!.textContent).toContain(
      '138****5678',
    );
    expect(screen.getByText('张*丰')).toBeTruthy();
    expect(seen.filter((r) => r.path === '/v1/passengers/me')).toHaveLength(1);
    expect(taro.storage.get('rt.profile')).toMatchObject({ name: '张*丰', phoneVerified: false });
  });

  it('without a profile (no network), the pass shows the ride alone', async () => {
    taro.storage.set('rt.lastRide', ride());
    fakeApi({
      'GET /v1/passengers/me/status': { status: 200, body: green },
      'GET /v1/passengers/me': 'network',
    });
    render(<PassPage />);
    await screen.findByText('绿码');
    expect(screen.getByText('粤B12345')).toBeTruthy();
    expect(screen.queryByText('登记人')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });
  it('weapp, no message grant left: offers exposure alerts and posts the answer on tap', async () => {
    taro.storage.set('rt.lastRide', ride());
    taro.storage.set('rt.profile', profile({ confirmed: true, messageGrants: 0 }));
    taro.requestSubscribeMessage.mockResolvedValue({
      errMsg: 'requestSubscribeMessage:ok',
      ridetrace_exposure: 'accept',
    });
    const seen = fakeApi({
      'GET /v1/passengers/me/status': { status: 200, body: green },
      'POST /v1/passengers/me/subscriptions': { status: 200, body: { messageGrants: 1 } },
    });
    render(<PassPage />);
    await screen.findByText('绿码');
    // Only from the passenger's tap, never on its own.
    expect(taro.requestSubscribeMessage).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: '接收接触提醒' }));
    expect(taro.requestSubscribeMessage).toHaveBeenCalledWith({
      tmplIds: ['ridetrace_exposure', 'ridetrace_secondary_exposure'],
    });
    await waitFor(() => expect(screen.queryByRole('button', { name: '接收接触提醒' })).toBeNull());
    expect(seen.filter((r) => r.path === '/v1/passengers/me/subscriptions').map((r) => r.data)).toEqual([
      { templateId: 'ridetrace_exposure', result: 'accept' },
    ]);
    expect(taro.storage.get('rt.profile')).toMatchObject({ messageGrants: 1 });
  });

  it('no offer with a grant left, nor in h5', async () => {
    taro.storage.set('rt.lastRide', ride());
    taro.storage.set('rt.profile', profile({ confirmed: true, messageGrants: 2 }));
    fakeApi({ 'GET /v1/passengers/me/status': { status: 200, body: green } });
    const { unmount } = render(<PassPage />);
    await screen.findByText('绿码');
    expect(screen.queryByRole('button', { name: '接收接触提醒' })).toBeNull();
    unmount();

    process.env.TARO_ENV = 'h5';
    taro.storage.set('rt.profile', profile({ confirmed: true, messageGrants: 0 }));
    render(<PassPage />);
    await screen.findByText('绿码');
    expect(screen.queryByRole('button', { name: '接收接触提醒' })).toBeNull();
  });
});
