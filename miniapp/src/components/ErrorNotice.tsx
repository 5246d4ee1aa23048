import { Button, Text, View } from '@tarojs/components';
import type { ApiError } from '../services/api-error';
import { useT } from '../services/messages';
import { errorMessage } from '../services/error-messages';
import { useLang } from '../services/i18n-core';

interface Props {
  error: ApiError;
  onRetry?: () => void;
}

/** An error in words the user understands, with a retry button when retrying can help. */
export function ErrorNotice({ error, onRetry }: Props) {
  const t = useT();
  const lang = useLang();
  return (
    <View className={`notice notice--error notice--${error.code}`} role="alert" aria-live="assertive">
      <Text className="notice__text">{errorMessage(error.code, lang)}</Text>
      {onRetry && (
        <Button className="btn btn--secondary" onClick={onRetry} aria-label={t('common.retry')}>
          {t('common.retry')}
        </Button>
      )}
    </View>
  );
}
