import type { ClientWithSecret } from '@ridetrace/shared';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import { ADMIN, machineClient, official, operator, session } from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const path = '/admin?tab=clients';

function adminApi(who = ADMIN) {
  const api = fakeApi();
  api.refreshOfficialSession.mockResolvedValue(session(who));
  return api;
}

const withSecret = (over: Partial<ClientWithSecret> = {}): ClientWithSecret => ({
  ...machineClient(),
  clientSecret: 'rt_secret_0123456789abcdef',
  ...over,
});

describe('admin tabs', () => {
  it("shows the tabs the administrator's scopes allow, the chosen one from the address", async () => {
    renderConsole(adminApi(), { path });
    expect(await screen.findByRole('heading', { name: 'Machine clients' })).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Officials' })).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Operators' })).toBeTruthy();
  });

  it('without officials:admin there is no officials tab; without admin no clients or operators', async () => {
    const clientsOnly = official({ roles: [], scopes: ['admin'] });
    const { unmount } = renderConsole(adminApi(clientsOnly), { path: '/admin' });
    expect(await screen.findByRole('heading', { name: 'Machine clients' })).toBeTruthy();
    expect(screen.queryByRole('tab', { name: 'Officials' })).toBeNull();
    unmount();
    const officialsOnly = official({ roles: ['admin'], scopes: ['officials:admin'] });
    renderConsole(adminApi(officialsOnly), { path });
    expect(await screen.findByRole('heading', { name: 'Official accounts' })).toBeTruthy();
    expect(screen.queryByRole('tab', { name: 'Machine clients' })).toBeNull();
  });
});

describe('admin: machine clients', () => {
  it('shows a loading state', async () => {
    const api = adminApi();
    api.listClients.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByRole('heading', { name: 'Machine clients' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('says what to do when there are none', async () => {
    renderConsole(adminApi(), { path });
    expect(await screen.findByText(/Choose "New client" to let an integrated system/)).toBeTruthy();
  });

  it("shows the API's message when the list fails", async () => {
    const api = adminApi();
    api.listClients.mockRejectedValue(apiError(403, 'forbidden', 'This needs the admin scope.'));
    renderConsole(api, { path });
    expect((await screen.findByRole('alert')).textContent).toContain('This needs the admin scope.');
  });

  it('lists clients with role, scopes, operator and state', async () => {
    const api = adminApi();
    api.listClients.mockResolvedValue({
      items: [
        machineClient(),
        machineClient({
          clientId: 'cli_cdc',
          name: '疾控对接系统',
          role: 'official',
          scopes: ['trace:read', 'case:write'],
          operatorId: null,
          disabledAt: '2026-11-10T00:00:00.000Z',
        }),
      ],
    });
    renderConsole(api, { path });
    const row = (await screen.findByText('车载终端 0001')).closest('tr')!;
    expect(within(row).getByText('cli_staff_0001')).toBeTruthy();
    expect(within(row).getByText('Staff device')).toBeTruthy();
    expect(within(row).getByText('staff')).toBeTruthy();
    expect(await within(row).findByText('深圳巴士集团')).toBeTruthy();
    expect(within(row).getByText('Active')).toBeTruthy();
    const cdc = screen.getByText('疾控对接系统').closest('tr')!;
    expect(within(cdc).getByText('trace:read')).toBeTruthy();
    expect(within(cdc).getByText(/Disabled/)).toBeTruthy();
    expect(within(cdc).queryByRole('button', { name: 'Disable' })).toBeNull();
  });

  it('creates a client for an operator and shows its secret once', async () => {
    const api = adminApi();
    api.listOperators.mockResolvedValue({ items: [operator()] });
    api.createClient.mockResolvedValue(withSecret());
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /New client/ }));
    const dialog = await screen.findByRole('dialog');
    fill(within(dialog).getByLabelText('Name'), ' 车载终端 0001 ');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText('Choose the operator')).toBeTruthy();
    fireEvent.mouseDown(within(dialog).getByRole('combobox', { name: 'Operator' }));
    fireEvent.click(await screen.findByTitle('深圳巴士集团 (metro-bus)'));
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(api.createClient).toHaveBeenCalledWith({
        name: '车载终端 0001',
        role: 'staff',
        operatorId: 'metro-bus',
      }),
    );
    const shown = await screen.findByRole('dialog', { name: 'Client secret' });
    expect(within(shown).getByText(/Shown this once only/)).toBeTruthy();
    expect(within(shown).getByTestId('client-secret').textContent).toContain('rt_secret_0123456789abcdef');
    await user.click(within(shown).getByRole('button', { name: 'Stored safely' }));
    await waitFor(() => expect(screen.queryByTestId('client-secret')).toBeNull());
  });

  it('narrows the scopes of a role when asked, and shows the refusal of the API', async () => {
    const api = adminApi();
    api.createClient.mockRejectedValue(
      apiError(400, 'validation_failed', 'a client needs at least one scope'),
    );
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /New client/ }));
    const dialog = await screen.findByRole('dialog');
    fill(within(dialog).getByLabelText('Name'), 'CDC');
    fireEvent.mouseDown(within(dialog).getByRole('combobox', { name: 'Kind' }));
    fireEvent.click(await screen.findByTitle('Health authority system'));
    expect(within(dialog).queryByRole('combobox', { name: 'Operator' })).toBeNull();
    const notify = within(dialog).getByLabelText('trace:notify') as HTMLInputElement;
    await waitFor(() => expect(notify.checked).toBe(true));
    await user.click(notify);
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(api.createClient).toHaveBeenCalledWith({
        name: 'CDC',
        role: 'official',
        scopes: ['case:write', 'trace:read', 'trace:reveal', 'status:clear'],
      }),
    );
    expect((await within(dialog).findByRole('alert')).textContent).toContain(
      'a client needs at least one scope',
    );
  });

  it('rotates a secret after confirming, showing the new one once', async () => {
    const api = adminApi();
    api.listClients.mockResolvedValue({ items: [machineClient()] });
    api.rotateClientSecret.mockResolvedValue(withSecret({ clientSecret: 'rt_secret_new' }));
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: 'New secret' }));
    const confirm = await screen.findByRole('dialog');
    expect(within(confirm).getByText(/The old secret stops working at once/)).toBeTruthy();
    expect(api.rotateClientSecret).not.toHaveBeenCalled();
    await user.click(within(confirm).getByRole('button', { name: 'New secret' }));
    await waitFor(() => expect(api.rotateClientSecret).toHaveBeenCalledWith('cli_staff_0001'));
    expect((await screen.findByTestId('client-secret')).textContent).toContain('rt_secret_new');
  });

  it("disables a client after confirming, and shows the API's refusal", async () => {
    const api = adminApi();
    api.listClients.mockResolvedValue({ items: [machineClient()] });
    api.disableClient
      .mockRejectedValueOnce(apiError(404, 'client_not_found', 'No such client.'))
      .mockResolvedValueOnce(machineClient({ disabledAt: '2026-11-21T00:00:00.000Z' }));
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: 'Disable' }));
    let confirm = await screen.findByRole('dialog');
    expect(within(confirm).getAllByText('Disable client 车载终端 0001?').length).toBeGreaterThan(0);
    await user.click(within(confirm).getByRole('button', { name: 'Disable' }));
    expect(await screen.findByText('No such client.')).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await user.click(screen.getByRole('button', { name: 'Disable' }));
    confirm = await screen.findByRole('dialog');
    await user.click(within(confirm).getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(api.disableClient).toHaveBeenCalledTimes(2));
    expect(await screen.findByText('Client 车载终端 0001 disabled')).toBeTruthy();
  });
});

