import type { AuditEntry, AuditVerify } from '@ridetrace/shared';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import dayjs from 'dayjs';
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
    api.verifyAudit.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByRole('heading', { name: 'Audit log' });
    expect(document.querySelector('.ant-table-wrapper .ant-spin-spinning')).not.toBeNull();
    expect(document.querySelector('.ant-skeleton-active')).not.toBeNull();
  });

  it('says so when the log is empty', async () => {
    renderConsole(auditorApi(), { path });
    expect(await screen.findByText(/Every action of officials is recorded here/)).toBeTruthy();
    expect(await screen.findByText('Intact: 0 entries checked')).toBeTruthy();
    expect(screen.getByText(/No signed checkpoint yet/)).toBeTruthy();
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
    expect(api.audit).toHaveBeenLastCalledWith({ limit: 20, order: 'desc', cursor: 'a2' });

    fill(screen.getByLabelText('Case id'), 'not-a-uuid');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    expect(await screen.findByText('Enter a whole case id (UUID)')).toBeTruthy();
    fill(screen.getByLabelText('Case id'), CASE_ID);
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() =>
      expect(api.audit).toHaveBeenLastCalledWith({ limit: 20, order: 'desc', caseId: CASE_ID }),
    );
  });

  it('filters by actor, action and time on the server', async () => {
    const api = auditorApi();
    api.audit.mockImplementation(async (q = {}) => ({
      items: q.action ? [entry(7, { action: q.action })] : [entry(1, { action: 'case.open' })],
      nextCursor: null,
    }));
    const { user } = renderConsole(api, { path });
    await screen.findByText('case.open');
    fill(screen.getByLabelText('Actor'), ' official-1 ');
    // Typed, as a keyboard user narrows the list (the list is virtual: jsdom renders only its first rows).
    const action = screen.getByRole('combobox', { name: 'Action' });
    fireEvent.mouseDown(action);
    fill(action, 'audit.verify');
    fireEvent.click(await screen.findByTitle('audit.verify'));
    const from = dayjs().subtract(2, 'day').startOf('minute');
    const to = dayjs().subtract(1, 'hour').startOf('minute');
    const [start, end] = screen.getAllByPlaceholderText(/^(From|To)$/) as HTMLInputElement[];
    fireEvent.mouseDown(start!);
    fireEvent.focus(start!);
    fill(start!, from.format('YYYY-MM-DD HH:mm'));
    fireEvent.keyDown(start!, { key: 'Enter', code: 'Enter', keyCode: 13 });
    fireEvent.focus(end!);
    fill(end!, to.format('YYYY-MM-DD HH:mm'));
    fireEvent.keyDown(end!, { key: 'Enter', code: 'Enter', keyCode: 13 });
    await waitFor(() => expect(end!.value).toBe(to.format('YYYY-MM-DD HH:mm')));
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() =>
      expect(api.audit).toHaveBeenLastCalledWith({
        order: 'desc',
        limit: 20,
        actor: 'official-1',
        action: 'audit.verify',
        from: from.toISOString(),
        to: to.toISOString(),
      }),
    );
    expect(await screen.findByText('audit.verify', { selector: '.ant-tag' })).toBeTruthy();
  });

  it('says when nothing matches the filters, and clears them', async () => {
    const api = auditorApi();
    api.audit.mockImplementation(async (q = {}) => ({
      items: q.actor ? [] : [entry(1, { action: 'case.open' })],
      nextCursor: null,
    }));
    const { user } = renderConsole(api, { path });
    await screen.findByText('case.open');
    fill(screen.getByLabelText('Actor'), 'nobody');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    expect(await screen.findByText(/No audit entries match these filters/)).toBeTruthy();
    expect(api.audit).toHaveBeenLastCalledWith({ limit: 20, order: 'desc', actor: 'nobody' });
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(await screen.findByText('case.open')).toBeTruthy();
    expect(api.audit).toHaveBeenLastCalledWith({ limit: 20, order: 'desc' });
    expect((screen.getByLabelText('Actor') as HTMLInputElement).value).toBe('');
  });
});

const verified = (over: Partial<AuditVerify> = {}): AuditVerify => ({
  ok: true,
  entries: 120,
  fromSeq: 881,
  toSeq: 1000,
  anchor: 'checkpoint',
  firstBroken: null,
  lastCheckpoint: {
    seq: 880,
    at: '2026-11-20T08:00:00.000Z',
    keyId: '3f2a9c0d11e4b7a8',
    hash: 'c'.repeat(64),
    file: 'checkpoints-2026-11.jsonl',
    verified: true,
  },
  ...over,
});

describe('audit chain verification', () => {
  it('shows an intact chain, the range checked and the last signed checkpoint; verifies again on request', async () => {
    const api = auditorApi();
    api.verifyAudit.mockResolvedValue(verified());
    const { user } = renderConsole(api, { path });
    expect(await screen.findByText('Intact: 120 entries checked')).toBeTruthy();
    expect(screen.getByText('#881 – #1000')).toBeTruthy();
    expect(screen.getByText('the last signed checkpoint')).toBeTruthy();
    expect(screen.getByText(/entry #880 · .* · key 3f2a9c0d11e4b7a8/)).toBeTruthy();
    expect(screen.getByText('signature valid')).toBeTruthy();
    expect(api.verifyAudit).toHaveBeenCalledTimes(1);
    const again = screen.getByRole('button', { name: /Verify again/ });
    await waitFor(() => expect(again.classList.contains('ant-btn-loading')).toBe(false));
    await user.click(again);
    await waitFor(() => expect(api.verifyAudit).toHaveBeenCalledTimes(2));
  });

  it('shows where the chain is broken and why, and a bounded check', async () => {
    const api = auditorApi();
    api.verifyAudit.mockResolvedValue(
      verified({
        ok: false,
        anchor: 'none',
        firstBroken: { seq: 42, reason: 'hash' },
        lastCheckpoint: { ...verified().lastCheckpoint!, verified: false },
      }),
    );
    renderConsole(api, { path });
    expect(
      await screen.findByText(
        'Broken at entry #42 (its content does not match its hash: it may have been changed)',
      ),
    ).toBeTruthy();
    expect(screen.getByText(/the newest entries only; run pnpm audit:verify/)).toBeTruthy();
    expect(screen.getByText('signature not valid')).toBeTruthy();
  });

  it("shows the API's message when the chain cannot be verified", async () => {
    const api = auditorApi();
    api.verifyAudit.mockRejectedValue(
      apiError(503, 'service_unavailable', 'The database is unavailable; retry.'),
    );
    renderConsole(api, { path });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not verify the audit chain');
    expect(alert.textContent).toContain('The database is unavailable; retry.');
  });
});
