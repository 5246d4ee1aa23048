import type { AuditAction, AuditEntry } from '@ridetrace/shared';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, DatePicker, Empty, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useApi } from '../../api.js';
import { Pager, useCursorPages } from '../../components/paging.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { PAGE_SIZE } from '../../settings.js';
import { VerifyCard } from './VerifyCard.js';
import { LoadError } from '../../components/LoadError.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every action the API records, for the action filter. A record rather than the shared list: it keeps the contract's
 * schemas out of the bundle, and the type fails to compile when the API gains an action this lacks.
 */
const ACTIONS: Record<AuditAction, true> = {
  'case.open': true,
  'case.close': true,
  'case.list': true,
  'case.read': true,
  'case.rides': true,
  'case.notify': true,
  'exposures.read': true,
  'exposures.reveal': true,
  'exposures.export': true,
  'notifications.read': true,
  'reveal.request': true,
  'reveal.grant': true,
  'reveal.approve': true,
  'reveal.refuse': true,
  'person.clear': true,
  'status.verify': true,
  'passenger.lookup': true,
  'officials.admin': true,
  'clients.admin': true,
  'operators.admin': true,
  'audit.read': true,
  'audit.verify': true,
  'data.purge': true,
  'programme.wind_down': true,
  'keys.rotate_index': true,
};

interface Filters {
  caseId?: string;
  actor?: string;
  action?: AuditAction;
  from?: string;
  to?: string;
}

interface FilterForm {
  caseId?: string;
  actor?: string;
  action?: AuditAction;
  range?: [Dayjs | null, Dayjs | null] | null;
}

function filtersOf(v: FilterForm): Filters {
  const caseId = v.caseId?.trim();
  const actor = v.actor?.trim();
  const [from, to] = v.range ?? [];
  return {
    ...(caseId ? { caseId } : {}),
    ...(actor ? { actor } : {}),
    ...(v.action ? { action: v.action } : {}),
    ...(from ? { from: from.toISOString() } : {}),
    ...(to ? { to: to.toISOString() } : {}),
  };
}

/**
 * The hash-chained audit log, oldest first, a server page at a time, filtered on the server by case, actor, action
 * and time; above it, the chain's verification and the last signed checkpoint.
 */
export function AuditPage() {
  const t = useT();
  const api = useApi();
  const paging = useCursorPages();
  const [form] = Form.useForm<FilterForm>();
  const [filters, setFilters] = useState<Filters>({});
  const filtered = Object.keys(filters).length > 0;
  const log = useQuery({
    queryKey: ['audit', filters, paging.cursor],
    queryFn: () =>
      // Newest first: an auditor looks for what just happened; the cursor pages back in time.
      api.audit({
        limit: PAGE_SIZE,
        order: 'desc',
        ...filters,
        ...(paging.cursor ? { cursor: paging.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  const apply = (next: Filters) => {
    setFilters(next);
    paging.reset();
  };

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
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <VerifyCard />
      <Card
        title={
          <Typography.Title level={4} style={{ margin: 0 }}>
            {t('audit.title')}
          </Typography.Title>
        }
      >
        <Form<FilterForm>
          form={form}
          layout="inline"
          style={{ marginBottom: 16, rowGap: 8 }}
          onFinish={(v) => apply(filtersOf(v))}
        >
          <Form.Item
            label={t('audit.caseFilter')}
            name="caseId"
            rules={[{ pattern: UUID, message: t('audit.caseFilterInvalid') }]}
          >
            <Input allowClear placeholder="xxxxxxxx-xxxx-…" style={{ width: 300 }} />
          </Form.Item>
          <Form.Item label={t('audit.actorFilter')} name="actor" rules={[{ max: 200 }]}>
            <Input allowClear placeholder={t('audit.actorFilterHint')} style={{ width: 240 }} />
          </Form.Item>
          <Form.Item label={t('audit.actionFilter')} name="action">
            <Select<AuditAction>
              allowClear
              showSearch
              aria-label={t('audit.actionFilter')}
              placeholder={t('audit.actionAll')}
              options={Object.keys(ACTIONS).map((a) => ({ value: a as AuditAction, label: a }))}
              style={{ width: 200 }}
            />
          </Form.Item>
          <Form.Item label={t('audit.timeFilter')} name="range">
            <DatePicker.RangePicker
              showTime={{ format: 'HH:mm' }}
              format="YYYY-MM-DD HH:mm"
              allowEmpty={[true, true]}
              placeholder={[t('audit.from'), t('audit.to')]}
            />
          </Form.Item>
          <Space>
            <Button type="primary" htmlType="submit">
              {t('audit.filter')}
            </Button>
            <Button
              onClick={() => {
                form.resetFields();
                apply({});
              }}
            >
              {t('audit.clearFilters')}
            </Button>
          </Space>
        </Form>
        {log.isError && <LoadError title={t('audit.loadFailed')} error={log.error} retry={log.refetch} />}
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
              <Empty description={t(filtered ? 'audit.emptyFiltered' : 'audit.empty')} />
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
    </Space>
  );
}
