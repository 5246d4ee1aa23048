import { screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, fakeApi, pending } from '../../../test/fake-api.js';
import {
  aCase,
  CASE_ID,
  exposure,
  exposurePage,
  notification,
  notifications,
  official,
  revealRequest,
  rides,
  session,
  TRACER,
} from '../../../test/fixtures.js';
import { fill, renderConsole } from '../../../test/render.js';
import { timelineOption } from './RidesTimeline.js';

const path = `/cases/${CASE_ID}`;
const card = (title: string) => screen.getByText(title).closest('.ant-card') as HTMLElement;

describe('case view', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows a loading state', async () => {
    const api = fakeApi();
    api.getCase.mockReturnValue(pending());
    renderConsole(api, { path });
    await screen.findByTestId('who-am-i');
    await waitFor(() => expect(document.querySelector('.ant-spin-spinning')).not.toBeNull());
    expect(screen.queryByRole('heading', { name: /Case SZ/ })).toBeNull();
  });

  it("shows the API's message for a case that cannot be read", async () => {
    const api = fakeApi();
    api.getCase.mockRejectedValue(apiError(404, 'case_not_found', 'No such case.'));
    renderConsole(api, { path });
    expect(await screen.findByText('Could not load the case')).toBeTruthy();
    expect(screen.getByText('No such case.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Back to the cases' })).toBeTruthy();
  });

  it('shows the facts with the subject masked, the rides on a timeline and the masked exposures', async () => {
    const api = fakeApi();
    api.exposures.mockResolvedValue(exposurePage([exposure(1), exposure(2)]));
    renderConsole(api, { path });
    expect(await screen.findByRole('heading', { name: 'Case SZ-2026-0042' })).toBeTruthy();
    expect(screen.getByText(/张\* · 138\*\*\*\*0001/)).toBeTruthy();

    // The timeline: a lane per carrier; the rides also as a table, with their flags.
    const chart = await screen.findByRole('img', { name: /Ride timeline: 3 rides/ });
    const option = JSON.parse(chart.getAttribute('data-option')!) as { yAxis: { data: string[] } };
    expect(option.yAxis.data).toEqual(['Bus 粤B12345 · M375', 'Taxi 粤B88888']);
    const rideTable = card('Rides in the infectious window');
    expect(within(rideTable).getAllByText('Late offline scan')).toHaveLength(1);

    // Exposures: masked, with level and flags; the call asked for nothing unmasked.
    const people = card('Exposed persons');
    expect(await within(people).findByText('陈*1')).toBeTruthy();
    expect(within(people).getByText('139****0001')).toBeTruthy();
    expect(within(people).getByText('Close')).toBeTruthy();
    expect(within(people).getByText('Possible')).toBeTruthy();
    expect(within(people).getByText('Carrier switch')).toBeTruthy();
    expect(within(people).getByText('Masked')).toBeTruthy();
    expect(within(people).getByText('2 persons; 3 rides of the case')).toBeTruthy();
    expect(api.exposures).toHaveBeenCalledWith(CASE_ID, { degree: 1, limit: 20 });
    expect(api.getCase).toHaveBeenCalledWith(CASE_ID, {});
  });

  it('says what to do when nothing was found and nothing sent yet', async () => {
    const api = fakeApi();
    api.caseRides.mockResolvedValue({ caseId: CASE_ID, jurisdiction: null, items: [] });
    renderConsole(api, { path });
    expect(await screen.findByText('The subject has no rides in the infectious window.')).toBeTruthy();
    expect(await screen.findByText('Nobody rode with the case.')).toBeTruthy();
    expect(await screen.findByText(/No notifications sent yet/)).toBeTruthy();
  });

  it('lists unverified claims on the subject', async () => {
    const api = fakeApi();
    api.getCase.mockResolvedValue(
      aCase({ unverifiedClaims: [{ passengerId: 'reg-77', name: '张*', phone: '138****0001' }] }),
    );
    renderConsole(api, { path });
    expect(await screen.findByText('1 unverified registrations claim to be the subject')).toBeTruthy();
    expect(screen.getByText('reg-77')).toBeTruthy();
  });

  it('switches to degrees 1 and 2, asking the server again from the first page', async () => {
    const api = fakeApi();
    api.exposures.mockImplementation(async (_id, q = {}) =>
      q.cursor
        ? exposurePage([exposure(3)], { total: 3 })
        : exposurePage([exposure(1), exposure(2)], { total: 3, nextCursor: 'e2' }),
    );
    const { user } = renderConsole(api, { path });
    const people = await screen
      .findByText('Exposed persons')
      .then((t) => t.closest('.ant-card') as HTMLElement);
    await user.click(await within(people).findByRole('button', { name: /Next/ }));
    await waitFor(() =>
      expect(api.exposures).toHaveBeenLastCalledWith(CASE_ID, { degree: 1, limit: 20, cursor: 'e2' }),
    );
    await user.click(within(people).getByText('Degrees 1 + 2'));
    // The table's first page of degree 2 (the network graph reads its own larger page beside it).
    await waitFor(() => {
      const tableCalls = api.exposures.mock.calls.filter(([, q]) => q?.limit === 20);
      expect(tableCalls.at(-1)).toEqual([CASE_ID, { degree: 2, limit: 20 }]);
    });
  });

  it('requests a reveal with a reason, then shows it awaiting approval', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(TRACER));
    api.requestReveal.mockImplementation(async (_id, reason) => {
      api.revealRequests.mockResolvedValue({ items: [revealRequest({ reason })], nextCursor: null });
      return revealRequest({ reason });
    });
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /Request reveal/ }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Send request' }));
    expect(await within(dialog).findByText('Please give a reason')).toBeTruthy();
    fill(within(dialog).getByLabelText('Reason'), 'must phone the close contacts');
    await user.click(within(dialog).getByRole('button', { name: 'Send request' }));
    await waitFor(() =>
      expect(api.requestReveal).toHaveBeenCalledWith(CASE_ID, 'must phone the close contacts'),
    );
    expect(await screen.findByRole('button', { name: /Reveal awaiting approval/ })).toHaveProperty(
      'disabled',
      true,
    );
  });

  it('notices when a pending reveal request is approved, without a reload', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(TRACER));
    api.revealRequests.mockResolvedValue({ items: [revealRequest()], nextCursor: null });
    renderConsole(api, { path });
    expect(await screen.findByRole('button', { name: /Reveal awaiting approval/ })).toBeTruthy();
    const reads = api.revealRequests.mock.calls.length;
    api.revealRequests.mockResolvedValue({ items: [revealRequest({ state: 'approved' })], nextCursor: null });
    // The next read comes by itself within REVEAL_POLL_MS.
    expect(await screen.findByText(/Unmasked identities shown/)).toBeTruthy();
    expect(api.revealRequests.mock.calls.length).toBeGreaterThan(reads);
    await waitFor(() => expect(api.getCase).toHaveBeenLastCalledWith(CASE_ID, { reveal: true }));
  });

  it('shows unmasked identities with a live grant, and exports them as CSV', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(TRACER));
    api.revealRequests.mockResolvedValue({
      items: [
        revealRequest({
          state: 'approved',
          decidedBy: { id: official().id, kind: 'person', name: '李主管', agency: null },
        }),
      ],
      nextCursor: null,
    });
    api.getCase.mockResolvedValue(aCase({ subject: { name: '张三', phone: '13800000001', passengers: 1 } }));
    api.exposures.mockResolvedValue(
      exposurePage([exposure(1, { name: '陈一', phone: '13900000001', idNumber: '11010519491231002X' })], {
        revealed: true,
      }),
    );
    const createUrl = vi.fn(() => 'blob:csv');
    Object.assign(URL, { createObjectURL: createUrl, revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const { user } = renderConsole(api, { path });
    expect(await screen.findByText('陈一')).toBeTruthy();
    expect(screen.getByText('11010519491231002X')).toBeTruthy();
    expect(screen.getByText('Revealed')).toBeTruthy();
    expect(screen.getByText(/Unmasked identities shown/)).toBeTruthy();
    expect(api.getCase).toHaveBeenLastCalledWith(CASE_ID, { reveal: true });
    expect(api.exposures).toHaveBeenLastCalledWith(CASE_ID, { degree: 1, limit: 20, reveal: true });
    expect(screen.queryByRole('button', { name: /Request reveal/ })).toBeNull();

    await user.click(screen.getByRole('button', { name: /Export CSV/ }));
    await waitFor(() => expect(api.exposuresCsv).toHaveBeenCalledWith(CASE_ID, 1, { reveal: true }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const anchor = click.mock.contexts[0] as HTMLAnchorElement;
    expect(anchor.download).toBe('SZ-2026-0042-exposures-degree1-revealed.csv');
    expect(createUrl).toHaveBeenCalled();
  });

  it('notifies after confirming, then follows delivery until every message is sent', async () => {
    const api = fakeApi();
    let state: 'queued' | 'sent' = 'queued';
    api.notify.mockImplementation(async () => ({
      caseId: CASE_ID,
      degree: 1,
      exposed: 2,
      queued: 2,
      alreadyQueued: 0,
      byDegree: {
        1: { exposed: 2, queued: 2, alreadyQueued: 0 },
        2: { exposed: 0, queued: 0, alreadyQueued: 0 },
      },
    }));
    api.caseNotifications.mockImplementation(async () =>
      api.notify.mock.calls.length === 0
        ? notifications([])
        : notifications([
            notification(1, { state }),
            notification(2, {
              channel: 'sms',
              state: state === 'sent' ? 'failed' : 'queued',
              lastError: 'gateway 500',
            }),
          ]),
    );
    const { user } = renderConsole(api, { path });
    expect(await screen.findByText(/No notifications sent yet/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: /Notify/ }));
    const confirm = await screen.findByRole('dialog');
    expect(within(confirm).getByText(/Every degree-1 exposed person gets an exposure notice/)).toBeTruthy();
    await user.click(within(confirm).getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(api.notify).toHaveBeenCalledWith(CASE_ID, { degree: 1 }));
    expect(await screen.findByText('2 newly queued; 0 notified before.')).toBeTruthy();
    expect((await screen.findByTestId('app-queued')).textContent).toBe('1');
    expect(screen.getByTestId('sms-queued').textContent).toBe('1');
    expect(screen.getByText('Sending; updating automatically…')).toBeTruthy();
    // The gateways answer: the next poll shows it without a reload.
    state = 'sent';
    await waitFor(() => expect(screen.getByTestId('app-sent').textContent).toBe('1'), { timeout: 10_000 });
    expect(screen.getByTestId('sms-failed').textContent).toBe('1');
    expect(screen.getByText('gateway 500')).toBeTruthy();
    expect(screen.queryByText('Sending; updating automatically…')).toBeNull();
  });

  it('closes the case after confirming, with an optional note', async () => {
    const api = fakeApi();
    api.closeCase.mockImplementation(async () => {
      api.getCase.mockResolvedValue(aCase({ status: 'closed', closedAt: '2026-11-21T00:00:00.000Z' }));
      return aCase({ status: 'closed' });
    });
    const { user } = renderConsole(api, { path });
    await user.click(await screen.findByRole('button', { name: /Close case/ }));
    const dialog = await screen.findByRole('dialog');
    fill(within(dialog).getByLabelText('Note (optional)'), 'recovered');
    await user.click(within(dialog).getByRole('button', { name: /Close case/ }));
    await waitFor(() => expect(api.closeCase).toHaveBeenCalledWith(CASE_ID, 'recovered'));
    await waitFor(() => expect(screen.queryByRole('button', { name: /Close case/ })).toBeNull());
    expect(screen.queryByRole('button', { name: /Notify/ })).toBeNull();
  });
});

describe('timeline option', () => {
  it('keeps operator text out of the tooltip markup', () => {
    const t = (k: string) => k;
    const [ride] = rides();
    const evil = { ...ride!, carrier: { ...ride!.carrier, plate: '<img src=x onerror=alert(1)>' } };
    const option = timelineOption(
      [evil],
      { from: aCase().infectiousFrom, to: aCase().infectiousTo },
      t as never,
    ) as {
      tooltip: { formatter: (p: { dataIndex: number }) => string };
    };
    const html = option.tooltip.formatter({ dataIndex: 0 });
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('style=');
  });
});
