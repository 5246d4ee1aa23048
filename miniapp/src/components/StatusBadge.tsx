import { Text, View } from '@tarojs/components';
import type { HealthColour } from '@ridetrace/shared';
import { useT } from '../services/messages';

/** The health colour as a coloured block with its name (colour is never the only signal). */
export function StatusBadge({ colour, id }: { colour: HealthColour; id?: string }) {
  const t = useT();
  const label = t(`status.${colour}`);
  return (
    <View
      id={id}
      className={`badge colour--${colour}`}
      role="status"
      aria-label={`${t('status.title')}: ${label}`}
    >
      <Text className="badge__text">{label}</Text>
    </View>
  );
}
