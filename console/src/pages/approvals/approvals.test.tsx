import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import { CASE_ID, revealRequest } from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const path = '/approvals';

describe('approvals inbox', () => {
  it('shows a loading state', async () => {
    const api = fakeApi();
    api.revealRequests.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByRole('heading', { name: 'Reveal approvals' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('says so when nothing awaits approval', async () => {
    renderConsole(fakeApi(), { path });
    expect(await screen.findByText(/No requests await approval/)).toBeTruthy();
  });

  it("shows the API's message when the inbox cannot be read", async () => {
    const api = fakeApi();
    api.revealRequests.mockRejectedValue(apiError(403, 'forbidden', 'This needs the reveal:approve scope.'));
    renderConsole(api, { path });
    expect((await screen.findByRole('alert')).textContent).toContain('This needs the reveal:approve scope.');
  });

  it('lists pending requests with case, requester and reason; approves one with a note', async () => {
    const api = fakeApi();
    api.revealRequests.mockResolvedValue({ items: [revealRequest()], nextCursor: null });
    api.approveReveal.mockResolvedValue(revealRequest({ state: 'approved' }));
    const { user } = renderConsole(api, { path });
    const link = await screen.findByRole('link', { name: 'SZ-2026-0042' });
    expect(link.getAttribute('href')).toBe(`/cases/${CASE_ID}`);
    const row = link.closest('tr')!;
    expect(within(row).getByText('王追踪')).toBeTruthy();
    expect(within(row).getByText('需要联系密接人员')).toBeTruthy();
    expect(api.revealRequests).toHaveBeenCalledWith({ state: 'pending', limit: 20 });

    await user.click(within(row).getByRole('button', { name: /Approve/ }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText('Approve the reveal?')).toBeTruthy();
    fill(within(dialog).getByLabelText('Note (optional)'), 'ok for 24 h');
    await user.click(within(dialog).getByRole('button', { name: /Approve/ }));
    await waitFor(() => expect(api.approveReveal).toHaveBeenCalledWith(revealRequest().id, 'ok for 24 h'));
    expect(await screen.findByText('Approved')).toBeTruthy();
  });

  it("refuses one; the API's refusal stays in the dialog", async () => {
    const api = fakeApi();
    api.revealRequests.mockResolvedValue({ items: [revealRequest()], nextCursor: null });
    api.refuseReveal.mockRejectedValue(
      apiError(409, 'reveal_request_decided', 'This request was already decided.'),
    );
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /Refuse/ }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: /Refuse/ }));
    await waitFor(() => expect(api.refuseReveal).toHaveBeenCalledWith(revealRequest().id, undefined));
    expect((await within(dialog).findByRole('alert')).textContent).toContain(
      'This request was already decided.',
    );
  });
});
