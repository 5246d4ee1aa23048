import type { OfficialEnrolment } from '@ridetrace/shared';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import {
  ADMIN as FULL_ADMIN,
  FLEET_MANAGER,
  official,
  operator,
  session,
  TRACER,
} from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const ADMIN = official({
  id: '0a3f9e2c-1111-4b2a-9c3d-0000000000ad',
  username: 'zhou.admin',
  name: '周管理',
  roles: ['admin'],
  scopes: ['officials:admin'],
});
const path = '/admin';

function adminApi() {
  const api = fakeApi();
  api.refreshOfficialSession.mockResolvedValue(session(ADMIN));
  return api;
}

const enrolment = (who = TRACER): OfficialEnrolment => ({
  official: who,
  password: 'Initial-Pass-123',
  otpauthUri: `otpauth://totp/RideTrace:${who.username}?secret=JBSWY3DPEHPK3PXP&issuer=RideTrace`,
});

describe('admin: official accounts', () => {
  it('is the only page of an administrator', async () => {
    const api = adminApi();
    renderConsole(api);
    expect(await screen.findByRole('heading', { name: 'Official accounts' })).toBeTruthy();
    expect(api.listCases).not.toHaveBeenCalled();
  });

  it('shows a loading state', async () => {
    const api = adminApi();
    api.listOfficials.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByRole('heading', { name: 'Official accounts' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('says what to do when there are no accounts', async () => {
    renderConsole(adminApi(), { path });
    expect(await screen.findByText(/Choose "New account" to give staff the console/)).toBeTruthy();
  });

  it("shows the API's message when the list fails", async () => {
    const api = adminApi();
    api.listOfficials.mockRejectedValue(apiError(403, 'forbidden', 'This needs the officials:admin scope.'));
    renderConsole(api, { path });
    expect((await screen.findByRole('alert')).textContent).toContain('This needs the officials:admin scope.');
  });

  it('lists accounts with roles, jurisdiction and state', async () => {
    const api = adminApi();
    api.listOfficials.mockResolvedValue({
      items: [
        ADMIN,
        TRACER,
        official({
          id: 'x',
          username: 'old.one',
          name: '旧账号',
          jurisdiction: [],
          disabledAt: '2026-11-10T00:00:00.000Z',
        }),
      ],
    });
    renderConsole(api, { path });
    const row = (await screen.findByText('wang.tracer')).closest('tr')!;
    expect(within(row).getByText('Tracer')).toBeTruthy();
    expect(within(row).getByText('深圳')).toBeTruthy();
    expect(within(row).getByText('Active')).toBeTruthy();
    const old = screen.getByText('old.one').closest('tr')!;
    expect(within(old).getByText(/Disabled/)).toBeTruthy();
    expect(within(old).getByText('all')).toBeTruthy();
    // No one disables their own account from here.
    expect(
      within(screen.getByText('zhou.admin').closest('tr')!).queryByRole('button', { name: 'Disable' }),
    ).toBeNull();
  });

  it('creates an account and shows its password and authenticator QR once', async () => {
    const api = adminApi();
    api.createOfficial.mockResolvedValue(enrolment());
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /New account/ }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText(/Use 3–64 letters/)).toBeTruthy();
    expect(api.createOfficial).not.toHaveBeenCalled();
    fill(within(dialog).getByLabelText('Username'), 'wang.tracer');
    fill(within(dialog).getByLabelText('Name'), '王追踪');
    fill(within(dialog).getByLabelText('Agency'), '深圳市疾控中心');
    await user.click(within(dialog).getByLabelText('Supervisor'));
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(api.createOfficial).toHaveBeenCalledWith({
        username: 'wang.tracer',
        name: '王追踪',
        agency: '深圳市疾控中心',
        roles: ['tracer', 'supervisor'],
      }),
    );
    expect(await screen.findByText('Initial password and authenticator')).toBeTruthy();
    expect(screen.getByTestId('initial-password').textContent).toContain('Initial-Pass-123');
    const qr = screen.getByRole('img', { name: 'Authenticator QR code of wang.tracer' });
    expect(qr.getAttribute('src')).toMatch(/^data:image\/gif;base64,/);
  });

  it("shows the API's refusal in the create dialog", async () => {
    const api = adminApi();
    api.createOfficial.mockRejectedValue(apiError(409, 'username_taken', 'This username is taken.'));
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /New account/ }));
    const dialog = await screen.findByRole('dialog');
    fill(within(dialog).getByLabelText('Username'), 'wang.tracer');
    fill(within(dialog).getByLabelText('Name'), '王追踪');
    fill(within(dialog).getByLabelText('Agency'), '深圳市疾控中心');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('This username is taken.');
  });

  it('disables and resets an account after confirming', async () => {
    const api = adminApi();
    api.listOfficials.mockResolvedValue({ items: [TRACER] });
    api.disableOfficial.mockResolvedValue({ ...TRACER, disabledAt: '2026-11-21T00:00:00.000Z' });
    api.resetOfficial.mockResolvedValue(enrolment());
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: 'Disable' }));
    const confirm = await screen.findByRole('dialog');
    expect(within(confirm).getAllByText("Disable 王追踪's account?").length).toBeGreaterThan(0);
    await user.click(within(confirm).getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(api.disableOfficial).toHaveBeenCalledWith(TRACER.id));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    await user.click(screen.getByRole('button', { name: 'Reset' }));
    const again = await screen.findByRole('dialog');
    await user.click(within(again).getByRole('button', { name: 'Reset' }));
    await waitFor(() => expect(api.resetOfficial).toHaveBeenCalledWith(TRACER.id));
    expect(await screen.findByText('Initial password and authenticator')).toBeTruthy();
  });

  it('creates a fleet manager account for a transport operator', async () => {
    const api = adminApi();
    api.refreshOfficialSession.mockResolvedValue(session(FULL_ADMIN));
    api.listOperators.mockResolvedValue({ items: [operator(), operator('sz-taxi', '深圳出租')] });
    api.listOfficials.mockResolvedValue({ items: [FLEET_MANAGER] });
    api.createOfficial.mockResolvedValue(enrolment(FLEET_MANAGER));
    const { user } = renderConsole(api, { path });
    const row = (await screen.findByText('zhao.fleet')).closest('tr')!;
    expect(within(row).getByText('Transport operator')).toBeTruthy();
    expect(within(row).getByText('metro-bus')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: /New account/ }));
    const dialog = await screen.findByRole('dialog');
    fill(within(dialog).getByLabelText('Username'), 'zhao.fleet');
    fill(within(dialog).getByLabelText('Name'), '赵车队');
    fill(within(dialog).getByLabelText('Agency'), '深圳出租');
    await user.click(within(dialog).getByLabelText('Tracer'));
    await user.click(within(dialog).getByLabelText('Transport operator'));
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText('Choose the operator')).toBeTruthy();
    fireEvent.mouseDown(within(dialog).getByRole('combobox', { name: 'Operator' }));
    fireEvent.click(await screen.findByTitle('深圳出租 (sz-taxi)'));
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(api.createOfficial).toHaveBeenCalledWith({
        username: 'zhao.fleet',
        name: '赵车队',
        agency: '深圳出租',
        roles: ['operator'],
        operatorId: 'sz-taxi',
      }),
    );
    expect(await screen.findByText('Initial password and authenticator')).toBeTruthy();
  });
});
