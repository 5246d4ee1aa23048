import type { OfficialEnrolment } from '@ridetrace/shared';
import { Alert, Descriptions, Modal, Space, Typography } from 'antd';
import qrcode from 'qrcode-generator';
import { useMemo } from 'react';
import { useT } from '../../i18n/index.js';

/** The otpauth URI as a QR image (a data URL: the console's policy allows data: images, no inline markup). */
function qrDataUrl(text: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createDataURL(5, 8);
}

/** The initial password and the authenticator enrolment of a new or reset account: shown this once only. */
export function EnrolmentModal({
  enrolment,
  onClose,
}: {
  enrolment: OfficialEnrolment | null;
  onClose: () => void;
}) {
  const t = useT();
  const qr = useMemo(() => (enrolment ? qrDataUrl(enrolment.otpauthUri) : ''), [enrolment]);
  return (
    <Modal
      open={!!enrolment}
      title={t('admin.enrolmentTitle')}
      onOk={onClose}
      onCancel={onClose}
      okText={t('admin.enrolmentDone')}
      cancelButtonProps={{ style: { display: 'none' } }}
      maskClosable={false}
      destroyOnHidden
    >
      {enrolment && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Alert type="warning" showIcon message={t('admin.enrolmentOnce')} />
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('admin.username')}>{enrolment.official.username}</Descriptions.Item>
            <Descriptions.Item label={t('admin.password')}>
              <Typography.Text code copyable data-testid="initial-password">
                {enrolment.password}
              </Typography.Text>
            </Descriptions.Item>
          </Descriptions>
          <Typography.Text>{t('admin.scanQr')}</Typography.Text>
          <img
            src={qr}
            alt={t('admin.qrAlt', { username: enrolment.official.username })}
            width={220}
            height={220}
          />
          <Typography.Text type="secondary" copyable={{ text: enrolment.otpauthUri }}>
            {t('admin.otpauthUri')}
          </Typography.Text>
        </Space>
      )}
    </Modal>
  );
}
