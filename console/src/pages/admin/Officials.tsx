import { PlusOutlined } from '@ant-design/icons';
import type { CreateOfficialBody, OfficialAccount, OfficialEnrolment, OfficialRole } from '@ridetrace/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  App,
  Button,
  Card,
  Checkbox,
  Empty,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useApi } from '../../api.js';
import { errorText } from '../../errors.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { hasScope, useOfficial } from '../../session.js';
import { OPERATOR_ID } from '../carriers/options.js';
import { EnrolmentModal } from './Enrolment.js';
import { LoadError } from '../../components/LoadError.js';
import { ActionError } from '../../components/ActionError.js';

// The roles of official persons (shared/src/schemas/auth.ts OFFICIAL_ROLES); written out: the console imports
// only types from @ridetrace/shared.
const ROLES: readonly OfficialRole[] = ['tracer', 'notifier', 'supervisor', 'auditor', 'admin', 'operator'];
const USERNAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{2,63}$/;

/**
 * Official person accounts: create (with the authenticator enrolment shown once), reset, disable. A fleet manager
 * (`operator` role) names the transport operator whose carriers they manage.
 */
export function OfficialsTab() {
  const t = useT();
  const api = useApi();
  const me = useOfficial();
  const queries = useQueryClient();
  const { modal, message } = App.useApp();
  const [creating, setCreating] = useState(false);
  const [enrolment, setEnrolment] = useState<OfficialEnrolment | null>(null);
  const [form] = Form.useForm<CreateOfficialBody>();
  const roles = Form.useWatch('roles', form);
  const fleetManager = roles?.includes('operator') ?? false;
  const list = useQuery({ queryKey: ['officials'], queryFn: () => api.listOfficials() });
  // The operators to choose from need the admin scope; without it the id is typed in.
  const operators = useQuery({
    queryKey: ['operators'],
    queryFn: () => api.listOperators(),
    enabled: creating && fleetManager && hasScope(me, 'admin'),
  });
  const refresh = () => void queries.invalidateQueries({ queryKey: ['officials'] });

  const create = useMutation({
    mutationFn: (body: CreateOfficialBody) => api.createOfficial(body),
    onSuccess: (e) => {
      setCreating(false);
      form.resetFields();
      setEnrolment(e);
      refresh();
    },
  });

  const confirmAction = (o: OfficialAccount, action: 'disable' | 'reset') => {
    void modal.confirm({
      title: t(action === 'disable' ? 'admin.disableTitle' : 'admin.resetTitle', { name: o.name }),
      content: t(action === 'disable' ? 'admin.disableBody' : 'admin.resetBody'),
      okText: t(action === 'disable' ? 'admin.disable' : 'admin.reset'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          if (action === 'disable') {
            await api.disableOfficial(o.id);
            void message.success(t('admin.disabled'));
          } else setEnrolment(await api.resetOfficial(o.id));
          refresh();
        } catch (err) {
          void message.error(errorText(err, t));
        }
      },
    });
  };

  const columns: ColumnsType<OfficialAccount> = [
    { title: t('admin.username'), dataIndex: 'username' },
    { title: t('admin.name'), dataIndex: 'name' },
    { title: t('admin.agency'), dataIndex: 'agency' },
    {
      title: t('shell.jurisdiction'),
      dataIndex: 'jurisdiction',
      render: (j: string[]) => (j.length ? j.join('、') : t('shell.allJurisdictions')),
    },
    {
      title: t('admin.roles'),
      dataIndex: 'roles',
      render: (roles: OfficialRole[], o) => (
        <>
          {roles.map((r) => (
            <Tag key={r}>{t(`role.${r}`)}</Tag>
          ))}
          {o.operatorId && <Typography.Text type="secondary">{o.operatorId}</Typography.Text>}
        </>
      ),
    },
    {
      title: t('cases.status'),
      dataIndex: 'disabledAt',
      render: (d: string | null) =>
        d ? (
          <Tag>{t('admin.disabledSince', { time: fmtTime(d) })}</Tag>
        ) : (
          <Tag color="green">{t('admin.active')}</Tag>
        ),
    },
    {
      title: t('approvals.actions'),
      render: (_: unknown, o) => (
        <Space>
          <Button size="small" onClick={() => confirmAction(o, 'reset')}>
            {t('admin.reset')}
          </Button>
          {!o.disabledAt && o.id !== me.id && (
            <Button size="small" danger onClick={() => confirmAction(o, 'disable')}>
              {t('admin.disable')}
            </Button>
          )}
        </Space>
      ),
    },
  ];

  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('admin.title')}
        </Typography.Title>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
          {t('admin.create')}
        </Button>
      }
    >
      {list.isError && <LoadError title={t('admin.loadFailed')} error={list.error} retry={list.refetch} />}
      <Table<OfficialAccount>
        rowKey="id"
        columns={columns}
        dataSource={list.data?.items ?? []}
        loading={list.isFetching}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: list.isPending ? ' ' : <Empty description={t('admin.empty')} /> }}
      />
      <Modal
        open={creating}
        title={t('admin.create')}
        okText={t('admin.createOk')}
        cancelText={t('common.cancel')}
        okButtonProps={{ loading: create.isPending }}
        onOk={() => form.submit()}
        onCancel={() => setCreating(false)}
        destroyOnHidden
      >
        <ActionError failed={create.isError} error={create.error} />
        <Form<CreateOfficialBody>
          form={form}
          layout="vertical"
          initialValues={{ roles: ['tracer'], jurisdiction: [] }}
          onFinish={(v) =>
            create.mutate({
              username: v.username.trim(),
              name: v.name.trim(),
              agency: v.agency.trim(),
              roles: v.roles,
              ...(v.jurisdiction?.length ? { jurisdiction: v.jurisdiction } : {}),
              // The API refuses an operator id without the operator role.
              ...(v.roles.includes('operator') && v.operatorId ? { operatorId: v.operatorId } : {}),
            })
          }
        >
          <Form.Item
            label={t('admin.username')}
            name="username"
            extra={t('admin.usernameHint')}
            rules={[{ required: true, pattern: USERNAME, message: t('admin.usernameInvalid') }]}
          >
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item
            label={t('admin.name')}
            name="name"
            rules={[{ required: true, whitespace: true, max: 64, message: t('admin.nameRequired') }]}
          >
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item
            label={t('admin.agency')}
            name="agency"
            rules={[{ required: true, whitespace: true, max: 128, message: t('admin.agencyRequired') }]}
          >
            <Input />
          </Form.Item>
          <Form.Item label={t('shell.jurisdiction')} name="jurisdiction" extra={t('admin.jurisdictionHint')}>
            <Select
              mode="tags"
              tokenSeparators={[',', '，', '、']}
              open={false}
              aria-label={t('shell.jurisdiction')}
            />
          </Form.Item>
          <Form.Item
            label={t('admin.roles')}
            name="roles"
            rules={[{ required: true, type: 'array', min: 1, message: t('admin.rolesRequired') }]}
          >
            <Checkbox.Group options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
          </Form.Item>
          {fleetManager && (
            <Form.Item
              label={t('carriers.operator')}
              name="operatorId"
              extra={t('admin.operatorHint')}
              rules={[{ required: true, pattern: OPERATOR_ID, message: t('admin.operatorRequired') }]}
            >
              {hasScope(me, 'admin') ? (
                <Select<string>
                  showSearch
                  optionFilterProp="label"
                  aria-label={t('carriers.operator')}
                  loading={operators.isFetching}
                  notFoundContent={operators.isError ? errorText(operators.error, t) : undefined}
                  options={(operators.data?.items ?? []).map((o) => ({
                    value: o.id,
                    label: `${o.name} (${o.id})`,
                  }))}
                />
              ) : (
                <Input autoComplete="off" />
              )}
            </Form.Item>
          )}
        </Form>
      </Modal>
      <EnrolmentModal enrolment={enrolment} onClose={() => setEnrolment(null)} />
    </Card>
  );
}
