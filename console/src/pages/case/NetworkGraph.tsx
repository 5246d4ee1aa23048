import type { Exposure } from '@ridetrace/shared';
import { useQuery } from '@tanstack/react-query';
import { Alert, Empty, Space, Spin } from 'antd';
import { lazy, Suspense, useMemo } from 'react';
import { useApi } from '../../api.js';
import type { ChartOption } from '../../components/EChart.js';
import { escapeHtml } from '../../format.js';
import { useT, type Translate } from '../../i18n/index.js';
import { LoadError } from '../../components/LoadError.js';

// The same lazily loaded chart chunk as the timeline: ECharts arrives after the case's tables.
const EChart = lazy(() => import('../../components/EChart.js').then((m) => ({ default: m.EChart })));

/** Persons drawn at most: a force layout of more is unreadable and slow; the table lists everyone. */
export const MAX_NETWORK_NODES = 120;
/** One read of the exposures (the API's largest page): the graph never pages. */
const NETWORK_FETCH = 200;

const COLOURS = { case: '#a8071a', close: '#f5222d', possible: '#faad14' } as const;

export interface Network {
  first: Exposure[];
  second: Exposure[];
  /** Degree-1 person id → degree-2 person id, with the closest level of the rides that link them. */
  links: { from: string; to: string; level: Exposure['level'] }[];
  /** Persons in the reply (all pages): more than drawn means the graph was capped. */
  total: number;
}

const byLevel = (a: Exposure, b: Exposure) => (a.level === b.level ? 0 : a.level === 'close' ? -1 : 1);

/**
 * Who is drawn, `max` persons at most: close before possible in each degree; degree-2 persons only when reached
 * through a drawn degree-1 person (`contacts[].via`). When capped, half the places go to degree 1 first, then
 * degree 2 takes what it needs of the rest, then degree 1 fills what is left.
 */
export function networkOf(items: Exposure[], total: number, max = MAX_NETWORK_NODES): Network {
  const firstAll = items.filter((e) => e.degree === 1).sort(byLevel);
  const secondAll = items.filter((e) => e.degree === 2).sort(byLevel);
  const first = firstAll.slice(0, secondAll.length ? Math.ceil(max / 2) : max);
  const drawn = new Set(first.map((e) => e.personId));
  const second = secondAll
    .filter((e) => e.contacts.some((c) => c.via !== null && drawn.has(c.via)))
    .slice(0, max - first.length);
  first.push(...firstAll.slice(first.length, max - second.length));
  for (const e of first) drawn.add(e.personId);
  const links: Network['links'] = [];
  for (const e of second) {
    const via = new Map<string, Exposure['level']>();
    for (const c of e.contacts) {
      if (c.via === null || !drawn.has(c.via)) continue;
      if (via.get(c.via) !== 'close') via.set(c.via, c.level);
    }
    for (const [from, level] of via) links.push({ from, to: e.personId, level });
  }
  return { first, second, links, total: Math.max(total, items.length) };
}

export const networkShown = (n: Network) => n.first.length + n.second.length;

interface NodeDatum {
  id: string;
  name: string;
  category: number;
  symbolSize: number;
  tip: string[];
}

