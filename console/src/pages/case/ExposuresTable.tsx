import type { Contact, Exposure } from '@ridetrace/shared';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Empty, Segmented, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useApi } from '../../api.js';
import { Pager, useCursorPages } from '../../components/paging.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { PAGE_SIZE } from '../../settings.js';
import { anyFlags, FlagTags } from './FlagTags.js';
import { LoadError } from '../../components/LoadError.js';

export type DegreeMode = 1 | 2;

/** Close and possible as the officials read them at a glance. */
export function LevelTag({ level }: { level: Exposure['level'] }) {
  const t = useT();
  return level === 'close' ? (
    <Tag color="red">{t('level.close')}</Tag>
  ) : (
    <Tag color="gold">{t('level.possible')}</Tag>
  );
}

/** The exposed persons of a case, a server page at a time; masked unless the official holds a reveal grant. */
export function ExposuresTable({
  caseId,
  revealed,
  degree,
  onDegree,
}: {
  caseId: string;
  revealed: boolean;
  degree: DegreeMode;
  onDegree: (d: DegreeMode) => void;
}) {
  const t = useT();
  const api = useApi();
  const paging = useCursorPages();
  const page = useQuery({
    queryKey: ['exposures', caseId, degree, revealed, paging.cursor],
    queryFn: () =>
      api.exposures(caseId, {
        degree,
        limit: PAGE_SIZE,
        ...(revealed ? { reveal: true } : {}),
        ...(paging.cursor ? { cursor: paging.cursor } : {}),
      }),
    placeholderData: keepPreviousData,
  });

  const columns: ColumnsType<Exposure> = [
    {
      title: t('exposures.person'),
      render: (_: unknown, e) => (
        <Space direction="vertical" size={0}>
          <span>{e.name ?? t('exposures.noName')}</span>
          <Typography.Text type="secondary">{e.phone ?? '—'}</Typography.Text>
          {e.idNumber && <Typography.Text type="secondary">{e.idNumber}</Typography.Text>}
        </Space>
      ),
    },
    {
      title: t('exposures.level'),
      dataIndex: 'level',
      render: (l: Exposure['level']) => <LevelTag level={l} />,
    },
    { title: t('exposures.degree'), dataIndex: 'degree' },
    {
      title: t('exposures.registration'),
      dataIndex: 'registration',
      render: (r: Exposure['registration']) => t(`registration.${r}`),
    },
    { title: t('exposures.firstContact'), dataIndex: 'firstContactAt', render: (v: string) => fmtTime(v) },
    { title: t('exposures.contacts'), render: (_: unknown, e) => e.contacts.length },
    {
      title: t('case.flags'),
      render: (_: unknown, e) => <FlagTags flags={anyFlags(e.contacts.map((c) => c.flags))} />,
    },
  ];

  const contactColumns: ColumnsType<Contact> = [
    {
      title: t('case.carrier'),
      render: (_: unknown, c) =>
        `${t(`carrierKind.${c.carrier.kind}`)} ${c.carrier.plate}${c.carrier.route ? ` · ${c.carrier.route}` : ''}`,
    },
    { title: t('case.city'), render: (_: unknown, c) => c.carrier.city },
    { title: t('exposures.caseBoarded'), dataIndex: 'caseBoardedAt', render: (v: string) => fmtTime(v) },
    {
      title: t('exposures.contactBoarded'),
      dataIndex: 'contactBoardedAt',
      render: (v: string) => fmtTime(v),
    },
    {
      title: t('exposures.gap'),
      dataIndex: 'gapMinutes',
      render: (v: number) => t('exposures.minutes', { n: v }),
    },
    {
      title: t('exposures.level'),
      dataIndex: 'level',
      render: (l: Contact['level']) => <LevelTag level={l} />,
    },
    { title: t('case.flags'), render: (_: unknown, c) => <FlagTags flags={c.flags} /> },
  ];

  const data = page.data;
  return (
    <>
      <Space wrap style={{ marginBottom: 12 }}>
        <Segmented<DegreeMode>
          aria-label={t('exposures.degreeSwitch')}
          value={degree}
          onChange={(d) => {
            onDegree(d);
            paging.reset();
          }}
          options={[
            { value: 1, label: t('exposures.degree1') },
            { value: 2, label: t('exposures.degree12') },
          ]}
        />
        {data && (
          <Typography.Text type="secondary">
            {t('exposures.summary', { total: data.total, rides: data.caseRides })}
            {data.unlinkable > 0 && ` · ${t('exposures.unlinkable', { n: data.unlinkable })}`}
          </Typography.Text>
        )}
        {revealed ? <Tag color="green">{t('exposures.revealed')}</Tag> : <Tag>{t('exposures.masked')}</Tag>}
      </Space>
      {page.isError && (
        <LoadError title={t('exposures.loadFailed')} error={page.error} retry={page.refetch} />
      )}
      <Table<Exposure>
        rowKey="personId"
        size="middle"
        columns={columns}
        dataSource={data?.items ?? []}
        loading={page.isFetching}
        pagination={false}
        expandable={{
          expandedRowRender: (e) => (
            <Table<Contact>
              size="small"
              rowKey={(c) => `${c.carrier.id}-${c.contactBoardedAt}`}
              columns={contactColumns}
              dataSource={e.contacts}
              pagination={false}
            />
          ),
        }}
        locale={{
          emptyText: page.isPending ? ' ' : <Empty description={t('exposures.empty')} />,
          // Named here: the row's expand button has no text of its own.
          expand: t('exposures.expand'),
          collapse: t('exposures.collapse'),
        }}
      />
      <Pager
        page={paging.page}
        nextCursor={data?.nextCursor}
        onNext={paging.next}
        onPrev={paging.prev}
        loading={page.isFetching}
      />
    </>
  );
}
