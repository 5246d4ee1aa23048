import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import dayjs from 'dayjs';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import { aCase, CASE_ID, official, session } from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const openCases = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    aCase({ id: `5d1c1f43-7f0e-4c39-9a5a-00000000000${i}`, caseNumber: `SZ-2026-00${i}` }),
  );

describe('cases list', () => {
  it('shows a loading state', async () => {
    const api = fakeApi();
    api.listCases.mockReturnValue(pending());
    renderConsole(api, { path: '/cases' });
    await screen.findByRole('heading', { name: 'Cases' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('lists open cases with number, status, masked subject and window, each linking to its case', async () => {
    const api = fakeApi();
    renderConsole(api, { path: '/cases' });
    const link = await screen.findByRole('link', { name: 'SZ-2026-0042' });
    expect(link.getAttribute('href')).toBe(`/cases/${CASE_ID}`);
    const row = link.closest('tr')!;
    expect(within(row).getByText('Open')).toBeTruthy();
    expect(within(row).getByText('张*')).toBeTruthy();
    expect(within(row).getByText('138****0001')).toBeTruthy();
    expect(api.listCases).toHaveBeenCalledWith({ status: 'open', limit: 20 });
  });

  it('says what to do next when there are no cases', async () => {
    const api = fakeApi();
    api.listCases.mockResolvedValue({ items: [], nextCursor: null });
    renderConsole(api, { path: '/cases' });
    expect(await screen.findByText(/When a case is confirmed, choose "Open case"/)).toBeTruthy();
  });

  it("shows the API's message when the list fails, and retries", async () => {
    const api = fakeApi();
    api.listCases.mockRejectedValueOnce(
      apiError(503, 'service_unavailable', 'The database is unavailable; retry.'),
    );
    const { user } = renderConsole(api, { path: '/cases' });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The database is unavailable; retry.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('link', { name: 'SZ-2026-0042' })).toBeTruthy();
  });

  it('filters by status and pages on the server with the cursor', async () => {
    const api = fakeApi();
    api.listCases.mockImplementation(async (q = {}) =>
      q.cursor ? { items: openCases(1), nextCursor: null } : { items: openCases(3), nextCursor: 'c2' },
    );
    const { user } = renderConsole(api, { path: '/cases' });
    await screen.findByRole('link', { name: 'SZ-2026-002' });
    await user.click(screen.getByRole('button', { name: /Next/ }));
    await waitFor(() =>
      expect(api.listCases).toHaveBeenLastCalledWith({ status: 'open', limit: 20, cursor: 'c2' }),
    );
    expect(await screen.findByText('Page 2')).toBeTruthy();
    await user.click(screen.getByText('Closed'));
    await waitFor(() => expect(api.listCases).toHaveBeenLastCalledWith({ status: 'closed', limit: 20 }));
    expect(await screen.findByText('Page 1')).toBeTruthy();
  });

  it('searches by case number on the server, paging the matches', async () => {
    const api = fakeApi();
    api.listCases.mockImplementation(async (q = {}) => {
      if (q.caseNumber === 'XX-9') return { items: [], nextCursor: null };
      if (q.caseNumber === 'SZ-2026-003')
        return q.cursor
          ? { items: [aCase({ id: CASE_ID, caseNumber: 'SZ-2026-0031' })], nextCursor: null }
          : { items: openCases(5).slice(3, 4), nextCursor: 's1' };
      return { items: openCases(5), nextCursor: null };
    });
    const { user } = renderConsole(api, { path: '/cases' });
    await screen.findByRole('link', { name: 'SZ-2026-001' });
    const box = () => screen.getByRole('searchbox', { name: 'Search by case number' });
    await user.type(box(), ' SZ-2026-003 {Enter}');
    await waitFor(() => expect(screen.queryByRole('link', { name: 'SZ-2026-001' })).toBeNull());
    expect(api.listCases).toHaveBeenLastCalledWith({ status: 'open', caseNumber: 'SZ-2026-003', limit: 20 });
    expect(screen.getByRole('link', { name: 'SZ-2026-003' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: /Next/ }));
    expect(await screen.findByRole('link', { name: 'SZ-2026-0031' })).toBeTruthy();
    expect(api.listCases).toHaveBeenLastCalledWith({
      status: 'open',
      caseNumber: 'SZ-2026-003',
      limit: 20,
      cursor: 's1',
    });
    await user.clear(box());
    await user.type(box(), 'XX-9{Enter}');
    expect(await screen.findByText(/No case number starts with "XX-9"/)).toBeTruthy();
    expect(screen.getByText('Page 1')).toBeTruthy();
  });

  it('offers no "Open case" to an official without case:write', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(
      session(official({ roles: ['notifier'], scopes: ['trace:read', 'trace:notify'] })),
    );
    api.listCases.mockResolvedValue({ items: [], nextCursor: null });
    renderConsole(api, { path: '/cases' });
    expect(await screen.findByText('No cases yet.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Open case/ })).toBeNull();
  });
});

describe('open a case', () => {
  async function openDrawer() {
    const api = fakeApi();
    const r = renderConsole(api, { path: '/cases' });
    await r.user.click(await screen.findByRole('button', { name: /Open case/ }));
    const drawer = await screen.findByRole('dialog');
    await within(drawer).findByLabelText('Phone number');
    return { api, drawer, ...r };
  }

  /** Types the window into the range picker's two inputs (Enter confirms each, as a keyboard user would). */
  async function pickWindow(drawer: HTMLElement) {
    const from = dayjs().subtract(3, 'day').startOf('hour');
    const to = dayjs().subtract(1, 'day').startOf('hour');
    const [start, end] = within(drawer).getAllByPlaceholderText(/^(Start|End)$/) as HTMLInputElement[];
    fireEvent.mouseDown(start!);
    fireEvent.focus(start!);
    fill(start!, from.format('YYYY-MM-DD HH:mm'));
    fireEvent.keyDown(start!, { key: 'Enter', code: 'Enter', keyCode: 13 });
    fireEvent.focus(end!);
    fill(end!, to.format('YYYY-MM-DD HH:mm'));
    fireEvent.keyDown(end!, { key: 'Enter', code: 'Enter', keyCode: 13 });
    await waitFor(() => expect(end!.value).toBe(to.format('YYYY-MM-DD HH:mm')));
    return { from, to };
  }

  it('checks every field before calling the API', async () => {
    const { api, drawer, user } = await openDrawer();
    await user.click(
      within(drawer.closest('.ant-drawer-content')!).getByRole('button', { name: 'Open and trace' }),
    );
    expect(await within(drawer).findByText('Enter the phone number')).toBeTruthy();
    expect(within(drawer).getByText('Choose the infectious window')).toBeTruthy();
    expect(within(drawer).getByText('Enter the case number')).toBeTruthy();
    expect(within(drawer).getByText('Give the reason for the trace')).toBeTruthy();
    fill(within(drawer).getByLabelText('Phone number'), '12345');
    expect(await within(drawer).findByText('Enter a valid mainland China mobile number')).toBeTruthy();
    expect(api.openCase).not.toHaveBeenCalled();
  });

  it('opens a case by verified phone with a date-time window, then shows it', async () => {
    const { api, drawer, user } = await openDrawer();
    fill(within(drawer).getByLabelText('Phone number'), '13800000001');
    const { from, to } = await pickWindow(drawer);
    fill(within(drawer).getByLabelText('Case number'), 'SZ-2026-0042');
    fill(within(drawer).getByLabelText('Reason'), 'confirmed case');
    await user.click(
      within(drawer.closest('.ant-drawer-content')!).getByRole('button', { name: 'Open and trace' }),
    );
    await waitFor(() =>
      expect(api.openCase).toHaveBeenCalledWith({
        subject: { phone: '13800000001' },
        infectiousFrom: from.toISOString(),
        infectiousTo: to.toISOString(),
        caseNumber: 'SZ-2026-0042',
        reason: 'confirmed case',
      }),
    );
    expect(await screen.findByRole('heading', { name: 'Case SZ-2026-0042' })).toBeTruthy();
  });

  it('opens a case by ID document, and shows the API refusal in its words', async () => {
    const { api, drawer, user } = await openDrawer();
    api.openCase.mockRejectedValue(
      apiError(404, 'case_subject_unknown', 'No verified registration has this ID number.'),
    );
    await user.click(within(drawer).getByLabelText('ID document'));
    fill(await within(drawer).findByLabelText('Document number'), '11010519491231002X');
    await pickWindow(drawer);
    fill(within(drawer).getByLabelText('Case number'), 'SZ-2026-0043');
    fill(within(drawer).getByLabelText('Reason'), 'confirmed case');
    await user.click(
      within(drawer.closest('.ant-drawer-content')!).getByRole('button', { name: 'Open and trace' }),
    );
    expect((await within(drawer.closest('.ant-drawer-content')!).findByRole('alert')).textContent).toContain(
      'No verified registration has this ID number.',
    );
    expect(api.openCase.mock.calls[0]![0].subject).toEqual({
      idType: 'cn_id',
      idNumber: '11010519491231002X',
    });
  });
});
