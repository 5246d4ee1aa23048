import { PlusOutlined } from '@ant-design/icons';
import type { CreateOperatorBody, Operator } from '@ridetrace/shared';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Empty, Form, Input, Modal, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useApi } from '../../api.js';
import { LoadError } from '../../components/LoadError.js';
import { fmtTime } from '../../format.js';
import { useT } from '../../i18n/index.js';
import { OPERATOR_ID } from '../carriers/options.js';
import { ActionError } from '../../components/ActionError.js';

/** Transport operators (bus companies, taxi firms): the owners of carriers, staff devices and fleet managers. */
export function OperatorsTab() {
  const t = useT();
  const api = useApi();
  const queries = useQueryClient();
  const { message } = App.useApp();
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<CreateOperatorBody>();
  const list = useQuery({ queryKey: ['operators'], queryFn: () => api.listOperators() });

  const create = useMutation({
    mutationFn: (v: CreateOperatorBody) => api.createOperator(v.id.trim(), v.name.trim()),
    onSuccess: (o) => {
      setCreating(false);
      form.resetFields();
      void message.success(t('operators.created', { name: o.name }));
      void queries.invalidateQueries({ queryKey: ['operators'] });
    },
  });

  const columns: ColumnsType<Operator> = [
    {
      title: t('operators.id'),
      dataIndex: 'id',
      render: (id: string) => <Typography.Text code>{id}</Typography.Text>,
    },
    { title: t('operators.name'), dataIndex: 'name' },
    { title: t('clients.createdAt'), dataIndex: 'createdAt', render: (v: string) => fmtTime(v) },
  ];

  return (
    <Card
      title={
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('operators.title')}
        </Typography.Title>
      }
      extra={
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
          {t('operators.create')}
        </Button>
      }
    >
      {list.isError && (
        <LoadError title={t('operators.loadFailed')} error={list.error} retry={list.refetch} />
      )}
      <Table<Operator>
        rowKey="id"
        columns={columns}
        dataSource={list.data?.items ?? []}
        loading={list.isFetching}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: list.isPending ? ' ' : <Empty description={t('operators.empty')} /> }}
      />
      <Modal
        open={creating}
        title={t('operators.create')}
        okText={t('admin.createOk')}
        cancelText={t('common.cancel')}
        okButtonProps={{ loading: create.isPending }}
        onOk={() => form.submit()}
        onCancel={() => setCreating(false)}
        destroyOnHidden
      >
        <ActionError failed={create.isError} error={create.error} />
        <Form<CreateOperatorBody> form={form} layout="vertical" onFinish={(v) => create.mutate(v)}>
          <Form.Item
            label={t('operators.id')}
            name="id"
            extra={t('operators.idHint')}
            rules={[{ required: true, pattern: OPERATOR_ID, message: t('operators.idInvalid') }]}
          >
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item
            label={t('operators.name')}
            name="name"
            rules={[{ required: true, whitespace: true, max: 80, message: t('operators.nameRequired') }]}
          >
            <Input autoComplete="off" />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
