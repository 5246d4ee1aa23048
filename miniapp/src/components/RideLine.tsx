import { Text } from '@tarojs/components';
import type { MyNotification } from '@ridetrace/shared';
import { formatDateTime } from '../services/format';
import { useT } from '../services/messages';

/** The ride a notice is about: kind, plate, route and boarding time, as the inbox and the export show it. */
export function RideLine({ ride }: { ride: Pick<MyNotification['exposure'], 'carrier' | 'boardedAt'> }) {
  const t = useT();
  return (
    <Text className="hint">
      {t('inbox.ride', {
        kind: t(`kind.${ride.carrier.kind}`),
        plate: ride.carrier.plate,
        route: ride.carrier.route ?? '',
        time: formatDateTime(ride.boardedAt),
      })}
    </Text>
  );
}
