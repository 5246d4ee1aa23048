import { PlusOutlined } from '@ant-design/icons';
import type { Client, ClientWithSecret, CreateClientBody, ROLE_SCOPES } from '@ridetrace/shared';
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
import { LoadError } from '../../components/LoadError.js';
import { errorText } from '../../errors.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { SecretModal } from './SecretModal.js';
import { ActionError } from '../../components/ActionError.js';

type ClientRole = Client['role'];
type ClientScope = NonNullable<CreateClientBody['scopes']>[number];

/**
 * The scopes each machine-client role may hold (shared ROLE_SCOPES), written out to keep the contract's schemas out
 * of the bundle; the type fails to compile when the API gains a role this lacks.
 */
const SCOPES_OF: typeof ROLE_SCOPES = {
  staff: ['staff'],
  operator: ['carriers:write'],
  official: ['case:write', 'trace:read', 'trace:reveal', 'trace:notify', 'status:clear'],
  admin: ['admin', 'audit:read', 'officials:admin'],
};
const CLIENT_ROLES = Object.keys(SCOPES_OF) as ClientRole[];
/** Roles whose clients act for one transport operator (the API requires the operator for these, refuses it else). */
const OPERATOR_ROLES: readonly ClientRole[] = ['staff', 'operator'];
const scopesOf = (role: ClientRole) => [...SCOPES_OF[role]] as ClientScope[];

interface ClientForm {
  name: string;
  role: ClientRole;
  operatorId?: string;
  scopes: ClientScope[];
}

/** Machine clients (integration systems, staff devices, operators' systems): create, disable, rotate the secret. */
export function ClientsTab() {
  const t = useT();
  const api = useApi();
  const queries = useQueryClient();
  const { modal, message } = App.useApp();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<ClientWithSecret | null>(null);
  const [form] = Form.useForm<ClientForm>();
  const role = Form.useWatch('role', form);
  const list = useQuery({ queryKey: ['clients'], queryFn: () => api.listClients() });
  const operators = useQuery({ queryKey: ['operators'], queryFn: () => api.listOperators() });
  const refresh = () => void queries.invalidateQueries({ queryKey: ['clients'] });
  const operatorName = (id: string) => operators.data?.items.find((o) => o.id === id)?.name ?? id;

  const create = useMutation({
    mutationFn: (body: CreateClientBody) => api.createClient(body),
    onSuccess: (c) => {
      setCreating(false);
      form.resetFields();
      setSecret(c);
      refresh();
    },
  });

  const confirmAction = (c: Client, action: 'disable' | 'rotate') => {
    void modal.confirm({
      title: t(action === 'disable' ? 'clients.disableTitle' : 'clients.rotateTitle', { name: c.name }),
      content: t(action === 'disable' ? 'clients.disableBody' : 'clients.rotateBody'),
      okText: t(action === 'disable' ? 'clients.disable' : 'clients.rotate'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          if (action === 'disable') {
            await api.disableClient(c.clientId);
            void message.success(t('clients.disabled', { name: c.name }));
          } else setSecret(await api.rotateClientSecret(c.clientId));
          refresh();
        } catch (err) {
          void message.error(errorText(err, t));
        }
      },
    });
  };

  const columns: ColumnsType<Client> = [
    {
      title: t('clients.name'),
      dataIndex: 'name',
      render: (name: string, c) => (
        <Space direction="vertical" size={0}>
          <span>{name}</span>
          <Typography.Text type="secondary" code>
            {c.clientId}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('clients.role'), dataIndex: 'role', render: (r: ClientRole) => t(`clientRole.${r}`) },
    {
      title: t('clients.scopes'),
      dataIndex: 'scopes',
      render: (scopes: string[]) => scopes.map((s) => <Tag key={s}>{s}</Tag>),
    },
    {
      title: t('carriers.operator'),
      dataIndex: 'operatorId',
      render: (id: string | null) => (id ? operatorName(id) : '—'),
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
    { title: t('clients.createdAt'), dataIndex: 'createdAt', render: (v: string) => fmtTime(v) },
    {
      title: t('approvals.actions'),
      render: (_: unknown, c) =>
        !c.disabledAt && (
          <Space>
            <Button size="small" onClick={() => confirmAction(c, 'rotate')}>
              {t('clients.rotate')}
            </Button>
            <Button size="small" danger onClick={() => confirmAction(c, 'disable')}>
              {t('clients.disable')}
            </Button>
          </Space>
        ),
    },
  ];

  const roleScopes = role ? scopesOf(role) : [];
  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('clients.title')}
        </Typography.Title>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
          {t('clients.create')}
        </Button>
      }
    >
      {list.isError && <LoadError title={t('clients.loadFailed')} error={list.error} retry={list.refetch} />}
      <Table<Client>
        rowKey="clientId"
        columns={columns}
        dataSource={list.data?.items ?? []}
        loading={list.isFetching}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: list.isPending ? ' ' : <Empty description={t('clients.empty')} /> }}
      />
      <Modal
        open={creating}
        title={t('clients.create')}
        okText={t('admin.createOk')}
        cancelText={t('common.cancel')}
        okButtonProps={{ loading: create.isPending }}
        onOk={() => form.submit()}
        onCancel={() => setCreating(false)}
        destroyOnHidden
      >
        <ActionError failed={create.isError} error={create.error} />
        <Form<ClientForm>
          form={form}
          layout="vertical"
          initialValues={{ role: 'staff', scopes: scopesOf('staff') }}
          onValuesChange={(changed: Partial<ClientForm>) => {
            // A new role: all its scopes, as the API would default to.
            if (changed.role) form.setFieldsValue({ scopes: scopesOf(changed.role) });
          }}
          onFinish={(v) =>
            create.mutate({
              name: v.name.trim(),
              role: v.role,
              ...(OPERATOR_ROLES.includes(v.role) && v.operatorId ? { operatorId: v.operatorId } : {}),
              // Sent only when narrowed: the API's default stays in step with the role.
              ...(v.scopes.length < SCOPES_OF[v.role].length ? { scopes: v.scopes } : {}),
            })
          }
        >
          <Form.Item
            label={t('clients.name')}
            name="name"
            extra={t('clients.nameHint')}
            rules={[{ required: true, whitespace: true, max: 80, message: t('clients.nameRequired') }]}
          >
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item label={t('clients.role')} name="role" rules={[{ required: true }]}>
            <Select<ClientRole>
              aria-label={t('clients.role')}
              options={CLIENT_ROLES.map((r) => ({ value: r, label: t(`clientRole.${r}`) }))}
            />
          </Form.Item>
          {role && OPERATOR_ROLES.includes(role) && (
            <Form.Item
              label={t('carriers.operator')}
              name="operatorId"
              rules={[{ required: true, message: t('admin.operatorRequired') }]}
            >
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
            </Form.Item>
          )}
          <Form.Item
            label={t('clients.scopes')}
            name="scopes"
            extra={t('clients.scopesHint')}
            rules={[{ required: true, type: 'array', min: 1, message: t('clients.scopesRequired') }]}
          >
            <Checkbox.Group options={roleScopes.map((s) => ({ value: s, label: s }))} />
          </Form.Item>
        </Form>
      </Modal>
      <SecretModal client={secret} onClose={() => setSecret(null)} />
    </Card>
  );
}
