import { Alert, Form, Input, Modal } from 'antd';
import { useEffect, useState, type ReactNode } from 'react';
import { errorText } from '../../errors.js';
import { useT } from '../../i18n/index.js';

/**
 * A confirmation dialog that asks for a reason or note (reveal request, closing a case, approving): the action
 * runs on OK and its error stays in the dialog, in the API's words.
 */
export function ReasonModal({
  open,
  title,
  intro,
  label,
  required,
  okText,
  danger,
  onOk,
  onClose,
}: {
  open: boolean;
  title: string;
  intro?: ReactNode;
  label: string;
  required: boolean;
  okText: string;
  danger?: boolean;
  onOk: (text: string | undefined) => Promise<unknown>;
  onClose: () => void;
}) {
  const t = useT();
  const [form] = Form.useForm<{ text?: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (open) {
      form.resetFields();
      setError(null);
    }
  }, [open, form]);

  const submit = async ({ text }: { text?: string }) => {
    setBusy(true);
    setError(null);
    try {
      await onOk(text?.trim() || undefined);
      onClose();
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={title}
      okText={okText}
      cancelText={t('common.cancel')}
      okButtonProps={{ danger: !!danger, loading: busy }}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
    >
      {intro && <div style={{ marginBottom: 12 }}>{intro}</div>}
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)}>
        <Form.Item
          label={label}
          name="text"
          rules={[{ required, whitespace: required, message: t('common.reasonRequired') }, { max: 500 }]}
        >
          <Input.TextArea rows={3} maxLength={500} showCount autoFocus />
        </Form.Item>
      </Form>
    </Modal>
  );
}
