import { CloseCircleOutlined, DownloadOutlined, EyeOutlined, NotificationOutlined } from '@ant-design/icons';
import type { Case, RevealRequest } from '@ridetrace/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Breadcrumb,
  Button,
  Card,
  Descriptions,
  Result,
  Space,
  Spin,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useApi } from '../../api.js';
import { errorText } from '../../errors.js';
import { downloadText, fmtRange, fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { hasScope, useOfficial } from '../../session.js';
import { REVEAL_POLL_MS } from '../../settings.js';
import { DeliveryProgress } from './DeliveryProgress.js';
import { ExposuresTable, type DegreeMode } from './ExposuresTable.js';
import { NetworkGraph } from './NetworkGraph.js';
import { ReasonModal } from './ReasonModal.js';
import { RidesTimeline } from './RidesTimeline.js';

/** My live grant and my pending request for the case, from the reveal requests I can see. */
function myReveal(items: RevealRequest[], officialId: string, now = Date.now()) {
  const mine = items.filter((r) => r.requestedBy.id === officialId);
  return {
    grant: mine.find((r) => r.state === 'approved' && Date.parse(r.expiresAt) > now),
    pending: mine.find((r) => r.state === 'pending' && Date.parse(r.expiresAt) > now),
  };
}

/** A file name from a case number (letters, digits, `_.-` kept). */
const fileSafe = (s: string) => s.replace(/[^\p{L}\p{N}_.-]+/gu, '_');

/** One case: its facts, the subject's rides, the exposures, reveal, export, notify and delivery, closing. */
export default function CasePage() {
  const { id = '' } = useParams();
  const t = useT();
  const api = useApi();
  const queries = useQueryClient();
  const { message, modal } = App.useApp();
  const official = useOfficial();
  const canReveal = hasScope(official, 'trace:reveal');
  const canNotify = hasScope(official, 'trace:notify');
  const canWrite = hasScope(official, 'case:write');
  const [degree, setDegree] = useState<DegreeMode>(1);
  const [dialog, setDialog] = useState<'reveal' | 'close' | null>(null);
  const [watch, setWatch] = useState(0);

  const reveals = useQuery({
    queryKey: ['reveals', id],
    queryFn: () => api.revealRequests({ caseId: id, limit: 50 }),
    enabled: canReveal,
    // While my request waits for a supervisor, the grant shows up (names unmasked) without a reload.
    refetchInterval: (q) =>
      myReveal(q.state.data?.items ?? [], official.id).pending ? REVEAL_POLL_MS : false,
  });
  const { grant, pending } = myReveal(reveals.data?.items ?? [], official.id);
  const revealed = !!grant;

  const kase = useQuery({
    queryKey: ['case', id, revealed],
    queryFn: () => api.getCase(id, revealed ? { reveal: true } : {}),
  });
  const rides = useQuery({ queryKey: ['caseRides', id], queryFn: () => api.caseRides(id) });

  const exportCsv = useMutation({
    mutationFn: () => api.exposuresCsv(id, degree, revealed ? { reveal: true } : {}),
    onSuccess: (csv) => {
      const name = `${fileSafe(kase.data?.caseNumber ?? id)}-exposures-degree${degree}${revealed ? '-revealed' : ''}.csv`;
      downloadText(name, csv, 'text/csv;charset=utf-8');
      void message.success(t('case.exported'));
    },
    onError: (err) => void message.error(errorText(err, t)),
  });

  const notify = () => {
    void modal.confirm({
      title: t('case.notifyTitle'),
      content: degree === 2 ? t('case.notifyBody2') : t('case.notifyBody1'),
      okText: t('case.notifyOk'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          const r = await api.notify(id, { degree });
          void message.success(t('case.notified', { queued: r.queued, already: r.alreadyQueued }));
          setWatch((w) => w + 1);
        } catch (err) {
          void message.error(errorText(err, t));
        }
      },
    });
  };

  if (kase.isError)
    return (
      <Result
        status={(kase.error as { status?: number }).status === 404 ? '404' : 'error'}
        title={t('case.loadFailed')}
        subTitle={errorText(kase.error, t)}
        extra={<Link to="/cases">{t('case.backToList')}</Link>}
      />
    );
  if (!kase.data)
    return (
      <Spin size="large" style={{ display: 'block', margin: 48 }} tip={t('common.loading')}>
        <div />
      </Spin>
    );
  const c: Case = kase.data;
  const open = c.status === 'open';

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Breadcrumb items={[{ title: <Link to="/cases">{t('nav.cases')}</Link> }, { title: c.caseNumber }]} />
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {t('case.title', { number: c.caseNumber })}
            </Typography.Title>
            {open ? <Tag color="red">{t('cases.open')}</Tag> : <Tag>{t('cases.closed')}</Tag>}
          </Space>
        }
        extra={
          <Space wrap>
            {canReveal && !revealed && (
              <Button icon={<EyeOutlined />} disabled={!!pending} onClick={() => setDialog('reveal')}>
                {pending ? t('case.revealPending') : t('case.requestReveal')}
              </Button>
            )}
            <Button
              icon={<DownloadOutlined />}
              loading={exportCsv.isPending}
              onClick={() => exportCsv.mutate()}
            >
              {t('case.exportCsv')}
            </Button>
            {canNotify && open && (
              <Button type="primary" icon={<NotificationOutlined />} onClick={notify}>
                {t('case.notify')}
              </Button>
            )}
            {canWrite && open && (
              <Button danger icon={<CloseCircleOutlined />} onClick={() => setDialog('close')}>
                {t('case.close')}
              </Button>
            )}
          </Space>
        }
      >
        {revealed && grant && (
          <Alert
            type="warning"
            showIcon
            style={{ marginBottom: 16 }}
            message={t('case.revealedUntil', { time: fmtTime(grant.expiresAt) })}
          />
        )}
        <Descriptions column={{ xs: 1, md: 2, xl: 3 }} size="small">
          <Descriptions.Item label={t('cases.subject')}>
            {c.subject.name ?? '—'} {c.subject.phone ? `· ${c.subject.phone}` : ''}
          </Descriptions.Item>
          <Descriptions.Item label={t('case.registrations')}>{c.subject.passengers}</Descriptions.Item>
          <Descriptions.Item label={t('cases.window')}>
            {fmtRange(c.infectiousFrom, c.infectiousTo)}
          </Descriptions.Item>
          <Descriptions.Item label={t('cases.openedBy')}>{c.openedBy}</Descriptions.Item>
          <Descriptions.Item label={t('cases.openedAt')}>{fmtTime(c.openedAt)}</Descriptions.Item>
          {c.closedAt && (
            <Descriptions.Item label={t('case.closedAt')}>{fmtTime(c.closedAt)}</Descriptions.Item>
          )}
          <Descriptions.Item label={t('case.reason')}>{c.reason || '—'}</Descriptions.Item>
        </Descriptions>
        {c.unverifiedClaims.length > 0 && (
          <Alert
            type="warning"
            showIcon
            style={{ marginTop: 16 }}
            message={t('case.unverifiedTitle', { n: c.unverifiedClaims.length })}
            description={
              <>
                <Typography.Paragraph>{t('case.unverifiedHint')}</Typography.Paragraph>
                <Table
                  size="small"
                  rowKey="passengerId"
                  pagination={false}
                  dataSource={c.unverifiedClaims}
                  columns={[
                    { title: t('case.registrationId'), dataIndex: 'passengerId' },
                    { title: t('case.name'), dataIndex: 'name', render: (v: string | null) => v ?? '—' },
                    { title: t('case.phone'), dataIndex: 'phone', render: (v: string | null) => v ?? '—' },
                  ]}
                />
              </>
            }
          />
        )}
      </Card>

      <Card title={t('case.timeline')}>
        {rides.isError ? (
          <Alert
            type="error"
            showIcon
            role="alert"
            message={t('case.ridesFailed')}
            description={errorText(rides.error, t)}
          />
        ) : rides.data ? (
          <RidesTimeline rides={rides.data.items} window={{ from: c.infectiousFrom, to: c.infectiousTo }} />
        ) : (
          <Spin />
        )}
      </Card>

      <Card title={t('case.exposures')}>
        <ExposuresTable caseId={id} revealed={revealed} degree={degree} onDegree={setDegree} />
      </Card>

      {degree === 2 && (
        <Card title={t('network.title')}>
          <NetworkGraph caseId={id} caseNumber={c.caseNumber} revealed={revealed} />
        </Card>
      )}

      <Card title={t('case.delivery')}>
        <DeliveryProgress caseId={id} watch={watch} />
      </Card>

      <ReasonModal
        open={dialog === 'reveal'}
        title={t('case.requestReveal')}
        intro={t('case.revealIntro')}
        label={t('case.revealReason')}
        required
        okText={t('case.requestRevealOk')}
        onClose={() => setDialog(null)}
        onOk={async (reason) => {
          const r = await api.requestReveal(id, reason!);
          void queries.invalidateQueries({ queryKey: ['reveals', id] });
          void message.success(r.state === 'approved' ? t('case.revealGranted') : t('case.revealRequested'));
        }}
      />
      <ReasonModal
        open={dialog === 'close'}
        title={t('case.closeTitle')}
        intro={t('case.closeIntro')}
        label={t('case.closeReason')}
        required={false}
        okText={t('case.close')}
        danger
        onClose={() => setDialog(null)}
        onOk={async (reason) => {
          await api.closeCase(id, reason);
          void queries.invalidateQueries({ queryKey: ['case', id] });
          void queries.invalidateQueries({ queryKey: ['cases'] });
          void message.success(t('case.closed'));
        }}
      />
    </Space>
  );
}
