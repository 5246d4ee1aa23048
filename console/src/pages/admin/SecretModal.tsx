import type { ClientWithSecret } from '@ridetrace/shared';
import { Alert, Descriptions, Modal, Space, Typography } from 'antd';
import { useT } from '../../i18n/index.js';

/** A machine client's secret, new or rotated: shown this once (the API keeps only its hash). */
export function SecretModal({ client, onClose }: { client: ClientWithSecret | null; onClose: () => void }) {
  const t = useT();
  return (
    <Modal
      open={!!client}
      title={t('clients.secretTitle')}
      onOk={onClose}
      onCancel={onClose}
      okText={t('clients.secretDone')}
      cancelButtonProps={{ style: { display: 'none' } }}
      maskClosable={false}
      destroyOnHidden
    >
      {client && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Alert type="warning" showIcon message={t('clients.secretOnce')} />
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('clients.name')}>{client.name}</Descriptions.Item>
            <Descriptions.Item label={t('clients.clientId')}>
              <Typography.Text code copyable>
                {client.clientId}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('clients.secret')}>
              <Typography.Text code copyable data-testid="client-secret">
                {client.clientSecret}
              </Typography.Text>
            </Descriptions.Item>
          </Descriptions>
        </Space>
      )}
    </Modal>
  );
}
