import type { AuditEntry } from '@ridetrace/shared';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import { CASE_ID, official, session } from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';

const path = '/audit';

function auditorApi() {
  const api = fakeApi();
  api.refreshOfficialSession.mockResolvedValue(
    session(official({ roles: ['auditor'], scopes: ['audit:read'] })),
  );
  return api;
}

const entry = (seq: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  seq,
  at: '2026-11-20T09:00:00.000Z',
  actor: 'official-1',
  actorKind: 'person',
  actorName: '王追踪',
  actorAgency: '深圳市疾控中心',
  action: 'reveal.request',
  caseId: CASE_ID,
  people: 0,
  requestId: null,
  detail: null,
  prevHash: 'a',
  hash: 'b',
  ...over,
});

describe('audit log', () => {
  it('shows a loading state', async () => {
    const api = auditorApi();
    api.audit.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByRole('heading', { name: 'Audit log' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
  });

  it('says so when the log is empty', async () => {
    renderConsole(auditorApi(), { path });
    expect(await screen.findByText(/Every action of officials is recorded here/)).toBeTruthy();
  });

  it("shows the API's message when the log cannot be read", async () => {
    const api = auditorApi();
    api.audit.mockRejectedValue(apiError(503, 'service_unavailable', 'The database is unavailable; retry.'));
    renderConsole(api, { path });
    expect((await screen.findByRole('alert')).textContent).toContain('The database is unavailable; retry.');
  });

  it('lists entries under the person who acted, pages on the server and filters by case', async () => {
    const api = auditorApi();
    api.audit.mockImplementation(async (q = {}) =>
      q.cursor
        ? { items: [entry(1, { action: 'case.open' })], nextCursor: null }
        : {
            items: [entry(3, { action: 'reveal.approve', actorName: '李主管' }), entry(2)],
            nextCursor: 'a2',
          },
    );
    const { user } = renderConsole(api, { path });
    const row = (await screen.findByText('reveal.approve')).closest('tr')!;
    expect(within(row).getByText('李主管')).toBeTruthy();
    expect(
      within(row)
        .getByRole('link', { name: CASE_ID.slice(0, 8) })
        .getAttribute('href'),
    ).toBe(`/cases/${CASE_ID}`);
    await user.click(screen.getByRole('button', { name: /Next/ }));
    expect(await screen.findByText('case.open')).toBeTruthy();
    expect(api.audit).toHaveBeenLastCalledWith({ limit: 20, cursor: 'a2' });

    fill(screen.getByLabelText('Case id'), 'not-a-uuid');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    expect(await screen.findByText('Enter a whole case id (UUID)')).toBeTruthy();
    fill(screen.getByLabelText('Case id'), CASE_ID);
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(api.audit).toHaveBeenLastCalledWith({ limit: 20, caseId: CASE_ID }));
  });
});
