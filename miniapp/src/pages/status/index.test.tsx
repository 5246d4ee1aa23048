import { act, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { errorBody, fakeApi, flush, type FakeRequest } from '../../../test/harness';
import { qrMatrix } from '../../services/qr';
import { renewDelay } from '../../services/status-token';
import StatusPage from './index';

const tokens = (seen: FakeRequest[]) => seen.filter((r) => r.path === '/v1/passengers/me/status-token');

function statusApi(colour = 'yellow') {
  let n = 0;
  return fakeApi({
    'GET /v1/passengers/me/status': {
      status: 200,
      body: {
        colour,
        reason: colour === 'yellow' ? 'exposure' : 'none',
        since: '2026-11-20T02:00:00.000Z',
        validUntil: colour === 'yellow' ? '2026-12-04T02:00:00.000Z' : null,
      },
    },
    'POST /v1/passengers/me/status-token': () => ({
      status: 200,
      body: { token: `RTS1.token-${++n}`, colour, expiresAt: new Date(Date.now() + 60_000).toISOString() },
    }),
  });
}

describe('status page', () => {
  it('shows colour, reason and a QR of the status token', async () => {
    statusApi();
    render(<StatusPage />);
    expect((await screen.findByRole('status', { name: '健康状态: 黄码' })).className).toContain(
      'colour--yellow',
    );
    expect(await screen.findByText('您曾与确诊病例同乘，请居家观察')).toBeTruthy();
    expect(screen.getByText(/^观察至 2026-12-04/)).toBeTruthy();
    const qr = await screen.findByRole('img', { name: '健康状态二维码，供工作人员核验' });
    // One row of Views per QR module row (version 1: 21 rows).
    expect(qr.children.length).toBe(qrMatrix('RTS1.token-1').length);
    expect(qr.children.length).toBeGreaterThanOrEqual(21);
    expect(screen.getByText(/^\d\d 秒后更新$/)).toBeTruthy();
  });

  it('renews the token before it expires (60 s tokens: every 50 s)', async () => {
    vi.useFakeTimers();
    const seen = statusApi('green');
    render(<StatusPage />);
    await act(() => vi.advanceTimersByTimeAsync(10));
    expect(tokens(seen)).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(49_000));
    expect(tokens(seen)).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(1_500));
    expect(tokens(seen)).toHaveLength(2);
    await act(() => vi.advanceTimersByTimeAsync(50_000));
    expect(tokens(seen)).toHaveLength(3);
    expect(screen.getByText('绿码')).toBeTruthy();
  });

  it('computes the renewal delay within bounds', () => {
    const now = Date.parse('2026-11-22T08:00:00Z');
    expect(renewDelay('2026-11-22T08:01:00Z', now)).toBe(50_000);
    expect(renewDelay('2026-11-22T08:00:20Z', now)).toBe(10_000);
    expect(renewDelay('2026-11-22T07:00:00Z', now)).toBe(5_000);
    expect(renewDelay('2026-11-22T09:00:00Z', now)).toBe(50_000);
  });

  it('shows a network error instead of the QR and keeps trying', async () => {
    vi.useFakeTimers();
    let down = true;
    const seen = fakeApi({
      'GET /v1/passengers/me/status': () =>
        down
          ? 'network'
          : { status: 200, body: { colour: 'green', reason: 'none', since: null, validUntil: null } },
      'POST /v1/passengers/me/status-token': () =>
        down
          ? 'network'
          : {
              status: 200,
              body: {
                token: 'RTS1.x',
                colour: 'green',
                expiresAt: new Date(Date.now() + 60_000).toISOString(),
              },
            },
    });
    render(<StatusPage />);
    await act(() => vi.advanceTimersByTimeAsync(10));
    expect(
      screen
        .getAllByRole('alert')
        .map((a) => a.textContent)
        .join(),
    ).toContain('网络不可用');
    expect(screen.queryByRole('img')).toBeNull();
    down = false;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(tokens(seen).length).toBeGreaterThanOrEqual(2);
    expect(screen.getByRole('img', { name: '健康状态二维码，供工作人员核验' })).toBeTruthy();
  });

  it('shows a server error for the status', async () => {
    fakeApi({
      'GET /v1/passengers/me/status': { status: 429, body: errorBody('rate_limited') },
      'POST /v1/passengers/me/status-token': { status: 429, body: errorBody('rate_limited') },
    });
    render(<StatusPage />);
    await flush();
    expect((await screen.findAllByRole('alert'))[0]!.textContent).toContain('操作太频繁');
  });
});
