import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { carrier, fakeApi, taro } from '../../../test/harness';
import InboxPage from './index';

const notification = {
  id: 'n1',
  kind: 'exposure',
  createdAt: '2026-11-21T06:00:00.000Z',
  exposure: { carrier, boardedAt: '2026-11-19T08:05:00.000Z', level: 'close' },
  advice: {
    'zh-CN': '请居家观察 14 天，出现症状及时就医。',
    en: 'Stay home for 14 days; see a doctor if symptoms appear.',
  },
  observeUntil: '2026-12-03T08:05:00.000Z',
};

describe('inbox page', () => {
  it('lists exposure notices with what to do', async () => {
    fakeApi({ 'GET /v1/passengers/me/notifications': { status: 200, body: { items: [notification] } } });
    render(<InboxPage />);
    expect(await screen.findByText('接触提醒')).toBeTruthy();
    expect(screen.getByText('密切接触')).toBeTruthy();
    expect(screen.getByText(/公交 粤B12345 36路 · 2026-11-19/)).toBeTruthy();
    expect(screen.getByText('请居家观察 14 天，出现症状及时就医。')).toBeTruthy();
    expect(screen.getByText(/^请观察至 2026-12-03/)).toBeTruthy();
  });

  it('shows the advice in English when chosen', async () => {
    taro.storage.set('rt.lang', 'en');
    fakeApi({
      'GET /v1/passengers/me/notifications': {
        status: 200,
        body: { items: [{ ...notification, exposure: { ...notification.exposure, level: 'possible' } }] },
      },
    });
    render(<InboxPage />);
    expect(await screen.findByText('Stay home for 14 days; see a doctor if symptoms appear.')).toBeTruthy();
    expect(screen.getByText('Possible contact')).toBeTruthy();
  });

  it('a secondary-contact notice says so instead of the contact level', async () => {
    fakeApi({
      'GET /v1/passengers/me/notifications': {
        status: 200,
        body: { items: [{ ...notification, kind: 'secondary_exposure' }] },
      },
    });
    render(<InboxPage />);
    expect(await screen.findByText('次密接提醒')).toBeTruthy();
    expect(screen.getByText('您曾与一名密切接触者同乘')).toBeTruthy();
    expect(screen.queryByText('密切接触')).toBeNull();
  });

  it('empty and error states', async () => {
    fakeApi({ 'GET /v1/passengers/me/notifications': { status: 200, body: { items: [] } } });
    const { unmount } = render(<InboxPage />);
    expect(await screen.findByText('没有通知')).toBeTruthy();
    unmount();
    fakeApi({ 'GET /v1/passengers/me/notifications': 'network' });
    render(<InboxPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('网络不可用');
  });
});
