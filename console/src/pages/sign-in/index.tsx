import { LockOutlined, SafetyOutlined, UserOutlined } from '@ant-design/icons';
import type { OfficialSignInBody } from '@ridetrace/shared';
import { Alert, Button, Card, Form, Input, Select, Space, Typography } from 'antd';
import { useState } from 'react';
import { errorText } from '../../errors.js';
import { useLocale, useT, type Locale } from '../../i18n/index.js';
import { useSession } from '../../session.js';
import { IDLE_SIGN_OUT_MINUTES } from '../../settings.js';

/** Username, password and the authenticator's 6-digit code; the session then lives in httpOnly cookies. */
export function SignInPage() {
  const t = useT();
  const { locale, setLocale } = useLocale();
  const { state, signIn } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<OfficialSignInBody>();
  const reason = state.status === 'signedOut' ? state.reason : undefined;

  const submit = async (body: OfficialSignInBody) => {
    setBusy(true);
    setError(null);
    try {
      await signIn(body);
    } catch (err) {
      setError(errorText(err, t));
      // A used code cannot be sent again: ask for the next one.
      form.setFieldValue('totp', '');
      setBusy(false);
    }
  };

  return (
    <div className="rt-sign-in">
      <main>
        <Card>
          <Space direction="vertical" size="large" style={{ width: '100%' }}>
            <div>
              <Typography.Title level={3} style={{ marginBottom: 4 }}>
                {t('app.title')}
              </Typography.Title>
              <Typography.Text type="secondary">{t('signIn.subtitle')}</Typography.Text>
            </div>
            {reason === 'idle' && (
              <Alert type="info" showIcon message={t('signIn.idle', { minutes: IDLE_SIGN_OUT_MINUTES })} />
            )}
            {reason === 'expired' && <Alert type="warning" showIcon message={t('signIn.expired')} />}
            {reason === 'signedOut' && <Alert type="success" showIcon message={t('signIn.signedOut')} />}
            {error && <Alert type="error" showIcon message={error} role="alert" />}
            <Form<OfficialSignInBody>
              form={form}
              layout="vertical"
              requiredMark={false}
              onFinish={(v) => void submit(v)}
              disabled={busy}
            >
              <Form.Item
                label={t('signIn.username')}
                name="username"
                rules={[{ required: true, whitespace: true, message: t('signIn.usernameRequired') }]}
              >
                <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
              </Form.Item>
              <Form.Item
                label={t('signIn.password')}
                name="password"
                rules={[{ required: true, message: t('signIn.passwordRequired') }]}
              >
                <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
              </Form.Item>
              <Form.Item
                label={t('signIn.totp')}
                name="totp"
                extra={t('signIn.totpHint')}
                normalize={(v: string) => v.replace(/\D/g, '').slice(0, 6)}
                rules={[{ required: true, pattern: /^\d{6}$/, message: t('signIn.totpInvalid') }]}
              >
                <Input
                  prefix={<SafetyOutlined />}
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  maxLength={6}
                />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy}>
                {t('signIn.submit')}
              </Button>
            </Form>
            <Select<Locale>
              aria-label={t('shell.language')}
              value={locale}
              onChange={setLocale}
              size="small"
              style={{ width: 110 }}
              options={[
                { value: 'zh-CN', label: '简体中文' },
                { value: 'en', label: 'English' },
              ]}
            />
          </Space>
        </Card>
      </main>
    </div>
  );
}
