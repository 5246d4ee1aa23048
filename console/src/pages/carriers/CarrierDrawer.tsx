import type { Carrier, CarrierKind, CreateCarrierBody, UpdateCarrierBody } from '@ridetrace/shared';
import { useMutation } from '@tanstack/react-query';
import { App, Button, Drawer, Form, Input, Select, Space } from 'antd';
import { useApi } from '../../api.js';
import { useT } from '../../i18n/index.js';
import { KINDS, PLATE } from './options.js';
import { ActionError } from '../../components/ActionError.js';

interface CarrierForm {
  kind: CarrierKind;
  plate: string;
  route?: string;
  city: string;
  operatorId?: string;
}

/** Create a carrier, or edit one's plate, route and city (its kind and operator stay); mounted while open. */
export function CarrierDrawer({
  carrier,
  isAdmin,
  operatorOptions,
  onClose,
  onSaved,
}: {
  /** 'new' to create. */
  carrier: Carrier | 'new';
  isAdmin: boolean;
  operatorOptions: { value: string; label: string }[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const api = useApi();
  const { message } = App.useApp();
  const [form] = Form.useForm<CarrierForm>();
  const creating = carrier === 'new';
  const editing = carrier === 'new' ? null : carrier;

  const save = useMutation({
    mutationFn: (v: CarrierForm): Promise<Carrier> => {
      const plate = v.plate.trim();
      const route = v.route?.trim() || undefined;
      const city = v.city.trim();
      if (editing) {
        // Only what changed; an emptied route clears it.
        const body: UpdateCarrierBody = {
          ...(plate !== editing.plate ? { plate } : {}),
          ...((route ?? null) !== editing.route ? { route: route ?? null } : {}),
          ...(city !== editing.city ? { city } : {}),
        };
        return Object.keys(body).length ? api.updateCarrier(editing.id, body) : Promise.resolve(editing);
      }
      const body: CreateCarrierBody = {
        kind: v.kind,
        plate,
        city,
        ...(route ? { route } : {}),
        ...(isAdmin && v.operatorId ? { operatorId: v.operatorId } : {}),
      };
      return api.createCarrier(body);
    },
    onSuccess: (c) => {
      void message.success(t(creating ? 'carriers.created' : 'carriers.saved', { plate: c.plate }));
      onSaved();
      onClose();
    },
  });

  return (
    <Drawer
      open
      title={editing ? t('carriers.editTitle', { plate: editing.plate }) : t('carriers.create')}
      width={420}
      onClose={onClose}
      extra={
        <Space>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={save.isPending} onClick={() => form.submit()}>
            {t(creating ? 'carriers.createOk' : 'carriers.save')}
          </Button>
        </Space>
      }
    >
      <ActionError failed={save.isError} error={save.error} />
      <Form<CarrierForm>
        form={form}
        name="carrier"
        layout="vertical"
        initialValues={
          editing
            ? { kind: editing.kind, plate: editing.plate, route: editing.route ?? '', city: editing.city }
            : { kind: 'bus' }
        }
        onFinish={(v) => save.mutate(v)}
      >
        {isAdmin && creating && (
          <Form.Item
            label={t('carriers.operator')}
            name="operatorId"
            rules={[{ required: true, message: t('carriers.operatorRequired') }]}
          >
            <Select<string>
              showSearch
              optionFilterProp="label"
              aria-label={t('carriers.operator')}
              options={operatorOptions}
            />
          </Form.Item>
        )}
        <Form.Item label={t('carriers.kind')} name="kind" rules={[{ required: true }]}>
          <Select<CarrierKind>
            aria-label={t('carriers.kind')}
            disabled={!creating}
            options={KINDS.map((k) => ({ value: k, label: t(`carrierKind.${k}`) }))}
          />
        </Form.Item>
        <Form.Item
          label={t('carriers.plate')}
          name="plate"
          extra={t('carriers.plateHint')}
          rules={[
            { required: true, whitespace: true, message: t('carriers.plateRequired') },
            {
              validator: (_, v: string | undefined) =>
                !v?.trim() || PLATE.test(v.trim())
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('carriers.plateInvalid'))),
            },
          ]}
        >
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item
          label={t('carriers.route')}
          name="route"
          extra={t('carriers.routeHint')}
          rules={[{ max: 40 }]}
        >
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item
          label={t('carriers.city')}
          name="city"
          rules={[{ required: true, whitespace: true, max: 40, message: t('carriers.cityRequired') }]}
        >
          <Input autoComplete="off" />
        </Form.Item>
      </Form>
    </Drawer>
  );
}
