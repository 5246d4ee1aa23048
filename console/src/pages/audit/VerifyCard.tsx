import { CheckCircleOutlined, CloseCircleOutlined, ReloadOutlined } from '@ant-design/icons';
import type { AuditVerify } from '@ridetrace/shared';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Skeleton, Tag, Typography } from 'antd';
import { useApi } from '../../api.js';
import { errorText } from '../../errors.js';
import { fmtTime } from '../../format.js';
import { useT, type Translate } from '../../i18n/index.js';

function Outcome({ r, t }: { r: AuditVerify; t: Translate }) {
  if (r.ok)
    return (
      <Tag color="success" icon={<CheckCircleOutlined />} style={{ fontSize: 14, padding: '4px 8px' }}>
        {t('audit.verify.ok', { entries: r.entries })}
      </Tag>
    );
  const broken = r.firstBroken!;
  return (
    <Tag color="error" icon={<CloseCircleOutlined />} style={{ fontSize: 14, padding: '4px 8px' }}>
      {t('audit.verify.broken', { seq: broken.seq, reason: t(`audit.verify.reason.${broken.reason}`) })}
    </Tag>
  );
}

/**
 * The chain recomputed by the API (GET /v1/audit/verify, itself an audit entry): read once when the page opens and
 * again on request, never in the background.
 */
export function VerifyCard() {
  const t = useT();
  const api = useApi();
  const verify = useQuery({
    queryKey: ['audit-verify'],
    queryFn: () => api.verifyAudit(),
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const r = verify.data;
  const cp = r?.lastCheckpoint;

  return (
    <Card
      title={t('audit.verify.title')}
      extra={
        <Button icon={<ReloadOutlined />} loading={verify.isFetching} onClick={() => void verify.refetch()}>
          {t('audit.verify.again')}
        </Button>
      }
    >
      {verify.isPending && <Skeleton active paragraph={{ rows: 2 }} aria-label={t('common.loading')} />}
      {verify.isError && (
        <Alert
          type="error"
          showIcon
          role="alert"
          message={t('audit.verify.failed')}
          description={errorText(verify.error, t)}
        />
      )}
      {r && (
        <Descriptions column={{ xs: 1, md: 2 }} size="small">
          <Descriptions.Item label={t('audit.verify.result')} span={2}>
            <Outcome r={r} t={t} />
          </Descriptions.Item>
          <Descriptions.Item label={t('audit.verify.range')}>
            {r.entries > 0 ? `#${r.fromSeq} – #${r.toSeq}` : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('audit.verify.anchor')}>
            <Typography.Text type={r.anchor === 'none' ? 'warning' : undefined}>
              {t(`audit.verify.anchor.${r.anchor}`)}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label={t('audit.verify.checkpoint')} span={2}>
            {cp ? (
              <span>
                {t('audit.verify.checkpointAt', { seq: cp.seq, at: fmtTime(cp.at), keyId: cp.keyId })}{' '}
                {cp.verified ? (
                  <Tag color="success">{t('audit.verify.checkpointValid')}</Tag>
                ) : (
                  <Tag color="error">{t('audit.verify.checkpointInvalid')}</Tag>
                )}
              </span>
            ) : (
              <Typography.Text type="secondary">{t('audit.verify.noCheckpoint')}</Typography.Text>
            )}
          </Descriptions.Item>
        </Descriptions>
      )}
    </Card>
  );
}
