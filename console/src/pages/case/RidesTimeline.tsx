import type { CaseRide } from '@ridetrace/shared';
import { Empty, Spin, Table, Tag } from 'antd';
import { lazy, Suspense, useMemo } from 'react';
import type { ChartOption } from '../../components/EChart.js';
import { escapeHtml, fmtTime } from '../../format.js';
import { useT, type Translate } from '../../i18n/index.js';
import { FlagTags } from './FlagTags.js';

// ECharts is the largest part of the console: its chunk loads after the case's facts and tables are shown.
const EChart = lazy(() => import('../../components/EChart.js').then((m) => ({ default: m.EChart })));

/** One lane per carrier: kind and plate (and route when it has one). */
export function laneOf(ride: CaseRide, t: Translate): string {
  const c = ride.carrier;
  return `${t(`carrierKind.${c.kind}`)} ${c.plate}${c.route ? ` · ${c.route}` : ''}`;
}

/** The ECharts option of the timeline: x the time across the window, y a lane per carrier, a dot per ride. */
export function timelineOption(
  rides: CaseRide[],
  window: { from: string; to: string },
  t: Translate,
): ChartOption {
  const lanes = [...new Set(rides.map((r) => laneOf(r, t)))];
  const flagged = (r: CaseRide) => r.flags.carrierSwitch || r.flags.lateOffline || r.flags.manual;
  return {
    grid: { left: 8, right: 24, top: 16, bottom: 56, containLabel: true },
    tooltip: {
      trigger: 'item',
      // Plain markup without style attributes: the console's CSP allows no inline styles.
      formatter: (p: { dataIndex: number }) => {
        const r = rides[p.dataIndex];
        if (!r) return '';
        const lines = [
          `${escapeHtml(t(`carrierKind.${r.carrier.kind}`))} ${escapeHtml(r.carrier.plate)}`,
          `${escapeHtml(t('case.route'))}: ${escapeHtml(r.carrier.route ?? '—')}`,
          `${escapeHtml(t('case.city'))}: ${escapeHtml(r.carrier.city)}`,
          `${escapeHtml(t('case.boardedAt'))}: ${escapeHtml(fmtTime(r.boardedAt))}`,
        ];
        return lines.join('<br/>');
      },
    },
    xAxis: {
      type: 'time',
      min: window.from,
      max: window.to,
    },
    yAxis: { type: 'category', data: lanes, axisTick: { show: false } },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }],
    series: [
      {
        type: 'scatter',
        symbolSize: 14,
        data: rides.map((r) => ({
          value: [r.boardedAt, lanes.indexOf(laneOf(r, t))],
          itemStyle: { color: flagged(r) ? '#fa8c16' : '#1677ff' },
        })),
      },
    ],
  };
}

/** The subject's rides in the infectious window: the chart, and the same rides as a table (keyboard, screen readers). */
export function RidesTimeline({
  rides,
  window,
}: {
  rides: CaseRide[];
  window: { from: string; to: string };
}) {
  const t = useT();
  const option = useMemo(() => timelineOption(rides, window, t), [rides, window, t]);
  if (rides.length === 0) return <Empty description={t('case.noRides')} />;
  return (
    <>
      <Suspense fallback={<Spin className="rt-timeline" />}>
        <EChart
          option={option}
          label={t('case.timelineLabel', { count: rides.length })}
          className="rt-timeline"
        />
      </Suspense>
      <Table<CaseRide>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={rides}
        columns={[
          { title: t('case.boardedAt'), dataIndex: 'boardedAt', render: (v: string) => fmtTime(v) },
          { title: t('case.carrier'), render: (_: unknown, r) => laneOf(r, t) },
          { title: t('case.city'), render: (_: unknown, r) => r.carrier.city },
          {
            title: t('case.source'),
            dataIndex: 'source',
            render: (s: CaseRide['source']) => <Tag>{t(`source.${s}`)}</Tag>,
          },
          { title: t('case.flags'), render: (_: unknown, r) => <FlagTags flags={r.flags} /> },
        ]}
      />
    </>
  );
}
