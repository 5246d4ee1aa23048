import { Text, View } from '@tarojs/components';
import { ErrorNotice } from '../../components/ErrorNotice';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/api';
import { formatHm } from '../../services/format';
import { useT } from '../../services/messages';

/** The last 14 days of rides, grouped by day and city. */
export default function ItineraryPage() {
  usePageTitle('itinerary.title');
  const t = useT();
  const [itinerary, reload] = useRemote(() => api().itinerary(14));

  return (
    <View className="page itinerary">
      <Text className="title">{t('itinerary.title')}</Text>
      {itinerary.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
      {itinerary.state === 'error' && <ErrorNotice error={itinerary.error} onRetry={reload} />}
      {itinerary.state === 'ok' && itinerary.data.days.length === 0 && (
        <Text className="empty">{t('itinerary.empty')}</Text>
      )}
      {itinerary.state === 'ok' &&
        itinerary.data.days.map((day) => {
          const count = day.cities.reduce((n, c) => n + c.rides.length, 0);
          return (
            <View key={day.day} className="card itinerary__day" aria-label={day.day}>
              <View className="row">
                <Text className="subtitle itinerary__date">{day.day}</Text>
                <Text className="row__label">{t('itinerary.rides', { n: count })}</Text>
              </View>
              {day.cities.map((city) => (
                <View key={city.city}>
                  <Text className="hint">{city.city}</Text>
                  {city.rides.map((ride) => (
                    <View key={ride.id} className="row itinerary__ride">
                      <Text className="row__label">{formatHm(ride.boardedAt)}</Text>
                      <Text className="row__value">
                        {t(`kind.${ride.carrier.kind}`)} {ride.carrier.plate}
                        {ride.carrier.route ? ` · ${ride.carrier.route}` : ''}
                      </Text>
                    </View>
                  ))}
                </View>
              ))}
            </View>
          );
        })}
    </View>
  );
}
