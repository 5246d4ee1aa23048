import { act, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IDLE_SIGN_OUT_MINUTES } from '../../settings.js';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import { session, TRACER } from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const noSession = () =>
  apiError(400, 'validation_failed', 'The rt_official_refresh cookie is missing; sign in again.');

async function fillAndSubmit(user: ReturnType<typeof renderConsole>['user'], totp = '123456') {
  fill(await screen.findByLabelText('Username'), 'wang.tracer');
  fill(screen.getByLabelText('Password'), 'correct horse');
  fill(screen.getByLabelText('One-time code'), totp);
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('sign-in', () => {
  afterEach(() => vi.useRealTimers());

  it('shows a loading state while the cookie session is being resumed', () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockReturnValue(pending());
    renderConsole(api);
    expect(document.querySelector('.ant-spin')).not.toBeNull();
    expect(screen.queryByLabelText('Username')).toBeNull();
  });

  it('resumes a live session without asking to sign in', async () => {
    const api = fakeApi();
    renderConsole(api);
    expect(await screen.findByTestId('who-am-i')).toHaveProperty('textContent', '李主管');
    expect(api.signInOfficialSession).not.toHaveBeenCalled();
  });

  it('signs in with username, password and the 6-digit code, then shows the console', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockRejectedValue(noSession());
    api.signInOfficialSession.mockResolvedValue(session(TRACER));
    const { user } = renderConsole(api);
    await fillAndSubmit(user);
    await waitFor(() =>
      expect(api.signInOfficialSession).toHaveBeenCalledWith({
        username: 'wang.tracer',
        password: 'correct horse',
        totp: '123456',
      }),
    );
    expect(await screen.findByTestId('who-am-i')).toHaveProperty('textContent', '王追踪');
    // A tracer lands on the cases.
    expect(await screen.findByRole('heading', { name: 'Cases' })).toBeTruthy();
  });

  it("shows the API's message when sign-in fails, and clears the used code", async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockRejectedValue(noSession());
    api.signInOfficialSession.mockRejectedValue(
      apiError(401, 'sign_in_failed', 'Wrong username, password or one-time code.'),
    );
    const { user } = renderConsole(api);
    await fillAndSubmit(user);
    expect((await screen.findByRole('alert')).textContent).toContain(
      'Wrong username, password or one-time code.',
    );
    expect((screen.getByLabelText('One-time code') as HTMLInputElement).value).toBe('');
    expect((screen.getByLabelText('Username') as HTMLInputElement).value).toBe('wang.tracer');
  });

  it('checks the form before calling the API: every field, and a code of 6 digits', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockRejectedValue(noSession());
    const { user } = renderConsole(api);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Enter your username')).toBeTruthy();
    expect(screen.getByText('Enter your password')).toBeTruthy();
    fill(screen.getByLabelText('One-time code'), '12a34');
    expect((screen.getByLabelText('One-time code') as HTMLInputElement).value).toBe('1234');
    expect(await screen.findByText('Enter the 6-digit code')).toBeTruthy();
    expect(api.signInOfficialSession).not.toHaveBeenCalled();
  });

  it('is in Chinese unless English is chosen', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockRejectedValue(noSession());
    renderConsole(api, { locale: null });
    expect(await screen.findByLabelText('用户名')).toBeTruthy();
    expect(screen.getByLabelText('动态验证码')).toBeTruthy();
    expect(screen.getByRole('button', { name: /登\s*录/ })).toBeTruthy();
  });

  it('signs out after the idle time without input, and says why', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const api = fakeApi();
    renderConsole(api);
    await screen.findByTestId('who-am-i');
    await act(async () => {
      vi.advanceTimersByTime((IDLE_SIGN_OUT_MINUTES - 1) * 60_000);
    });
    expect(api.signOutOfficial).not.toHaveBeenCalled();
    // Input keeps the session.
    window.dispatchEvent(new KeyboardEvent('keydown'));
    await act(async () => {
      vi.advanceTimersByTime(2 * 60_000);
    });
    expect(api.signOutOfficial).not.toHaveBeenCalled();
    await act(async () => {
      vi.advanceTimersByTime(IDLE_SIGN_OUT_MINUTES * 60_000);
    });
    expect(api.signOutOfficial).toHaveBeenCalledTimes(1);
    expect(await screen.findByText(/signed out after 15 minutes without activity/)).toBeTruthy();
  });

  it('refreshes the session before the access cookie lapses', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(undefined, 120));
    renderConsole(api);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(api.refreshOfficialSession).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(59_000);
    });
    expect(api.refreshOfficialSession).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2_000);
    });
    expect(api.refreshOfficialSession).toHaveBeenCalledTimes(2);
  });

  it('returns to sign-in, saying the session ended, when the API answers 401 and no refresh helps', async () => {
    const api = fakeApi();
    api.refreshOfficialSession
      .mockResolvedValueOnce(session())
      .mockRejectedValue(apiError(401, 'refresh_invalid', 'The session has ended.'));
    api.listCases.mockRejectedValue(apiError(401, 'token_expired', 'The access token has expired.'));
    renderConsole(api, { path: '/cases' });
    expect(await screen.findByText('Your session has ended; please sign in again.')).toBeTruthy();
    expect(screen.getByLabelText('Username')).toBeTruthy();
  });
});
