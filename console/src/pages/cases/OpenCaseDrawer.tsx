import type { Case, CreateCaseBody } from '@ridetrace/shared';
import { ID_TYPES, isValidIdNumber, isValidPhone, type IdType } from '@ridetrace/shared/identity';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, DatePicker, Drawer, Form, Input, Radio, Select, Space } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useNavigate } from 'react-router-dom';
import { useApi } from '../../api.js';
import { errorText } from '../../errors.js';
import { useT } from '../../i18n/index.js';

/** The server's longest infectious window (TRACE_MAX_WINDOW_DAYS default); the server has the last word. */
const MAX_WINDOW_DAYS = 30;
const CASE_NUMBER = /^[\p{L}\p{N}_./:-]+$/u;

interface OpenCaseForm {
  subjectBy: 'phone' | 'document';
  phone?: string;
  idType?: IdType;
  idNumber?: string;
  window?: [Dayjs, Dayjs];
  caseNumber: string;
  reason: string;
}

function bodyOf(v: OpenCaseForm): CreateCaseBody {
  const [from, to] = v.window!;
  return {
    subject:
      v.subjectBy === 'phone'
        ? { phone: v.phone!.trim() }
        : { idType: v.idType!, idNumber: v.idNumber!.trim() },
    infectiousFrom: from.toISOString(),
    infectiousTo: to.toISOString(),
    caseNumber: v.caseNumber.trim(),
    reason: v.reason.trim(),
  };
}

/** Opens a case: the subject by verified phone or ID document, the infectious window, case number and reason. */
export function OpenCaseDrawer({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const api = useApi();
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [form] = Form.useForm<OpenCaseForm>();
  const subjectBy = Form.useWatch('subjectBy', form) ?? 'phone';
  const mutation = useMutation({
    mutationFn: (body: CreateCaseBody) => api.openCase(body),
    onSuccess: (c: Case) => {
      void queries.invalidateQueries({ queryKey: ['cases'] });
      form.resetFields();
      onClose();
      void navigate(`/cases/${c.id}`);
    },
  });

  return (
    <Drawer
      title={t('openCase.title')}
      open={open}
      onClose={onClose}
      width={520}
      destroyOnHidden
      footer={
        <Space style={{ justifyContent: 'flex-end', width: '100%' }}>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={mutation.isPending} onClick={() => form.submit()}>
            {t('openCase.submit')}
          </Button>
        </Space>
      }
    >
      {mutation.isError && (
        <Alert
          type="error"
          showIcon
          role="alert"
          message={errorText(mutation.error, t)}
          style={{ marginBottom: 16 }}
        />
      )}
      <Form<OpenCaseForm>
        form={form}
        layout="vertical"
        initialValues={{ subjectBy: 'phone', idType: 'cn_id' }}
        onFinish={(v) => mutation.mutate(bodyOf(v))}
      >
        <Form.Item label={t('openCase.subjectBy')} name="subjectBy">
          <Radio.Group
            options={[
              { value: 'phone', label: t('openCase.byPhone') },
              { value: 'document', label: t('openCase.byDocument') },
            ]}
          />
        </Form.Item>
        {subjectBy === 'phone' ? (
          <Form.Item
            label={t('openCase.phone')}
            name="phone"
            extra={t('openCase.phoneHint')}
            rules={[
              { required: true, message: t('openCase.phoneRequired') },
              {
                validator: (_, v?: string) =>
                  !v || isValidPhone(v.trim())
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('openCase.phoneInvalid'))),
              },
            ]}
          >
            <Input inputMode="tel" autoComplete="off" />
          </Form.Item>
        ) : (
          <>
            <Form.Item label={t('openCase.idType')} name="idType" rules={[{ required: true }]}>
              <Select options={ID_TYPES.map((k) => ({ value: k, label: t(`idType.${k}`) }))} />
            </Form.Item>
            <Form.Item
              label={t('openCase.idNumber')}
              name="idNumber"
              dependencies={['idType']}
              rules={[
                { required: true, message: t('openCase.idNumberRequired') },
                ({ getFieldValue }) => ({
                  validator: (_, v?: string) =>
                    !v || isValidIdNumber(getFieldValue('idType') as IdType, v)
                      ? Promise.resolve()
                      : Promise.reject(new Error(t('openCase.idNumberInvalid'))),
                }),
              ]}
            >
              <Input autoComplete="off" />
            </Form.Item>
          </>
        )}
        <Form.Item
          label={t('openCase.window')}
          name="window"
          extra={t('openCase.windowHint', { days: MAX_WINDOW_DAYS })}
          rules={[
            { required: true, message: t('openCase.windowRequired') },
            {
              validator: (_, v?: [Dayjs, Dayjs]) => {
                if (!v) return Promise.resolve();
                const [from, to] = v;
                if (to.isAfter(dayjs())) return Promise.reject(new Error(t('openCase.windowFuture')));
                if (to.diff(from, 'day', true) > MAX_WINDOW_DAYS)
                  return Promise.reject(new Error(t('openCase.windowTooLong', { days: MAX_WINDOW_DAYS })));
                return Promise.resolve();
              },
            },
          ]}
        >
          <DatePicker.RangePicker
            showTime={{ format: 'HH:mm' }}
            format="YYYY-MM-DD HH:mm"
            disabledDate={(d) => d.isAfter(dayjs(), 'day')}
            style={{ width: '100%' }}
            placeholder={[t('openCase.from'), t('openCase.to')]}
          />
        </Form.Item>
        <Form.Item
          label={t('openCase.caseNumber')}
          name="caseNumber"
          rules={[
            { required: true, whitespace: true, message: t('openCase.caseNumberRequired') },
            { max: 64, message: t('openCase.caseNumberInvalid') },
            { pattern: CASE_NUMBER, message: t('openCase.caseNumberInvalid') },
          ]}
        >
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item
          label={t('openCase.reason')}
          name="reason"
          extra={t('openCase.reasonHint')}
          rules={[{ required: true, whitespace: true, message: t('openCase.reasonRequired') }, { max: 500 }]}
        >
          <Input.TextArea rows={3} maxLength={500} showCount />
        </Form.Item>
        {/* Enter in a field submits the form (keyboard use); the drawer's footer button does the same. */}
        <button type="submit" hidden aria-hidden tabIndex={-1} />
      </Form>
    </Drawer>
  );
}
