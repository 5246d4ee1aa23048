import { PlusOutlined, PrinterOutlined, UploadOutlined } from '@ant-design/icons';
import type { Carrier, CarrierKind, ListCarriersQuery, PosterSheetQuery } from '@ridetrace/shared';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Empty, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import dayjs from 'dayjs';
import { lazy, Suspense, useState } from 'react';
import { useApi } from '../../api.js';
import { LoadError } from '../../components/LoadError.js';
import { Pager, useCursorPages } from '../../components/paging.js';
import { errorText } from '../../errors.js';
import { downloadBytes, fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { hasScope, useOfficial } from '../../session.js';
import { PAGE_SIZE } from '../../settings.js';
import { CarrierDrawer } from './CarrierDrawer.js';
import { KINDS, POSTER_MAX } from './options.js';
import { StaffDrawer } from './StaffDrawer.js';

// The import dialog (upload, problems table, progress) is only needed now and then: its own chunk.
const ImportModal = lazy(() => import('./ImportModal.js').then((m) => ({ default: m.ImportModal })));

type Status = 'active' | 'retired';

interface Filters {
  kind?: CarrierKind;
  status?: Status;
  city?: string;
  route?: string;
  plate?: string;
  operatorId?: string;
}

interface FilterForm {
  kind?: CarrierKind;
  status?: Status | 'all';
  city?: string;
  route?: string;
  plate?: string;
  operatorId?: string;
}

const INITIAL: FilterForm = { status: 'active' };

function filtersOf(v: FilterForm): Filters {
  const text = (s: string | undefined) => s?.trim() || undefined;
  const f: Filters = {
    kind: v.kind,
    status: v.status === 'all' ? undefined : v.status,
    city: text(v.city),
    route: text(v.route),
    plate: text(v.plate),
    operatorId: v.operatorId,
  };
  return Object.fromEntries(Object.entries(f).filter(([, x]) => x !== undefined)) as Filters;
}

/** Today's date for file names, in the browser's time zone. */
const today = () => dayjs().format('YYYY-MM-DD');

/**
 * An operator's carriers (every operator's for administrators), a server page at a time: filters, create and edit,
 * retire, code re-issue, posters (one A5, or A4 sheets of the chosen rows or the filter), staff bindings, CSV import.
 */
export function CarriersPage() {
  const t = useT();
  const api = useApi();
  const official = useOfficial();
  const queries = useQueryClient();
  const { modal, message } = App.useApp();
  const isAdmin = hasScope(official, 'admin');
  const paging = useCursorPages();
  const [form] = Form.useForm<FilterForm>();
  const [filters, setFilters] = useState<Filters>(filtersOf(INITIAL));
  const [selected, setSelected] = useState<number[]>([]);
  const [editing, setEditing] = useState<Carrier | 'new' | null>(null);
  const [staffOf, setStaffOf] = useState<Carrier | null>(null);
  const [importing, setImporting] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);

  const operators = useQuery({
    queryKey: ['operators'],
    queryFn: () => api.listOperators(),
    enabled: isAdmin,
  });
  const operatorOptions = (operators.data?.items ?? []).map((o) => ({
    value: o.id,
    label: `${o.name} (${o.id})`,
  }));
  const operatorName = (id: string) => operators.data?.items.find((o) => o.id === id)?.name ?? id;

  const list = useQuery({
    queryKey: ['carriers', filters, paging.cursor],
    queryFn: () =>
      api.listCarriers({
        ...filters,
        limit: PAGE_SIZE,
        ...(paging.cursor ? { cursor: paging.cursor } : {}),
      } satisfies ListCarriersQuery),
    placeholderData: keepPreviousData,
  });
  const refresh = () => void queries.invalidateQueries({ queryKey: ['carriers'] });
  const filtered = Object.keys(filters).some((k) => k !== 'status') || filters.status === 'retired';

  const apply = (next: Filters) => {
    setFilters(next);
    paging.reset();
  };

  /** A download of PDF bytes, one at a time per button (`key`), the API's message on failure. */
  const download = async (key: string, filename: string, bytes: () => Promise<Uint8Array>) => {
    setBusy(key);
    try {
      downloadBytes(filename, await bytes(), 'application/pdf');
    } catch (err) {
      void message.error(errorText(err, t));
    } finally {
      setBusy(null);
    }
  };

  const confirmRetire = (c: Carrier) => {
    void modal.confirm({
      title: t('carriers.retireTitle', { plate: c.plate }),
      content: t('carriers.retireBody'),
      okText: t('carriers.retire'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await api.retireCarrier(c.id);
          void message.success(t('carriers.retired', { plate: c.plate }));
          setSelected((s) => s.filter((id) => id !== c.id));
          refresh();
        } catch (err) {
          void message.error(errorText(err, t));
        }
      },
    });
  };

  const confirmReissue = (c: Carrier) => {
    void modal.confirm({
      title: t('carriers.reissueTitle', { plate: c.plate }),
      content: (
        <Alert type="warning" showIcon message={t('carriers.reissueWarning')} style={{ marginTop: 8 }} />
      ),
      okText: t('carriers.reissueOk'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const code = await api.issueCode(c.id);
          void message.success(t('carriers.reissued', { plate: c.plate, generation: code.generation }));
          refresh();
        } catch (err) {
          void message.error(errorText(err, t));
        }
      },
    });
  };

  const printSheets = () => {
    const name = `posters-${today()}.pdf`;
    if (selected.length) {
      void download('sheets', name, () => api.posterSheetsPdf({ ids: selected.join(',') }));
      return;
    }
    // No rows chosen: the sheets take the table's filter (active carriers only).
    const q: PosterSheetQuery = {
      ...(filters.plate ? { plate: filters.plate } : {}),
      ...(filters.kind ? { kind: filters.kind } : {}),
      ...(filters.route ? { route: filters.route } : {}),
      ...(filters.city ? { city: filters.city } : {}),
      ...(filters.operatorId ? { operatorId: filters.operatorId } : {}),
    };
    void modal.confirm({
      title: t('carriers.sheetsTitle'),
      content: (
        <Space direction="vertical">
          <Typography.Text>
            {Object.keys(q).length ? t('carriers.sheetsFilter') : t('carriers.sheetsAll')}
          </Typography.Text>
          <Typography.Text type="secondary">{t('carriers.sheetsMax', { max: POSTER_MAX })}</Typography.Text>
        </Space>
      ),
      okText: t('carriers.sheetsOk'),
      cancelText: t('common.cancel'),
      onOk: () => download('sheets', name, () => api.posterSheetsPdf(q)),
    });
  };

  const columns: ColumnsType<Carrier> = [
    { title: t('carriers.plate'), dataIndex: 'plate', render: (p: string) => <strong>{p}</strong> },
    { title: t('carriers.kind'), dataIndex: 'kind', render: (k: CarrierKind) => t(`carrierKind.${k}`) },
    { title: t('carriers.route'), dataIndex: 'route', render: (r: string | null) => r ?? '—' },
    { title: t('carriers.city'), dataIndex: 'city' },
    ...(isAdmin
      ? [
          {
            title: t('carriers.operator'),
            dataIndex: 'operatorId',
            render: (id: string) => operatorName(id),
          },
        ]
      : []),
    {
      title: t('carriers.status'),
      dataIndex: 'status',
      render: (s: Status, c: Carrier) =>
        s === 'active' ? (
          <Tag color="green">{t('carriers.active')}</Tag>
        ) : (
          <Tag>{t('carriers.retiredSince', { time: fmtTime(c.retiredAt) })}</Tag>
        ),
    },
    { title: t('carriers.generation'), dataIndex: 'codeGeneration', width: 90 },
    { title: t('carriers.updatedAt'), dataIndex: 'updatedAt', render: (v: string) => fmtTime(v) },
    {
      title: t('approvals.actions'),
      render: (_: unknown, c) => (
        <Space size={4} wrap>
          {c.status === 'active' && (
            <Button size="small" onClick={() => setEditing(c)}>
              {t('carriers.edit')}
            </Button>
          )}
          <Button size="small" onClick={() => setStaffOf(c)}>
            {t('carriers.staff')}
          </Button>
          {c.status === 'active' && (
            <>
              <Button
                size="small"
                loading={busy === `poster-${c.id}`}
                aria-label={t('carriers.posterOf', { plate: c.plate })}
                onClick={() =>
                  void download(`poster-${c.id}`, `poster-${c.id}.pdf`, () => api.posterPdf(c.id))
                }
              >
                {t('carriers.poster')}
              </Button>
              <Button size="small" danger onClick={() => confirmReissue(c)}>
                {t('carriers.reissue')}
              </Button>
              <Button size="small" danger onClick={() => confirmRetire(c)}>
                {t('carriers.retire')}
              </Button>
            </>
          )}
        </Space>
      ),
    },
  ];

  const empty = filtered ? (
    <Empty description={t('carriers.emptyFiltered')} />
  ) : (
    <Empty description={t('carriers.empty')}>
      <Space>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
          {t('carriers.create')}
        </Button>
        <Button icon={<UploadOutlined />} onClick={() => setImporting(true)}>
          {t('carriers.import')}
        </Button>
      </Space>
    </Empty>
  );

  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('carriers.title')}
        </Typography.Title>
      }
      extra={
        <Space wrap>
          <Button
            icon={<PrinterOutlined />}
            loading={busy === 'sheets'}
            disabled={selected.length > POSTER_MAX}
            onClick={printSheets}
          >
            {selected.length ? t('carriers.sheetsSelected', { n: selected.length }) : t('carriers.sheets')}
          </Button>
          <Button icon={<UploadOutlined />} onClick={() => setImporting(true)}>
            {t('carriers.import')}
          </Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
            {t('carriers.create')}
          </Button>
        </Space>
      }
    >
      <Form<FilterForm>
        form={form}
        name="carrier-filters"
        layout="inline"
        initialValues={INITIAL}
        style={{ marginBottom: 16, rowGap: 8 }}
        onFinish={(v) => apply(filtersOf(v))}
      >
        <Form.Item label={t('carriers.plateFilter')} name="plate" rules={[{ max: 16 }]}>
          <Input allowClear placeholder={t('carriers.plateFilterHint')} style={{ width: 180 }} />
        </Form.Item>
        <Form.Item label={t('carriers.kind')} name="kind">
          <Select<CarrierKind>
            allowClear
            aria-label={t('carriers.kind')}
            placeholder={t('carriers.all')}
            options={KINDS.map((k) => ({ value: k, label: t(`carrierKind.${k}`) }))}
            style={{ width: 120 }}
          />
        </Form.Item>
        <Form.Item label={t('carriers.status')} name="status">
          <Select<Status | 'all'>
            aria-label={t('carriers.status')}
            options={[
              { value: 'active', label: t('carriers.active') },
              { value: 'retired', label: t('carriers.retiredStatus') },
              { value: 'all', label: t('carriers.all') },
            ]}
            style={{ width: 120 }}
          />
        </Form.Item>
        <Form.Item label={t('carriers.city')} name="city" rules={[{ max: 40 }]}>
          <Input allowClear style={{ width: 120 }} />
        </Form.Item>
        <Form.Item label={t('carriers.route')} name="route" rules={[{ max: 40 }]}>
          <Input allowClear style={{ width: 120 }} />
        </Form.Item>
        {isAdmin && (
          <Form.Item label={t('carriers.operator')} name="operatorId">
            <Select<string>
              allowClear
              showSearch
              optionFilterProp="label"
              aria-label={t('carriers.operator')}
              placeholder={t('carriers.allOperators')}
              loading={operators.isFetching}
              options={operatorOptions}
              style={{ width: 220 }}
            />
          </Form.Item>
        )}
        <Space>
          <Button type="primary" htmlType="submit">
            {t('audit.filter')}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              apply(filtersOf(INITIAL));
            }}
          >
            {t('audit.clearFilters')}
          </Button>
        </Space>
      </Form>
      {operators.isError && (
        <LoadError title={t('operators.loadFailed')} error={operators.error} retry={operators.refetch} />
      )}
      {list.isError && <LoadError title={t('carriers.loadFailed')} error={list.error} retry={list.refetch} />}
      {selected.length > POSTER_MAX && (
        <Alert
          type="warning"
          showIcon
          message={t('carriers.tooManySelected', { n: selected.length, max: POSTER_MAX })}
          style={{ marginBottom: 16 }}
        />
      )}
      <Table<Carrier>
        rowKey="id"
        size="middle"
        columns={columns}
        dataSource={list.data?.items ?? []}
        loading={list.isFetching}
        pagination={false}
        rowSelection={{
          selectedRowKeys: selected,
          // The choice stays while paging: sheets of rows from several pages.
          preserveSelectedRowKeys: true,
          onChange: (keys) => setSelected(keys as number[]),
          getCheckboxProps: (c) => ({
            disabled: c.status !== 'active',
            'aria-label': t('carriers.select', { plate: c.plate }),
          }),
        }}
        locale={{ emptyText: list.isPending ? ' ' : empty }}
      />
      <Pager
        page={paging.page}
        nextCursor={list.data?.nextCursor}
        onNext={paging.next}
        onPrev={paging.prev}
        loading={list.isFetching}
        {...(selected.length ? { extra: t('carriers.selectedCount', { n: selected.length }) } : {})}
      />
      {editing && (
        <CarrierDrawer
          carrier={editing}
          isAdmin={isAdmin}
          operatorOptions={operatorOptions}
          onClose={() => setEditing(null)}
          onSaved={refresh}
        />
      )}
      <StaffDrawer carrier={staffOf} isAdmin={isAdmin} onClose={() => setStaffOf(null)} />
      {importing && (
        <Suspense fallback={null}>
          <ImportModal
            isAdmin={isAdmin}
            operatorOptions={operatorOptions}
            onClose={() => setImporting(false)}
            onImported={refresh}
          />
        </Suspense>
      )}
    </Card>
  );
}
