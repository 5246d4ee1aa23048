import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import dayjs from 'dayjs';
import { describe, expect, it, vi } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import {
  ADMIN,
  carrierRow,
  FLEET_MANAGER,
  OPERATOR_ID,
  operator,
  session,
  staffAccount,
} from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const path = '/operators';

function fleetApi(who = FLEET_MANAGER) {
  const api = fakeApi();
  api.refreshOfficialSession.mockResolvedValue(session(who));
  return api;
}

/** Opens an AntD select and picks the option showing `label`. */
async function choose(combobox: HTMLElement, label: string) {
  fireEvent.mouseDown(combobox);
  fireEvent.click(await screen.findByTitle(label));
}

/** Captures the file downloads a page starts (Blob URL + <a download> click). */
function captureDownloads() {
  Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:pdf'), revokeObjectURL: vi.fn() });
  const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
  return () => click.mock.contexts.map((a) => (a as HTMLAnchorElement).download);
}

const row = (plate: string) => screen.getByText(plate).closest('tr')!;

describe('carriers', () => {
  it('is in the menu of fleet managers and administrators', async () => {
    renderConsole(fleetApi());
    expect(await screen.findByRole('heading', { name: 'Carriers' })).toBeTruthy();
    expect(screen.getByRole('menuitem', { name: /Carriers/ })).toBeTruthy();
  });

  it('shows a loading state', async () => {
    const api = fleetApi();
    api.listCarriers.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByRole('heading', { name: 'Carriers' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('says what to do when the fleet is empty', async () => {
    renderConsole(fleetApi(), { path });
    expect(await screen.findByText(/No carriers yet\. Choose "New carrier" to add one/)).toBeTruthy();
  });

  it("shows the API's message when the list fails, and retries", async () => {
    const api = fleetApi();
    api.listCarriers.mockRejectedValueOnce(
      apiError(503, 'service_unavailable', 'The database is unavailable.'),
    );
    const { user } = renderConsole(api, { path });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The database is unavailable.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(api.listCarriers).toHaveBeenCalledTimes(2));
  });

  it("lists the operator's carriers in service, a server page at a time", async () => {
    const api = fleetApi();
    api.listCarriers.mockImplementation(async (q = {}) =>
      q.cursor
        ? { items: [carrierRow(3)], nextCursor: null }
        : {
            items: [carrierRow(1), carrierRow(2, { kind: 'taxi', route: null, codeGeneration: 2 })],
            nextCursor: 'c2',
          },
    );
    const { user } = renderConsole(api, { path });
    const first = (await screen.findByText('粤B10001')).closest('tr')!;
    expect(within(first).getByText('Bus')).toBeTruthy();
    expect(within(first).getByText('M375')).toBeTruthy();
    expect(within(first).getByText('In service')).toBeTruthy();
    expect(within(row('粤B10002')).getByText('Taxi')).toBeTruthy();
    expect(api.listCarriers).toHaveBeenCalledWith({ status: 'active', limit: 20 });
    // A fleet manager sees their own operator only: no operator filter, and the operators list is not asked for.
    expect(screen.queryByRole('combobox', { name: 'Operator' })).toBeNull();
    expect(api.listOperators).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: /Next/ }));
    await waitFor(() =>
      expect(api.listCarriers).toHaveBeenLastCalledWith({ status: 'active', limit: 20, cursor: 'c2' }),
    );
    expect(await screen.findByText('粤B10003')).toBeTruthy();
  });

  it('filters on the server by plate prefix, kind, status, city and route', async () => {
    const api = fleetApi();
    const { user } = renderConsole(api, { path });
    await screen.findByText(/No carriers yet/);
    fill(screen.getByLabelText('Plate'), ' 粤B1 ');
    fill(screen.getByLabelText('City'), '深圳');
    fill(screen.getByLabelText('Route'), 'M375');
    await choose(screen.getByRole('combobox', { name: 'Kind' }), 'Metro');
    await choose(screen.getByRole('combobox', { name: 'Status' }), 'All');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() =>
      expect(api.listCarriers).toHaveBeenLastCalledWith({
        kind: 'metro',
        city: '深圳',
        route: 'M375',
        plate: '粤B1',
        limit: 20,
      }),
    );
    expect(await screen.findByText(/No carriers match these filters/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(api.listCarriers).toHaveBeenLastCalledWith({ status: 'active', limit: 20 }));
  });

  it('lets administrators filter by operator and shows whose each carrier is', async () => {
    const api = fleetApi(ADMIN);
    api.listOperators.mockResolvedValue({ items: [operator(), operator('sz-taxi', '深圳出租')] });
    api.listCarriers.mockResolvedValue({
      items: [carrierRow(1), carrierRow(2, { operatorId: 'sz-taxi' })],
      nextCursor: null,
    });
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10002');
    expect(await within(row('粤B10002')).findByText('深圳出租')).toBeTruthy();
    expect(within(row('粤B10001')).getByText('深圳巴士集团')).toBeTruthy();
    await choose(screen.getByRole('combobox', { name: 'Operator' }), '深圳出租 (sz-taxi)');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() =>
      expect(api.listCarriers).toHaveBeenLastCalledWith({
        status: 'active',
        operatorId: 'sz-taxi',
        limit: 20,
      }),
    );
  });

  it('retires a carrier only after confirming', async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    api.retireCarrier.mockResolvedValue(carrierRow(1, { status: 'retired' }));
    const { user } = renderConsole(api, { path });
    await user.click(
      within(await screen.findByText('粤B10001').then((e) => e.closest('tr')!)).getByRole('button', {
        name: 'Retire',
      }),
    );
    let dialog = await screen.findByRole('dialog');
    expect(within(dialog).getAllByText('Retire carrier 粤B10001?').length).toBeGreaterThan(0);
    expect(within(dialog).getByText(/this cannot be undone/)).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.retireCarrier).not.toHaveBeenCalled();

    await user.click(within(row('粤B10001')).getByRole('button', { name: 'Retire' }));
    dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Retire' }));
    await waitFor(() => expect(api.retireCarrier).toHaveBeenCalledWith(1));
    await waitFor(() => expect(api.listCarriers).toHaveBeenCalledTimes(2));
  });

  it('re-issues a code only after a warning that the old posters stop working', async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    api.issueCode.mockResolvedValue({ carrierId: 1, generation: 2, token: 'tok', url: 'https://x/c?t=tok' });
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10001');
    await user.click(within(row('粤B10001')).getByRole('button', { name: 'Re-issue code' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/The old code stops working at once/)).toBeTruthy();
    expect(api.issueCode).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Re-issue' }));
    await waitFor(() => expect(api.issueCode).toHaveBeenCalledWith(1));
    expect(await screen.findByText(/粤B10001 has code version 2/)).toBeTruthy();
  });

  it("shows the API's message when re-issuing fails", async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    api.issueCode.mockRejectedValue(apiError(409, 'carrier_retired', 'This carrier is retired.'));
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10001');
    await user.click(within(row('粤B10001')).getByRole('button', { name: 'Re-issue code' }));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Re-issue' }));
    expect(await screen.findByText('This carrier is retired.')).toBeTruthy();
  });

  it("downloads one carrier's poster and A4 sheets of the selected rows", async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({
      items: [
        carrierRow(7),
        carrierRow(8),
        carrierRow(9, { status: 'retired', retiredAt: '2026-11-02T00:00:00.000Z' }),
      ],
      nextCursor: null,
    });
    const downloads = captureDownloads();
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10007');
    // Retired carriers have no poster and cannot be chosen for sheets.
    expect(within(row('粤B10009')).queryByRole('button', { name: 'Poster' })).toBeNull();
    expect((screen.getByLabelText('Select 粤B10009') as HTMLInputElement).disabled).toBe(true);

    await user.click(screen.getByRole('button', { name: 'Poster of 粤B10007 (download PDF)' }));
    await waitFor(() => expect(api.posterPdf).toHaveBeenCalledWith(7));
    await waitFor(() => expect(downloads()).toEqual(['poster-7.pdf']));

    await user.click(screen.getByLabelText('Select 粤B10007'));
    await user.click(screen.getByLabelText('Select 粤B10008'));
    await user.click(screen.getByRole('button', { name: /Print A4 sheets \(2 selected\)/ }));
    await waitFor(() => expect(api.posterSheetsPdf).toHaveBeenCalledWith({ ids: '7,8' }));
    await waitFor(() =>
      expect(downloads()).toEqual(['poster-7.pdf', `posters-${dayjs().format('YYYY-MM-DD')}.pdf`]),
    );
  });

  it("prints the filter's sheets after confirming, and shows the API's refusal", async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    api.posterSheetsPdf.mockRejectedValue(
      apiError(400, 'too_many_posters', '250 posters match; at most 200 fit in one file.'),
    );
    captureDownloads();
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10001');
    fill(screen.getByLabelText('Route'), 'M375');
    fill(screen.getByLabelText('Plate'), '粤B');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(api.listCarriers).toHaveBeenCalledTimes(2));
    await user.click(screen.getByRole('button', { name: /Print A4 sheets \(filter\)/ }));
    const dialog = await screen.findByRole('dialog');
    expect(api.posterSheetsPdf).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Make PDF' }));
    await waitFor(() => expect(api.posterSheetsPdf).toHaveBeenCalledWith({ plate: '粤B', route: 'M375' }));
    expect(await screen.findByText('250 posters match; at most 200 fit in one file.')).toBeTruthy();
  });

  it("creates a carrier in a drawer, showing the API's refusal", async () => {
    const api = fleetApi();
    api.createCarrier
      .mockRejectedValueOnce(
        apiError(409, 'carrier_plate_taken', 'The operator already has a carrier with this plate.'),
      )
      .mockResolvedValueOnce(carrierRow(5, { plate: '粤B55555' }));
    const { user } = renderConsole(api, { path });
    await screen.findByText(/No carriers yet/);
    await user.click(screen.getAllByRole('button', { name: /New carrier/ })[0]!);
    const drawer = await screen.findByRole('dialog');
    await user.click(within(drawer).getByRole('button', { name: 'Create' }));
    expect(await within(drawer).findByText('Enter the plate or car number')).toBeTruthy();
    fill(within(drawer).getByLabelText('Plate / number'), '粤B!!');
    expect(await within(drawer).findByText(/A plate is 2–16 letters or digits/)).toBeTruthy();
    fill(within(drawer).getByLabelText('Plate / number'), ' 粤B55555 ');
    fill(within(drawer).getByLabelText('City'), '深圳');
    await user.click(within(drawer).getByRole('button', { name: 'Create' }));
    expect((await within(drawer).findByRole('alert')).textContent).toContain(
      'The operator already has a carrier with this plate.',
    );
    await user.click(within(drawer).getByRole('button', { name: 'Create' }));
    await waitFor(() =>
      expect(api.createCarrier).toHaveBeenLastCalledWith({ kind: 'bus', plate: '粤B55555', city: '深圳' }),
    );
    expect(await screen.findByText('Carrier 粤B55555 created')).toBeTruthy();
  });

  it('edits only what changed; an emptied route is cleared', async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    api.updateCarrier.mockResolvedValue(carrierRow(1, { route: null }));
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10001');
    await user.click(within(row('粤B10001')).getByRole('button', { name: 'Edit' }));
    const drawer = await screen.findByRole('dialog');
    expect((within(drawer).getByLabelText('Route') as HTMLInputElement).value).toBe('M375');
    fill(within(drawer).getByLabelText('Route'), '');
    await user.click(within(drawer).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(api.updateCarrier).toHaveBeenCalledWith(1, { route: null }));
  });

  it('binds and unbinds staff accounts (unbinding after confirming)', async () => {
    const api = fleetApi();
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    let bound = ['cli_staff_0001'];
    api.carrierStaff.mockImplementation(async () => ({ carrierId: 1, staff: bound }));
    api.staffAccounts.mockResolvedValue({
      items: [staffAccount(1, { carriers: 1 }), staffAccount(2), staffAccount(3, { disabled: true })],
    });
    api.unbindStaff.mockImplementation(async (_id, clientId) => {
      bound = bound.filter((c) => c !== clientId);
      return { carrierId: 1, staff: bound };
    });
    api.bindStaff.mockImplementation(async (_id, clientId) => {
      bound = [...bound, clientId];
      return { carrierId: 1, staff: bound };
    });
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10001');
    await user.click(within(row('粤B10001')).getByRole('button', { name: 'Staff' }));
    const drawer = await screen.findByRole('dialog');
    expect(await within(drawer).findByText('司机 1')).toBeTruthy();
    expect(api.staffAccounts).toHaveBeenCalledWith(undefined);

    await user.click(within(drawer).getByRole('button', { name: 'Unbind' }));
    const confirm = (await screen.findAllByRole('dialog')).find((d) => d !== drawer)!;
    expect(within(confirm).getAllByText('Unbind 司机 1 from 粤B10001?').length).toBeGreaterThan(0);
    await user.click(within(confirm).getByRole('button', { name: 'Unbind' }));
    await waitFor(() => expect(api.unbindStaff).toHaveBeenCalledWith(1, 'cli_staff_0001'));
    expect(await within(drawer).findByText(/No staff bound yet/)).toBeTruthy();

    const select = within(drawer).getByRole('combobox', { name: 'Bind a staff account' });
    fireEvent.mouseDown(select);
    // Disabled accounts are not offered.
    expect(screen.queryByTitle('司机 3 (cli_staff_0003)')).toBeNull();
    fireEvent.click(await screen.findByTitle('司机 2 (cli_staff_0002)'));
    await user.click(within(drawer).getByRole('button', { name: 'Bind' }));
    await waitFor(() => expect(api.bindStaff).toHaveBeenCalledWith(1, 'cli_staff_0002'));
    expect(await within(drawer).findByText('司机 2')).toBeTruthy();
  });

  it("asks for the carrier's operator's staff accounts as an administrator", async () => {
    const api = fleetApi(ADMIN);
    api.listCarriers.mockResolvedValue({ items: [carrierRow(1)], nextCursor: null });
    api.staffAccounts.mockRejectedValue(apiError(404, 'operator_not_found', 'No such operator.'));
    const { user } = renderConsole(api, { path });
    await screen.findByText('粤B10001');
    await user.click(within(row('粤B10001')).getByRole('button', { name: 'Staff' }));
    const drawer = await screen.findByRole('dialog');
    expect((await within(drawer).findByRole('alert')).textContent).toContain('No such operator.');
    expect(api.staffAccounts).toHaveBeenCalledWith(OPERATOR_ID);
  });
});
