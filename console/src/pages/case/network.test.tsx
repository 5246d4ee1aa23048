import type { Contact, Exposure } from '@ridetrace/shared';
import { screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, fakeApi, type FakeApi } from '../../../test/fake-api.js';
import { CASE_ID, exposure, exposurePage, revealRequest, session, TRACER } from '../../../test/fixtures.js';
import { renderConsole } from '../../../test/render.js';
import { MAX_NETWORK_NODES, networkOf, networkShown } from './NetworkGraph.js';

const path = `/cases/${CASE_ID}`;
const NETWORK_CALL = { degree: 2, limit: 200 } as const;

/** A degree-2 person reached through the degree-1 persons `via`. */
function secondary(n: number, via: string[], level: Exposure['level'] = 'possible'): Exposure {
  const base = exposure(n);
  const contact = base.contacts[0]!;
  return {
    ...base,
    personId: `q-${n}`,
    name: `周*${n}`,
    degree: 2,
    level,
    contacts: via.map((v): Contact => ({ ...contact, degree: 2, via: v, level })),
  };
}

interface GraphOption {
  legend: { data: string[] };
  series: {
    type: string;
    layout: string;
    categories: { name: string; itemStyle: { color: string } }[];
    data: { id: string; name: string; category: number }[];
    links: { source: string; target: string; lineStyle: { type: string } }[];
  }[];
}

/** Opens the case, switches the exposures to degrees 1 + 2 and returns the network card. */
async function openNetwork(api: FakeApi) {
  const r = renderConsole(api, { path });
  await screen.findByRole('heading', { name: 'Case SZ-2026-0042' });
  expect(screen.queryByText('Degree-2 contact network')).toBeNull();
  await r.user.click(screen.getByText('Degrees 1 + 2'));
  const card = (await screen.findByText('Degree-2 contact network')).closest('.ant-card') as HTMLElement;
  return { ...r, card };
}

/** Degree 1 (table pages) as the fixtures have it; the network's one large read answers `network`. */
function withNetwork(api: FakeApi, network: () => Promise<ReturnType<typeof exposurePage>>) {
  api.exposures.mockImplementation((_id, q) =>
    q?.limit === NETWORK_CALL.limit ? network() : Promise.resolve(exposurePage([exposure(1)])),
  );
}

