import { PlusOutlined, SearchOutlined } from '@ant-design/icons';
import type { Case } from '@ridetrace/shared';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Empty, Input, Segmented, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { lazy, Suspense, useState } from 'react';
import { Link } from 'react-router-dom';
import { useApi } from '../../api.js';
import { Pager, useCursorPages } from '../../components/paging.js';
import { fmtRange, fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { hasScope, useOfficial } from '../../session.js';
import { PAGE_SIZE } from '../../settings.js';
import { LoadError } from '../../components/LoadError.js';

// The form's date-time range picker is heavy: loaded when the drawer first opens.
const OpenCaseDrawer = lazy(() => import('./OpenCaseDrawer.js').then((m) => ({ default: m.OpenCaseDrawer })));

type StatusFilter = 'all' | 'open' | 'closed';

export function CasesPage() {
  const t = useT();
  const api = useApi();
  const official = useOfficial();
  const canOpen = hasScope(official, 'case:write');
  const [status, setStatus] = useState<StatusFilter>('open');
  const [term, setTerm] = useState('');
  const [drawer, setDrawer] = useState(false);
  const paging = useCursorPages();
  const search = term.trim();

  // The API searches case numbers (a prefix, letter case ignored) and pages the result like any list.
  const list = useQuery({
    queryKey: ['cases', status, search, paging.cursor],
    queryFn: () =>
      api.listCases({
        ...(status === 'all' ? {} : { status }),
        ...(search ? { caseNumber: search } : {}),
        limit: PAGE_SIZE,
        ...(paging.cursor ? { cursor: paging.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  const columns: ColumnsType<Case> = [
    {
      title: t('cases.caseNumber'),
      dataIndex: 'caseNumber',
      render: (n: string, c) => <Link to={`/cases/${c.id}`}>{n}</Link>,
    },
    {
      title: t('cases.status'),
      dataIndex: 'status',
      render: (s: Case['status']) =>
        s === 'open' ? <Tag color="red">{t('cases.open')}</Tag> : <Tag>{t('cases.closed')}</Tag>,
    },
    {
      title: t('cases.subject'),
      render: (_: unknown, c) => (
        <Space direction="vertical" size={0}>
          <span>{c.subject.name ?? '—'}</span>
          <Typography.Text type="secondary">{c.subject.phone ?? ''}</Typography.Text>
        </Space>
      ),
    },
    { title: t('cases.window'), render: (_: unknown, c) => fmtRange(c.infectiousFrom, c.infectiousTo) },
    { title: t('cases.openedAt'), dataIndex: 'openedAt', render: (v: string) => fmtTime(v) },
    { title: t('cases.openedBy'), dataIndex: 'openedBy' },
  ];

  const empty = (
    <Empty
      description={
        search ? t('cases.emptySearch', { term: search }) : canOpen ? t('cases.emptyOpen') : t('cases.empty')
      }
    >
      {canOpen && !search && (
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setDrawer(true)}>
          {t('cases.openCase')}
        </Button>
      )}
    </Empty>
  );

  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('cases.title')}
        </Typography.Title>
      }
      extra={
        canOpen && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setDrawer(true)}>
            {t('cases.openCase')}
          </Button>
        )
      }
    >
      <Space wrap style={{ marginBottom: 16 }}>
        <Segmented<StatusFilter>
          aria-label={t('cases.statusFilter')}
          value={status}
          onChange={(v) => {
            setStatus(v);
            paging.reset();
          }}
          options={[
            { value: 'open', label: t('cases.open') },
            { value: 'closed', label: t('cases.closed') },
            { value: 'all', label: t('cases.all') },
          ]}
        />
        <Input.Search
          aria-label={t('cases.search')}
          placeholder={t('cases.search')}
          allowClear
          enterButton={<SearchOutlined />}
          onSearch={(v) => {
            setTerm(v);
            paging.reset();
          }}
          style={{ width: 280 }}
        />
      </Space>
      {list.isError && <LoadError title={t('cases.loadFailed')} error={list.error} retry={list.refetch} />}
      <Table<Case>
        rowKey="id"
        columns={columns}
        dataSource={list.data?.items ?? []}
        loading={list.isFetching}
        pagination={false}
        locale={{ emptyText: list.isPending ? ' ' : empty }}
      />
      <Pager
        page={paging.page}
        nextCursor={list.data?.nextCursor}
        onNext={paging.next}
        onPrev={paging.prev}
        loading={list.isFetching}
      />
      {drawer && (
        <Suspense fallback={null}>
          <OpenCaseDrawer open={drawer} onClose={() => setDrawer(false)} />
        </Suspense>
      )}
    </Card>
  );
}
