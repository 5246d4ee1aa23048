import { Result } from 'antd';
import { useT, type MessageKey } from '../../i18n/index.js';

/** A menu item whose page is not built yet. */
export function ComingSoon({ title }: { title: MessageKey }) {
  const t = useT();
  return <Result status="info" title={t(title)} subTitle={t('common.comingSoon')} />;
}
