import type { AuditEntry } from '@ridetrace/shared';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Empty, Form, Input, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useApi } from '../../api.js';
import { Pager, useCursorPages } from '../../components/paging.js';
import { errorText } from '../../errors.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { PAGE_SIZE } from '../../settings.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The hash-chained audit log, newest first, a server page at a time; filtered by case on the server (the only
 * filter the API has so far).
 */
export function AuditPage() {
  const t = useT();
  const api = useApi();
  const paging = useCursorPages();
  const [caseId, setCaseId] = useState<string | undefined>();
  const log = useQuery({
    queryKey: ['audit', caseId, paging.cursor],
    queryFn: () =>
      api.audit({
        limit: PAGE_SIZE,
        ...(caseId ? { caseId } : {}),
        ...(paging.cursor ? { cursor: paging.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  const columns: ColumnsType<AuditEntry> = [
    { title: '#', dataIndex: 'seq', width: 80 },
    { title: t('audit.at'), dataIndex: 'at', render: (v: string) => fmtTime(v) },
    {
      title: t('audit.actor'),
      render: (_: unknown, e) => (
        <Space direction="vertical" size={0}>
          <span>{e.actorName ?? e.actor}</span>
          {e.actorAgency && <Typography.Text type="secondary">{e.actorAgency}</Typography.Text>}
        </Space>
      ),
    },
    { title: t('audit.action'), dataIndex: 'action', render: (a: string) => <Tag>{a}</Tag> },
    {
      title: t('audit.case'),
      dataIndex: 'caseId',
      render: (id: string | null) => (id ? <Link to={`/cases/${id}`}>{id.slice(0, 8)}</Link> : '—'),
    },
    { title: t('audit.people'), dataIndex: 'people' },
    { title: t('audit.detail'), dataIndex: 'detail', render: (d: string | null) => d ?? '' },
  ];

  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('audit.title')}
        </Typography.Title>
      }
    >
      <Form
        layout="inline"
        style={{ marginBottom: 16 }}
        onFinish={({ caseId: id }: { caseId?: string }) => {
          setCaseId(id?.trim() || undefined);
          paging.reset();
        }}
      >
        <Form.Item
          label={t('audit.caseFilter')}
          name="caseId"
          rules={[{ pattern: UUID, message: t('audit.caseFilterInvalid') }]}
        >
          <Input allowClear placeholder="xxxxxxxx-xxxx-…" style={{ width: 340 }} />
        </Form.Item>
        <Button htmlType="submit">{t('audit.filter')}</Button>
      </Form>
      {log.isError && (
        <Alert
          type="error"
          showIcon
          role="alert"
          message={t('audit.loadFailed')}
          description={errorText(log.error, t)}
          action={<Button onClick={() => void log.refetch()}>{t('common.retry')}</Button>}
          style={{ marginBottom: 16 }}
        />
      )}
      <Table<AuditEntry>
        rowKey="seq"
        size="middle"
        columns={columns}
        dataSource={log.data?.items ?? []}
        loading={log.isFetching}
        pagination={false}
        locale={{
          emptyText: log.isPending ? (
            ' '
          ) : (
            <Empty description={t(caseId ? 'audit.emptyCase' : 'audit.empty')} />
          ),
        }}
      />
      <Pager
        page={paging.page}
        nextCursor={log.data?.nextCursor}
        onNext={paging.next}
        onPrev={paging.prev}
        loading={log.isFetching}
      />
    </Card>
  );
}
