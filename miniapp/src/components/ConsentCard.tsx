import { Text, View } from '@tarojs/components';
import type { Consent } from '@ridetrace/shared';
import type { Remote } from '../hooks/useRemote';
import { useLang } from '../services/i18n-core';
import { useT } from '../services/messages';
import { ErrorNotice } from './ErrorNotice';

interface Props {
  id: string;
  title: string;
  consent: Remote<Consent>;
  onRetry: () => void;
}

/** The consent text in the chosen language with its version, or why it could not be loaded. */
export function ConsentCard({ id, title, consent, onRetry }: Props) {
  const t = useT();
  const lang = useLang();
  return (
    <View className="card" id={id}>
      <Text className="subtitle">{title}</Text>
      {consent.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
      {consent.state === 'error' && <ErrorNotice error={consent.error} onRetry={onRetry} />}
      {consent.state === 'ok' && (
        <View>
          <Text className="consent">{consent.data.text[lang]}</Text>
          <Text className="hint">{t('confirm.consentVersion', { v: consent.data.version })}</Text>
        </View>
      )}
    </View>
  );
}
