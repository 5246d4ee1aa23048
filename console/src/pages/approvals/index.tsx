import type { RevealRequest } from '@ridetrace/shared';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Descriptions, Empty, Space, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useApi } from '../../api.js';
import { Pager, useCursorPages } from '../../components/paging.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { PAGE_SIZE } from '../../settings.js';
import { ReasonModal } from '../case/ReasonModal.js';
import { LoadError } from '../../components/LoadError.js';

type Decision = { request: RevealRequest; approve: boolean };

/** Pending reveal requests for officials with reveal:approve: approve or refuse, with a note, after confirming. */
export function ApprovalsPage() {
  const t = useT();
  const api = useApi();
  const queries = useQueryClient();
  const { message } = App.useApp();
  const paging = useCursorPages();
  const [decision, setDecision] = useState<Decision | null>(null);
  const inbox = useQuery({
    queryKey: ['approvals', paging.cursor],
    queryFn: () =>
      api.revealRequests({
        state: 'pending',
        limit: PAGE_SIZE,
        ...(paging.cursor ? { cursor: paging.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  const columns: ColumnsType<RevealRequest> = [
    {
      title: t('cases.caseNumber'),
      dataIndex: 'caseNumber',
      render: (n: string, r) => <Link to={`/cases/${r.caseId}`}>{n}</Link>,
    },
    {
      title: t('approvals.requestedBy'),
      render: (_: unknown, r) => (
        <Space direction="vertical" size={0}>
          <span>{r.requestedBy.name}</span>
          <Typography.Text type="secondary">{r.requestedBy.agency ?? ''}</Typography.Text>
        </Space>
      ),
    },
    { title: t('approvals.reason'), dataIndex: 'reason' },
    { title: t('approvals.requestedAt'), dataIndex: 'requestedAt', render: (v: string) => fmtTime(v) },
    { title: t('approvals.expiresAt'), dataIndex: 'expiresAt', render: (v: string) => fmtTime(v) },
    {
      title: t('approvals.actions'),
      render: (_: unknown, r) => (
        <Space>
          <Button type="primary" size="small" onClick={() => setDecision({ request: r, approve: true })}>
            {t('approvals.approve')}
          </Button>
          <Button danger size="small" onClick={() => setDecision({ request: r, approve: false })}>
            {t('approvals.refuse')}
          </Button>
        </Space>
      ),
    },
  ];

  const d = decision;
  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('approvals.title')}
        </Typography.Title>
      }
    >
      {inbox.isError && (
        <LoadError title={t('approvals.loadFailed')} error={inbox.error} retry={inbox.refetch} />
      )}
      <Table<RevealRequest>
        rowKey="id"
        columns={columns}
        dataSource={inbox.data?.items ?? []}
        loading={inbox.isFetching}
        pagination={false}
        locale={{ emptyText: inbox.isPending ? ' ' : <Empty description={t('approvals.empty')} /> }}
      />
      <Pager
        page={paging.page}
        nextCursor={inbox.data?.nextCursor}
        onNext={paging.next}
        onPrev={paging.prev}
        loading={inbox.isFetching}
      />
      <ReasonModal
        open={!!d}
        title={d?.approve ? t('approvals.approveTitle') : t('approvals.refuseTitle')}
        intro={
          d && (
            <Descriptions column={1} size="small" bordered>
              <Descriptions.Item label={t('cases.caseNumber')}>{d.request.caseNumber}</Descriptions.Item>
              <Descriptions.Item label={t('approvals.requestedBy')}>
                {d.request.requestedBy.name}{' '}
                {d.request.requestedBy.agency ? `(${d.request.requestedBy.agency})` : ''}
              </Descriptions.Item>
              <Descriptions.Item label={t('approvals.reason')}>{d.request.reason}</Descriptions.Item>
            </Descriptions>
          )
        }
        label={t('approvals.note')}
        required={false}
        okText={d?.approve ? t('approvals.approve') : t('approvals.refuse')}
        danger={!d?.approve}
        onClose={() => setDecision(null)}
        onOk={async (note) => {
          if (!d) return;
          await (d.approve ? api.approveReveal(d.request.id, note) : api.refuseReveal(d.request.id, note));
          void queries.invalidateQueries({ queryKey: ['approvals'] });
          void message.success(d.approve ? t('approvals.approved') : t('approvals.refused'));
        }}
      />
    </Card>
  );
}
