import { Text, View } from '@tarojs/components';
import { ErrorNotice } from '../../components/ErrorNotice';
import { RideLine } from '../../components/RideLine';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/api';
import { formatDate, formatDateTime } from '../../services/format';
import { useLang } from '../../services/i18n-core';
import { useT } from '../../services/messages';

/** Exposure notifications: which ride, how close, and what to do. */
export default function InboxPage() {
  usePageTitle('inbox.title');
  const t = useT();
  const lang = useLang();
  const [inbox, reload] = useRemote(async () => (await api().myNotifications()).items);

  return (
    <View className="page inbox">
      <Text className="title">{t('inbox.title')}</Text>
      {inbox.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
      {inbox.state === 'error' && <ErrorNotice error={inbox.error} onRetry={reload} />}
      {inbox.state === 'ok' && inbox.data.length === 0 && <Text className="empty">{t('inbox.empty')}</Text>}
      {inbox.state === 'ok' &&
        inbox.data.map((n) => {
          // A secondary contact rode with a close contact of the case, not with the case: a milder notice.
          const secondary = n.kind === 'secondary_exposure';
          const tone = !secondary && n.exposure.level === 'close' ? 'error' : 'warn';
          return (
            <View key={n.id} className={`card inbox__item inbox__item--${n.exposure.level}`} role="article">
              <View className="row">
                <Text className="subtitle">{t(secondary ? 'inbox.secondary' : 'inbox.exposure')}</Text>
                <Text className="row__label">{formatDate(n.createdAt)}</Text>
              </View>
              <Text className={`notice notice--${tone} notice__text`}>
                {secondary ? t('inbox.secondaryLevel') : t(`inbox.level.${n.exposure.level}`)}
              </Text>
              <RideLine ride={n.exposure} />
              <Text className="field__label">{t('inbox.todo')}</Text>
              <Text className="consent">{n.advice[lang]}</Text>
              <Text className="hint">{t('inbox.observeUntil', { d: formatDateTime(n.observeUntil) })}</Text>
            </View>
          );
        })}
    </View>
  );
}
