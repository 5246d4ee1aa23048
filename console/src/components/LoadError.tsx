import { Alert, Button } from 'antd';
import { errorText } from '../errors.js';
import { useT } from '../i18n/index.js';

/** A read that failed: what could not be loaded, the API's own message, and a retry. */
export function LoadError({ title, error, retry }: { title: string; error: unknown; retry: () => unknown }) {
  const t = useT();
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      message={title}
      description={errorText(error, t)}
      action={<Button onClick={() => void retry()}>{t('common.retry')}</Button>}
      style={{ marginBottom: 16 }}
    />
  );
}
