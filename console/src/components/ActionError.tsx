import { Alert } from 'antd';
import { errorText } from '../errors.js';
import { useT } from '../i18n/index.js';

/** A write that failed, in the API's own words, above the form that made it; nothing without an error. */
export function ActionError({ failed, error }: { failed: boolean; error: unknown }) {
  const t = useT();
  if (!failed) return null;
  return (
    <Alert type="error" showIcon role="alert" message={errorText(error, t)} style={{ marginBottom: 12 }} />
  );
}