describe('degree-2 network graph', () => {
  afterEach(() => vi.restoreAllMocks());

  it('draws the case, its contacts and theirs, masked, coloured by level', async () => {
    const api = fakeApi();
    const items = [exposure(1), exposure(2), secondary(3, ['p-1']), secondary(4, ['p-1', 'p-2'], 'close')];
    withNetwork(api, () => Promise.resolve(exposurePage(items, { degree: 2 })));
    const { card } = await openNetwork(api);

    const chart = await within(card).findByRole('img', {
      name: 'Contact network: the case, 2 degree-1 contacts, 2 degree-2 contacts',
    });
    const option = JSON.parse(chart.getAttribute('data-option')!) as GraphOption;
    const graph = option.series[0]!;
    expect(graph).toMatchObject({ type: 'graph', layout: 'force' });
    expect(graph.categories.map((c) => [c.name, c.itemStyle.color])).toEqual([
      ['Case', '#a8071a'],
      ['Close', '#f5222d'],
      ['Possible', '#faad14'],
    ]);
    expect(option.legend.data).toEqual(['Case', 'Close', 'Possible']);
    expect(graph.data.map((n) => [n.id, n.name, n.category])).toEqual([
      ['case', 'Case SZ-2026-0042', 0],
      ['p-1', '陈*1', 1],
      ['p-2', '陈*2', 2],
      ['q-4', '周*4', 1],
      ['q-3', '周*3', 2],
    ]);
    expect(graph.links.map((l) => `${l.source}→${l.target} ${l.lineStyle.type}`)).toEqual([
      'case→p-1 solid',
      'case→p-2 dashed',
      'p-1→q-4 solid',
      'p-2→q-4 solid',
      'p-1→q-3 dashed',
    ]);
    expect(api.exposures).toHaveBeenCalledWith(CASE_ID, NETWORK_CALL);
    expect(within(card).queryByText(/the graph shows/)).toBeNull();
  });

  it('shows revealed names with a reveal grant', async () => {
    const api = fakeApi();
    api.refreshOfficialSession.mockResolvedValue(session(TRACER));
    api.revealRequests.mockResolvedValue({
      items: [revealRequest({ state: 'approved' })],
      nextCursor: null,
    });
    withNetwork(api, () =>
      Promise.resolve(
        exposurePage([exposure(1, { name: '陈一一' }), { ...secondary(2, ['p-1']), name: '周二二' }], {
          degree: 2,
          revealed: true,
        }),
      ),
    );
    const { card } = await openNetwork(api);
    const chart = await within(card).findByRole('img', { name: /Contact network/ });
    const option = JSON.parse(chart.getAttribute('data-option')!) as GraphOption;
    expect(option.series[0]!.data.map((n) => n.name)).toEqual(['Case SZ-2026-0042', '陈一一', '周二二']);
    expect(api.exposures).toHaveBeenCalledWith(CASE_ID, { ...NETWORK_CALL, reveal: true });
  });

  it('says so when nobody was reached through the contacts', async () => {
    const api = fakeApi();
    withNetwork(api, () => Promise.resolve(exposurePage([exposure(1)], { degree: 2 })));
    const { card } = await openNetwork(api);
    expect(await within(card).findByText('No degree-2 contacts found.')).toBeTruthy();
    expect(within(card).queryByRole('img')).toBeNull();
  });

  it("shows the API's message when the network cannot be read, and retries", async () => {
    const api = fakeApi();
    let fail = true;
    withNetwork(api, () =>
      fail
        ? Promise.reject(apiError(403, 'forbidden', 'Outside your jurisdiction.'))
        : Promise.resolve(exposurePage([exposure(1), secondary(2, ['p-1'])], { degree: 2 })),
    );
    const { card, user } = await openNetwork(api);
    const alert = await within(card).findByRole('alert');
    expect(within(alert).getByText('Could not load the contact network')).toBeTruthy();
    expect(within(alert).getByText('Outside your jurisdiction.')).toBeTruthy();
    fail = false;
    await user.click(within(alert).getByRole('button', { name: /Retry/ }));
    expect(await within(card).findByRole('img', { name: /Contact network/ })).toBeTruthy();
  });

  it('caps a large network and says how many are drawn', async () => {
    const api = fakeApi();
    const first = Array.from({ length: 150 }, (_, i) => exposure(i + 1));
    const second = Array.from({ length: 50 }, (_, i) => secondary(i + 1, [`p-${i + 1}`]));
    withNetwork(api, () =>
      Promise.resolve(exposurePage([...first, ...second], { degree: 2, total: 260, nextCursor: 'more' })),
    );
    const { card } = await openNetwork(api);
    expect(
      await within(card).findByText(
        `Many persons: the graph shows ${MAX_NETWORK_NODES} of 260 (degree 1 first, close contacts first); the table above lists all.`,
      ),
    ).toBeTruthy();
    // Half the places go to degree 1 first; degree 2 takes what it needs; degree 1 fills the rest.
    expect(
      within(card).getByRole('img', {
        name: 'Contact network: the case, 95 degree-1 contacts, 25 degree-2 contacts',
      }),
    ).toBeTruthy();
  });
});

describe('networkOf', () => {
  it('caps: half to degree 1 (close first), then degree-2 persons of drawn ones, then the rest of degree 1', () => {
    const items = [
      exposure(2),
      exposure(1),
      exposure(4),
      exposure(3),
      secondary(5, ['p-1']),
      secondary(6, ['p-2']),
      secondary(7, ['p-9']),
    ];
    const net = networkOf(items, 7, 5);
    expect(net.first.map((e) => e.personId)).toEqual(['p-1', 'p-3', 'p-2']);
    expect(net.second.map((e) => e.personId)).toEqual(['q-5', 'q-6']);
    expect(net.links).toEqual([
      { from: 'p-1', to: 'q-5', level: 'possible' },
      { from: 'p-2', to: 'q-6', level: 'possible' },
    ]);
    expect(networkShown(net)).toBe(5);
    expect(net.total).toBe(7);
  });

  it('links a degree-2 person once per degree-1 person, at the closest level of their rides', () => {
    const p = secondary(9, ['p-1', 'p-1']);
    p.contacts[1] = { ...p.contacts[1]!, level: 'close' };
    const net = networkOf([exposure(1), p], 2);
    expect(net.links).toEqual([{ from: 'p-1', to: 'q-9', level: 'close' }]);
  });
});
