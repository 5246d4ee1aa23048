import type { CaseNotifications, Notification } from '@ridetrace/shared';
import { useQuery } from '@tanstack/react-query';
import { Alert, Empty, Progress, Space, Table, Tag, Typography } from 'antd';
import { useApi } from '../../api.js';
import { errorText } from '../../errors.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { DELIVERY_POLL_MS, RECEIPT_WAIT_MS } from '../../settings.js';

const CHANNELS = ['app', 'sms'] as const;
const STATES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
] as const satisfies readonly Notification['state'][];
type State = (typeof STATES)[number];
const STATE_COLOUR: Record<State, string> = {
  queued: 'default',
  sending: 'processing',
  sent: 'cyan',
  delivered: 'success',
  failed: 'error',
};

interface ChannelRow {
  channel: (typeof CHANNELS)[number];
  counts: Record<State, number>;
  total: number;
}

/** Counts per channel and state. */
export function byChannel(items: Notification[]): ChannelRow[] {
  return CHANNELS.map((channel) => {
    const counts: Record<State, number> = { queued: 0, sending: 0, sent: 0, delivered: 0, failed: 0 };
    for (const n of items) if (n.channel === channel) counts[n.state] += 1;
    return { channel, counts, total: STATES.reduce((s, k) => s + counts[k], 0) };
  }).filter((r) => r.total > 0);
}

const inFlight = (d: CaseNotifications | undefined) =>
  !!d && d.items.some((n) => n.state === 'queued' || n.state === 'sending');

/** A message sent lately whose delivery receipt may still come (a gateway without receipts never sends one). */
const awaitingReceipt = (d: CaseNotifications | undefined, now: number) =>
  !!d &&
  d.items.some((n) => n.state === 'sent' && now - Date.parse(n.sentAt ?? n.updatedAt) < RECEIPT_WAIT_MS);

/**
 * Delivery of a case's notifications per channel, read again every DELIVERY_POLL_MS while any is still queued or
 * being sent, or waits for its delivery receipt (each read is audited, so polling stops once everything settled).
 */
export function DeliveryProgress({ caseId, watch }: { caseId: string; watch: number }) {
  const t = useT();
  const api = useApi();
  const q = useQuery({
    // `watch` changes after a notify call: the list is read again at once.
    queryKey: ['notifications', caseId, watch],
    queryFn: () => api.caseNotifications(caseId),
    refetchInterval: (query) =>
      inFlight(query.state.data) || awaitingReceipt(query.state.data, Date.now()) ? DELIVERY_POLL_MS : false,
  });
  if (q.isError)
    return (
      <Alert
        type="error"
        showIcon
        role="alert"
        message={t('delivery.loadFailed')}
        description={errorText(q.error, t)}
      />
    );
  if (!q.data) return null;
  const rows = byChannel(q.data.items);
  if (rows.length === 0) return <Empty description={t('delivery.none')} />;
  const failed = q.data.items.filter((n) => n.state === 'failed');
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {inFlight(q.data) && (
        <Typography.Text type="secondary" aria-live="polite">
          {t('delivery.updating')}
        </Typography.Text>
      )}
      <Table<ChannelRow>
        size="small"
        rowKey="channel"
        pagination={false}
        dataSource={rows}
        columns={[
          {
            title: t('delivery.channel'),
            dataIndex: 'channel',
            render: (c: ChannelRow['channel']) => t(`channel.${c}`),
          },
          ...STATES.map((s) => ({
            title: <Tag color={STATE_COLOUR[s]}>{t(`state.${s}`)}</Tag>,
            key: s,
            render: (_: unknown, r: ChannelRow) => (
              <span data-testid={`${r.channel}-${s}`}>{r.counts[s]}</span>
            ),
          })),
          {
            title: t('delivery.progress'),
            key: 'progress',
            render: (_: unknown, r: ChannelRow) => (
              <Progress
                aria-label={t('delivery.progressOf', { channel: t(`channel.${r.channel}`) })}
                percent={Math.round(((r.counts.sent + r.counts.delivered + r.counts.failed) / r.total) * 100)}
                success={{ percent: Math.round((r.counts.delivered / r.total) * 100) }}
                status={
                  r.counts.failed > 0 ? 'exception' : r.counts.delivered === r.total ? 'success' : 'active'
                }
                size="small"
              />
            ),
          },
        ]}
      />
      {failed.length > 0 && (
        <Table<Notification>
          size="small"
          rowKey="id"
          title={() => t('delivery.failures')}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          dataSource={failed}
          columns={[
            { title: t('delivery.person'), dataIndex: 'personId' },
            {
              title: t('delivery.channel'),
              dataIndex: 'channel',
              render: (c: Notification['channel']) => t(`channel.${c}`),
            },
            { title: t('delivery.attempts'), dataIndex: 'attempts' },
            { title: t('delivery.error'), dataIndex: 'lastError' },
            { title: t('delivery.updatedAt'), dataIndex: 'updatedAt', render: (v: string) => fmtTime(v) },
          ]}
        />
      )}
    </Space>
  );
}
