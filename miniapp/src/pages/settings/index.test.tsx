import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { consent, errorBody, fakeApi, ride, taro } from '../../../test/harness';
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
});