describe('admin: operators', () => {
  const opsPath = '/admin?tab=operators';

  it('shows a loading state', async () => {
    const api = adminApi();
    api.listOperators.mockReturnValue(pending());
    renderConsole(api, { path: opsPath });
    await screen.findByRole('heading', { name: 'Transport operators' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('says what to do when there are none', async () => {
    const api = adminApi();
    api.listOperators.mockResolvedValue({ items: [] });
    renderConsole(api, { path: opsPath });
    expect(await screen.findByText(/No operators yet\. Choose "New operator"/)).toBeTruthy();
  });

  it("shows the API's message when the list fails", async () => {
    const api = adminApi();
    api.listOperators.mockRejectedValue(apiError(503, 'service_unavailable', 'The database is unavailable.'));
    renderConsole(api, { path: opsPath });
    expect((await screen.findByRole('alert')).textContent).toContain('The database is unavailable.');
  });

  it('lists operators and creates one, checking the id first', async () => {
    const api = adminApi();
    api.createOperator
      .mockRejectedValueOnce(apiError(409, 'operator_exists', 'An operator with this id exists.'))
      .mockResolvedValueOnce(operator('sz-ferry', '深圳轮渡'));
    const { user } = renderConsole(api, { path: opsPath });
    const row = (await screen.findByText('metro-bus')).closest('tr')!;
    expect(within(row).getByText('深圳巴士集团')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: /New operator/ }));
    const dialog = await screen.findByRole('dialog');
    fill(within(dialog).getByLabelText('Operator id'), 'SZ Ferry');
    fill(within(dialog).getByLabelText('Name'), '深圳轮渡');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText(/Use 2–40 lower-case letters/)).toBeTruthy();
    fill(within(dialog).getByLabelText('Operator id'), 'sz-ferry');
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect((await within(dialog).findByRole('alert')).textContent).toContain(
      'An operator with this id exists.',
    );
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(api.createOperator).toHaveBeenLastCalledWith('sz-ferry', '深圳轮渡'));
    expect(await screen.findByText('Operator 深圳轮渡 created')).toBeTruthy();
  });
});
