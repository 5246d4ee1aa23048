import { Button, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useEffect, useState } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PhoneState } from '../../components/PhoneState';
import { StatusBadge } from '../../components/StatusBadge';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useProfile } from '../../hooks/useProfile';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/api';
import { formatDate, formatDateTime, formatHms } from '../../services/format';
import { useT } from '../../services/messages';
import { readStore } from '../../services/storage';
import { askNoticeSubscriptions, canSubscribe } from '../../services/subscriptions';
import './index.scss';

/**
 * The ride pass shown to staff after registration: the ride and who registered it (masked name and phone, and
 * whether the phone is verified, from the kept profile). The clock with seconds and the moving bar tell a live
 * screen from a screenshot.
 */
export default function PassPage() {
  usePageTitle('pass.title');
  const t = useT();
  const [ride] = useState(() => readStore('rt.lastRide'));
  const [repeat] = useState(() => readStore('rt.lastRideRepeat') === true);
  const [now, setNow] = useState(() => new Date());
  const [status, reloadStatus] = useRemote(() => api().myStatus());
  // Kept since the confirmation or the last verification: fetched only when this device has none.
  const { profile, update: updateProfile } = useProfile('when-missing');
  const [asking, setAsking] = useState(false);

  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(timer);
  }, []);

  const home = () => void Taro.reLaunch({ url: '/pages/scan/index' });
  // No accepted subscription left: an exposure would come by SMS. Copies kept before the count existed offer it too.
  const offerAlerts = canSubscribe() && profile !== null && !(profile.messageGrants > 0);
  const subscribe = () => {
    setAsking(true);
    // Called in the tap itself, as WeChat requires.
    void askNoticeSubscriptions().then((grants) => {
      setAsking(false);
      if (grants !== null && profile) updateProfile({ ...profile, messageGrants: grants });
    });
  };

  if (!ride) {
    return (
      <View className="page">
        <Text className="empty">{t('pass.none')}</Text>
        <Button className="btn" onClick={home}>
          {t('common.home')}
        </Button>
      </View>
    );
  }

  return (
    <View className="page pass">
      <View className="card pass__card" id="ride-pass">
        <Text className="pass__kind">
          {t(`kind.${ride.carrier.kind}`)} · {ride.carrier.city}
        </Text>
        <Text className="pass__plate" aria-label={`${t('pass.plate')} ${ride.carrier.plate}`}>
          {ride.carrier.plate}
        </Text>
        {ride.carrier.route && (
          <View className="row">
            <Text className="row__label">{t('pass.route')}</Text>
            <Text className="row__value">{ride.carrier.route}</Text>
          </View>
        )}
        <View className="row">
          <Text className="row__label">{t('pass.boardedAt')}</Text>
          <Text className="row__value" id="pass-boarded">
            {formatDateTime(ride.boardedAt)}
          </Text>
        </View>
        {ride.late && <Text className="hint">{t('pass.late')}</Text>}
        {repeat && (
          <View className="notice notice--info" id="pass-repeat" role="status">
            <Text className="notice__text">{t('pass.repeat')}</Text>
          </View>
        )}
        {profile?.name && (
          <View className="row" id="pass-registrant">
            <Text className="row__label">{t('pass.registrant')}</Text>
            <Text className="row__value">{profile.name}</Text>
          </View>
        )}
        {profile?.phone && (
          <View className="row" id="pass-contact">
            <Text className="row__label">{t('pass.contact')}</Text>
            <PhoneState phone={profile.phone} verified={profile.phoneVerified} />
          </View>
        )}

        <View className="pass__live" aria-label={t('pass.liveLabel')}>
          <Text className="pass__date">{formatDate(now)}</Text>
          <Text className="pass__clock" id="pass-clock" aria-live="off">
            {formatHms(now)}
          </Text>
          <View className="pass__track" aria-hidden="true">
            <View className="pass__runner" />
          </View>
          <Text className="hint">{t('pass.live')}</Text>
        </View>
      </View>

      <View className="card">
        <Text className="subtitle">{t('pass.status')}</Text>
        {status.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
        {status.state === 'ok' && <StatusBadge colour={status.data.colour} id="pass-status" />}
        {status.state === 'error' && <ErrorNotice error={status.error} onRetry={reloadStatus} />}
      </View>

      {offerAlerts && (
        <View className="card" id="pass-alerts">
          <Text className="hint">{t('pass.alertsHint')}</Text>
          <Button className="btn" disabled={asking} onClick={subscribe} aria-label={t('pass.alerts')}>
            {t('pass.alerts')}
          </Button>
        </View>
      )}

      <Button className="btn btn--secondary" onClick={home} aria-label={t('common.home')}>
        {t('common.home')}
      </Button>
    </View>
  );
}