/** The ECharts option: a force graph of the case, its degree-1 contacts and theirs, coloured by level. */
export function networkOption(net: Network, caseNumber: string, t: Translate): ChartOption {
  const label = (e: Exposure) => e.name ?? t('exposures.noName');
  const names = new Map(net.first.map((e) => [e.personId, label(e)]));
  const via = (e: Exposure) =>
    net.links.filter((l) => l.to === e.personId).map((l) => names.get(l.from) ?? l.from);
  const person = (e: Exposure, size: number): NodeDatum => ({
    id: e.personId,
    name: label(e),
    category: e.level === 'close' ? 1 : 2,
    symbolSize: size,
    tip: [
      label(e),
      e.phone ?? '—',
      `${t('exposures.level')}: ${t(`level.${e.level}`)}`,
      `${t('exposures.degree')}: ${e.degree}`,
      ...(e.degree === 2 ? [`${t('network.via')}: ${via(e).join('、')}`] : []),
    ],
  });
  const nodes: NodeDatum[] = [
    {
      id: 'case',
      name: t('network.caseNode', { number: caseNumber }),
      category: 0,
      symbolSize: 36,
      tip: [t('network.caseNode', { number: caseNumber })],
    },
    ...net.first.map((e) => person(e, 22)),
    ...net.second.map((e) => person(e, 14)),
  ];
  const edge = (source: string, target: string, level: Exposure['level']) => ({
    source,
    target,
    lineStyle: { color: COLOURS[level], type: level === 'close' ? 'solid' : 'dashed' },
  });
  // Labels on every node only while they stay legible; beyond that on the case and degree-1 persons.
  const allLabels = nodes.length <= 40;
  return {
    tooltip: {
      trigger: 'item',
      // Plain markup without style attributes: the console's CSP allows no inline styles.
      formatter: (p: { dataType?: string; data?: { tip?: string[] } }) =>
        p.dataType === 'node' && p.data?.tip ? p.data.tip.map(escapeHtml).join('<br/>') : '',
    },
    legend: {
      data: [t('network.case'), t('level.close'), t('level.possible')],
      bottom: 0,
    },
    series: [
      {
        type: 'graph',
        layout: 'force',
        roam: true,
        draggable: true,
        // A handful of persons would sit small in the middle of the card.
        zoom: nodes.length <= 12 ? 1.8 : 1,
        force: { repulsion: 160, edgeLength: [50, 110], gravity: 0.08 },
        categories: [
          { name: t('network.case'), itemStyle: { color: COLOURS.case } },
          { name: t('level.close'), itemStyle: { color: COLOURS.close } },
          { name: t('level.possible'), itemStyle: { color: COLOURS.possible } },
        ],
        label: { show: true, position: 'right', fontSize: 11 },
        emphasis: { focus: 'adjacency' },
        data: nodes.map((n) => ({
          ...n,
          label: { show: allLabels || n.symbolSize > 14 },
        })),
        links: [
          ...net.first.map((e) => edge('case', e.personId, e.level)),
          ...net.links.map((l) => edge(l.from, l.to, l.level)),
        ],
      },
    ],
  };
}

/**
 * The degree-2 contact network of a case: the case, its degree-1 contacts and the persons who rode with them;
 * masked names unless the official holds a reveal grant, capped at MAX_NETWORK_NODES persons with a note.
 */
export function NetworkGraph({
  caseId,
  caseNumber,
  revealed,
}: {
  caseId: string;
  caseNumber: string;
  revealed: boolean;
}) {
  const t = useT();
  const api = useApi();
  const q = useQuery({
    queryKey: ['network', caseId, revealed],
    queryFn: () =>
      api.exposures(caseId, { degree: 2, limit: NETWORK_FETCH, ...(revealed ? { reveal: true } : {}) }),
  });
  const net = useMemo(() => (q.data ? networkOf(q.data.items, q.data.total) : null), [q.data]);
  const option = useMemo(() => (net ? networkOption(net, caseNumber, t) : null), [net, caseNumber, t]);

  if (q.isError) return <LoadError title={t('network.loadFailed')} error={q.error} retry={q.refetch} />;
  if (!net || !option) return <Spin className="rt-network" />;
  const shown = networkShown(net);
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {shown < net.total && (
        <Alert type="info" showIcon message={t('network.capped', { shown, total: net.total })} />
      )}
      {net.second.length === 0 ? (
        <Empty description={t('network.noSecond')} />
      ) : (
        <Suspense fallback={<Spin className="rt-network" />}>
          <EChart
            option={option}
            label={t('network.label', { first: net.first.length, second: net.second.length })}
            className="rt-network"
          />
        </Suspense>
      )}
    </Space>
  );
}
