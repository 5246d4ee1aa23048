import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { fakeApi } from '../../test/fake-api.js';
import { official, session, TRACER } from '../../test/fixtures.js';
import { renderConsole } from '../../test/render.js';

const menuItems = () =>
  within(screen.getByRole('navigation', { name: /^(Main menu|主菜单)$/ }))
    .getAllByRole('menuitem')
    .map((i) => i.textContent);

describe('shell', () => {
  it('shows who is signed in: name, agency and jurisdiction', async () => {
    renderConsole(fakeApi());
    expect((await screen.findByTestId('who-am-i')).textContent).toBe('李主管');
    expect(screen.getByText('深圳市疾控中心')).toBeTruthy();
    expect(screen.getByText(/Jurisdiction: 深圳/)).toBeTruthy();
  });

  it('says "all" for an official without a jurisdiction limit', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(official({ jurisdiction: [] })));
    renderConsole(api);
    expect(await screen.findByText(/Jurisdiction: all/)).toBeTruthy();
  });

  it('shows only the menu items the scopes allow', async () => {
    renderConsole(fakeApi());
    await screen.findByTestId('who-am-i');
    expect(menuItems()).toEqual(['Cases', 'Approvals']);
  });

  it('gives a tracer no approvals, and refuses the page by its address', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(TRACER));
    renderConsole(api, { path: '/approvals' });
    expect(await screen.findByText('No access')).toBeTruthy();
    expect(menuItems()).toEqual(['Cases']);
    expect(api.revealRequests).not.toHaveBeenCalled();
  });

  it('routes an auditor to the audit log', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(
      session(official({ roles: ['auditor'], scopes: ['audit:read'] })),
    );
    renderConsole(api);
    expect(await screen.findByRole('heading', { name: 'Audit log' })).toBeTruthy();
    expect(menuItems()).toEqual(['Audit']);
  });

  it('switches the language from Chinese to English', async () => {
    const { user } = renderConsole(fakeApi(), { locale: null });
    await screen.findByTestId('who-am-i');
    expect(menuItems()).toEqual(['案件', '审批']);
    await user.click(screen.getByRole('combobox', { name: '语言' }));
    await user.click(await screen.findByText('English'));
    await waitFor(() => expect(menuItems()).toEqual(['Cases', 'Approvals']));
    expect(localStorage.getItem('ridetrace.console.locale')).toBe('en');
  });

  it('signs out with the button and says so', async () => {
    const api = fakeApi();
    const { user } = renderConsole(api);
    await user.click(await screen.findByRole('button', { name: /Sign out/ }));
    expect(api.signOutOfficial).toHaveBeenCalledTimes(1);
    expect(await screen.findByText('You have signed out.')).toBeTruthy();
  });
});
