import { Text, View } from '@tarojs/components';
import { useEffect, useState } from 'react';
import type { StatusToken } from '@ridetrace/shared';
import { ErrorNotice } from '../../components/ErrorNotice';
import { QrCode } from '../../components/QrCode';
import { StatusBadge } from '../../components/StatusBadge';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/api';
import { toApiError, type ApiError } from '../../services/api-error';
import { formatDateTime } from '../../services/format';
import { MIN_WAIT_MS, renewDelay } from '../../services/status-token';
import { useT } from '../../services/messages';

/** Colour, reason and a QR of the short-lived status token, renewed before it expires. */
export default function StatusPage() {
  usePageTitle('status.title');
  const t = useT();
  const [status, reloadStatus] = useRemote(() => api().myStatus());
  const [token, setToken] = useState<StatusToken | null>(null);
  const [tokenError, setTokenError] = useState<ApiError | null>(null);
  const [renewAt, setRenewAt] = useState(0);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      let wait = MIN_WAIT_MS * 2;
      try {
        const data = await api().statusToken();
        if (!alive) return;
        setToken(data);
        setTokenError(null);
        wait = renewDelay(data.expiresAt);
      } catch (err) {
        if (!alive) return;
        // An old QR must not stay on screen once it can no longer be verified.
        setToken((old) => (old && Date.parse(old.expiresAt) > Date.now() ? old : null));
        setTokenError(toApiError(err));
      }
      setRenewAt(Date.now() + wait);
      timer = setTimeout(() => void load(), wait);
    };
    void load();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      alive = false;
      clearTimeout(timer);
      clearInterval(tick);
    };
  }, []);

  const colour = token?.colour ?? (status.state === 'ok' ? status.data.colour : null);
  return (
    <View className="page status">
      {colour && <StatusBadge colour={colour} id="status-colour" />}
      {status.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
      {status.state === 'error' && <ErrorNotice error={status.error} onRetry={reloadStatus} />}
      {status.state === 'ok' && (
        <View className="card" id="status-reason">
          <Text className="subtitle">{t(`status.reason.${status.data.reason}`)}</Text>
          {status.data.since && (
            <Text className="hint">{t('status.since', { d: formatDateTime(status.data.since) })}</Text>
          )}
          {status.data.validUntil && (
            <Text className="hint">{t('status.until', { d: formatDateTime(status.data.validUntil) })}</Text>
          )}
        </View>
      )}

      <View className="card status__qr-card">
        {token ? (
          <View className="status__qr">
            <QrCode text={token.token} label={t('status.qrLabel')} id="status-qr" />
            <Text className="hint">
              {t('status.refreshIn', { s: Math.max(0, Math.ceil((renewAt - now) / 1000)) })}
            </Text>
          </View>
        ) : (
          !tokenError && <Text className="loading">{t('common.loading')}</Text>
        )}
        {tokenError && <ErrorNotice error={tokenError} />}
        <Text className="hint">{t('status.qrHint')}</Text>
      </View>
    </View>
  );
}
