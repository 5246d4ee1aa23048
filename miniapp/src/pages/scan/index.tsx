import { Button, Input, Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useQueueState } from '../../hooks/useQueueState';
import { toApiError, type ApiError } from '../../services/api-error';
import { errorMessage, isKnownErrorCode } from '../../services/error-messages';
import { formatDateTime } from '../../services/format';
import { useLang } from '../../services/i18n-core';
import { useT, type MessageKey } from '../../services/messages';
import { clearQueueReport, flushQueue, scannedCodeFromParams, submitScan } from '../../services/rides';
import './index.scss';

type Phase =
  { kind: 'idle' } | { kind: 'busy' } | { kind: 'queued' } | { kind: 'error'; error: ApiError; code: string };

const NAV: { key: MessageKey; url: string }[] = [
  { key: 'nav.status', url: '/pages/status/index' },
  { key: 'nav.itinerary', url: '/pages/itinerary/index' },
  { key: 'nav.inbox', url: '/pages/inbox/index' },
  { key: 'nav.settings', url: '/pages/settings/index' },
  { key: 'nav.staff', url: '/pages/staff/index' },
];

/**
 * Home and scan page. Opened from a poster's URL the super-app passes the scanned content as `q` (or `code`):
 * the ride is registered at once. Otherwise the scan button opens the camera (weapp); h5 offers a paste field.
 */
export default function ScanPage() {
  usePageTitle('app.name');
  const t = useT();
  const lang = useLang();
  const { params } = useRouter();
  const queue = useQueueState();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [pasted, setPasted] = useState('');
  const handled = useRef(false);

  const register = useCallback(async (code: string) => {
    setPhase({ kind: 'busy' });
    try {
      const outcome = await submitScan(code);
      if (outcome.kind === 'registered') await Taro.redirectTo({ url: '/pages/pass/index' });
      else if (outcome.kind === 'confirm') await Taro.redirectTo({ url: '/pages/confirm/index' });
      else setPhase({ kind: 'queued' });
    } catch (err) {
      setPhase({ kind: 'error', error: toApiError(err), code });
    }
  }, []);

  useEffect(() => {
    const code = scannedCodeFromParams(params);
    if (code && !handled.current) {
      handled.current = true;
      void register(code);
    }
  }, [params, register]);

  // Once the queue has gone out, "saved offline" is no longer true.
  useEffect(() => {
    if (queue.queued === 0) setPhase((p) => (p.kind === 'queued' ? { kind: 'idle' } : p));
  }, [queue.queued]);

  const openCamera = async () => {
    try {
      const res = await Taro.scanCode({ onlyFromCamera: true, scanType: ['qrCode'] });
      if (res.result) await register(res.result);
    } catch {
      // Cancelled by the user: nothing to say.
    }
  };

  const busy = phase.kind === 'busy';
  const delivered = queue.report?.delivered ?? [];
  const failed = queue.report?.failed ?? [];

  return (
    <View className="page scan">
      <Text className="title">{t('scan.title')}</Text>
      <Text className="hint">{t('scan.hint')}</Text>

      {process.env.TARO_ENV === 'h5' ? (
        <View className="card">
          <Text className="field__label">{t('scan.pasteLabel')}</Text>
          <Input
            className="input"
            value={pasted}
            placeholder={t('scan.pastePlaceholder')}
            aria-label={t('scan.pasteLabel')}
            onInput={(e) => setPasted(e.detail.value)}
          />
          <Button
            className="btn"
            disabled={busy || pasted.trim() === ''}
            onClick={() => void register(pasted.trim())}
            aria-label={t('scan.submitPasted')}
          >
            {t('scan.submitPasted')}
          </Button>
        </View>
      ) : (
        <Button
          className="btn scan__button"
          disabled={busy}
          onClick={() => void openCamera()}
          aria-label={t('scan.buttonLabel')}
        >
          {t('scan.button')}
        </Button>
      )}

      <View aria-live="polite">
        {busy && <Text className="loading">{t('scan.registering')}</Text>}
        {phase.kind === 'queued' && (
          <View className="notice notice--warn" id="scan-queued">
            <Text className="notice__text">{t('scan.queued')}</Text>
          </View>
        )}
        {phase.kind === 'error' && (
          <ErrorNotice
            error={phase.error}
            onRetry={phase.error.isTransient ? () => void register(phase.code) : undefined}
          />
        )}
      </View>

      {queue.queued > 0 && (
        <View className="notice notice--warn" id="queue-count">
          <Text className="notice__text">{t('scan.queuedCount', { n: queue.queued })}</Text>
          <Button
            className="btn btn--secondary"
            onClick={() => void flushQueue()}
            aria-label={t('scan.sendNow')}
          >
            {t('scan.sendNow')}
          </Button>
        </View>
      )}

      {(delivered.length > 0 || failed.length > 0) && (
        <View className="notice notice--info" id="queue-report" role="status">
          {delivered.map((ride) => (
            <Text key={ride.id} className="notice__text">
              {t('scan.delivered', { plate: ride.carrier.plate, time: formatDateTime(ride.boardedAt) })}
            </Text>
          ))}
          {failed.map((f) => (
            <Text key={f.clientRideId} className="notice__text">
              {t('scan.failed', {
                error: isKnownErrorCode(f.error) ? errorMessage(f.error, lang) : f.error,
              })}
            </Text>
          ))}
          <Button className="btn btn--secondary" onClick={clearQueueReport} aria-label={t('scan.dismiss')}>
            {t('scan.dismiss')}
          </Button>
        </View>
      )}

      {queue.pending && !busy && (
        <View className="notice notice--warn">
          <Text className="notice__text">{t('scan.needsConfirm')}</Text>
          <Button
            className="btn"
            onClick={() => void Taro.navigateTo({ url: '/pages/confirm/index' })}
            aria-label={t('scan.confirmNow')}
          >
            {t('scan.confirmNow')}
          </Button>
        </View>
      )}

      {queue.lastRide && (
        <Button
          className="btn btn--secondary"
          onClick={() => void Taro.navigateTo({ url: '/pages/pass/index' })}
          aria-label={t('scan.lastRide')}
        >
          {t('scan.lastRide')}
        </Button>
      )}

      <View className="scan__nav">
        {NAV.map((item) => (
          <Button
            key={item.url}
            className="btn btn--secondary scan__nav-item"
            onClick={() => void Taro.navigateTo({ url: item.url })}
            aria-label={t(item.key)}
          >
            {t(item.key)}
          </Button>
        ))}
      </View>
    </View>
  );
}
