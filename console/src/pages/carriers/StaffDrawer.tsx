import type { Carrier, StaffAccount } from '@ridetrace/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Drawer, Empty, Form, List, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useApi } from '../../api.js';
import { LoadError } from '../../components/LoadError.js';
import { errorText } from '../../errors.js';
import { useT } from '../../i18n/index.js';
import { ActionError } from '../../components/ActionError.js';

/**
 * The staff accounts (drivers' and conductors' devices) bound to a carrier: they may record manual rides on it.
 * Unbind after confirming; bind one of the operator's other staff accounts.
 */
export function StaffDrawer({
  carrier,
  isAdmin,
  onClose,
}: {
  carrier: Carrier | null;
  isAdmin: boolean;
  onClose: () => void;
}) {
  const t = useT();
  return (
    <Drawer
      open={!!carrier}
      title={carrier ? t('staff.title', { plate: carrier.plate }) : ''}
      width={460}
      onClose={onClose}
      destroyOnHidden
    >
      {carrier && <StaffBindings carrier={carrier} isAdmin={isAdmin} />}
    </Drawer>
  );
}

function StaffBindings({ carrier, isAdmin }: { carrier: Carrier; isAdmin: boolean }) {
  const t = useT();
  const api = useApi();
  const queries = useQueryClient();
  const { modal, message } = App.useApp();
  const [choice, setChoice] = useState<string | undefined>(undefined);
  const bound = useQuery({
    queryKey: ['carrier-staff', carrier.id],
    queryFn: () => api.carrierStaff(carrier.id),
  });
  // Administrators see every operator: they name the carrier's.
  const accounts = useQuery({
    queryKey: ['staff-accounts', isAdmin ? carrier.operatorId : null],
    queryFn: () => api.staffAccounts(isAdmin ? carrier.operatorId : undefined),
  });
  const refresh = () => {
    void queries.invalidateQueries({ queryKey: ['carrier-staff', carrier.id] });
    void queries.invalidateQueries({ queryKey: ['staff-accounts'] });
  };

  const bind = useMutation({
    mutationFn: (clientId: string) => api.bindStaff(carrier.id, clientId),
    onSuccess: (b) => {
      queries.setQueryData(['carrier-staff', carrier.id], b);
      setChoice(undefined);
      void message.success(t('staff.bound'));
      refresh();
    },
  });

  const byId = new Map<string, StaffAccount>((accounts.data?.items ?? []).map((a) => [a.clientId, a]));
  const boundIds = bound.data?.staff ?? [];
  const choices = (accounts.data?.items ?? []).filter((a) => !a.disabled && !boundIds.includes(a.clientId));
  const label = (id: string) => byId.get(id)?.name ?? id;

  const confirmUnbind = (clientId: string) => {
    void modal.confirm({
      title: t('staff.unbindTitle', { name: label(clientId), plate: carrier.plate }),
      content: t('staff.unbindBody'),
      okText: t('staff.unbind'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          queries.setQueryData(['carrier-staff', carrier.id], await api.unbindStaff(carrier.id, clientId));
          void message.success(t('staff.unbound'));
          refresh();
        } catch (err) {
          void message.error(errorText(err, t));
        }
      },
    });
  };

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('staff.intro')}
      </Typography.Paragraph>
      {bound.isError && <LoadError title={t('staff.loadFailed')} error={bound.error} retry={bound.refetch} />}
      {accounts.isError && (
        <LoadError title={t('staff.accountsFailed')} error={accounts.error} retry={accounts.refetch} />
      )}
      <List<string>
        bordered
        size="small"
        loading={bound.isPending && !bound.isError}
        header={<Typography.Text strong>{t('staff.boundList')}</Typography.Text>}
        dataSource={boundIds}
        locale={{ emptyText: <Empty description={t('staff.none')} /> }}
        renderItem={(id) => (
          <List.Item
            actions={[
              <Button key="unbind" size="small" danger onClick={() => confirmUnbind(id)}>
                {t('staff.unbind')}
              </Button>,
            ]}
          >
            <Space direction="vertical" size={0}>
              <span>{label(id)}</span>
              <Typography.Text type="secondary" code>
                {id}
              </Typography.Text>
              {byId.get(id)?.disabled && <Tag>{t('staff.disabled')}</Tag>}
            </Space>
          </List.Item>
        )}
      />
      {carrier.status === 'active' && (
        <Form name="staff-bind" layout="vertical" onFinish={() => choice && bind.mutate(choice)}>
          <ActionError failed={bind.isError} error={bind.error} />
          <Form.Item
            label={t('staff.bindLabel')}
            htmlFor="staff-bind"
            extra={accounts.data && !choices.length ? t('staff.noChoices') : undefined}
          >
            <Space.Compact style={{ width: '100%' }}>
              <Select<string>
                id="staff-bind"
                showSearch
                optionFilterProp="label"
                aria-label={t('staff.bindLabel')}
                placeholder={t('staff.bindPlaceholder')}
                loading={accounts.isFetching}
                value={choice}
                onChange={setChoice}
                options={choices.map((a) => ({
                  value: a.clientId,
                  label: `${a.name} (${a.clientId})`,
                }))}
                style={{ width: '100%' }}
              />
              <Button type="primary" htmlType="submit" disabled={!choice} loading={bind.isPending}>
                {t('staff.bind')}
              </Button>
            </Space.Compact>
          </Form.Item>
        </Form>
      )}
    </Space>
  );
}
