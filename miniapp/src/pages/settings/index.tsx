import { Button, Text, View } from '@tarojs/components';
import type { AccessLogEntry } from '@ridetrace/shared';
import Taro from '@tarojs/taro';
import { useState } from 'react';
import { ConsentCard } from '../../components/ConsentCard';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormField } from '../../components/FormField';
import { PhoneState } from '../../components/PhoneState';
import { PhoneVerify } from '../../components/PhoneVerify';
import { useConsent } from '../../hooks/useConsent';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useProfile } from '../../hooks/useProfile';
import { useRemote } from '../../hooks/useRemote';
import { api, clearPassengerToken } from '../../services/api';
import { toApiError, type ApiError } from '../../services/api-error';
import { formatDateTime } from '../../services/format';
import { LANGS, setLang, useLang, type Lang } from '../../services/i18n-core';
import { useT, type MessageKey } from '../../services/messages';
import { readStore, removeStore, type StorageKey } from '../../services/storage';

const LANG_NAMES: Record<Lang, string> = { 'zh-CN': '中文', en: 'English' };

type Deletion = 'idle' | 'confirming' | 'deleting' | 'deleted';

/** What this phone keeps about the passenger; the language choice stays. */
const PERSONAL_KEYS: readonly StorageKey[] = [
  'rt.identity',
  'rt.lastRide',
  'rt.lastRideRepeat',
  'rt.pendingPreview',
  'rt.queue',
  'rt.queueReport',
  'rt.loginCode',
  'rt.profile',
];

/** What deleting does on the server (docs/integrators.md, DELETE /v1/passengers/me) and on this phone. */
const DELETE_EFFECTS: readonly MessageKey[] = [
  'settings.deleteEffect.account',
  'settings.deleteEffect.rides',
  'settings.deleteEffect.log',
  'settings.deleteEffect.signOut',
];

/** Pages after the first, loaded with 加载更多; `error` of the last attempt. */
interface MorePages {
  items: AccessLogEntry[];
  nextCursor: string | null;
  loading: boolean;
  error: ApiError | null;
}

/** When the health authority read my data, which agency and why (GET /v1/passengers/me/access-log). */
function AccessLogCard() {
  const t = useT();
  const [more, setMore] = useState<MorePages | null>(null);
  const [first, reloadFirst] = useRemote(() => api().myAccessLog());
  const reload = () => {
    setMore(null);
    reloadFirst();
  };
  const cursor = more ? more.nextCursor : first.state === 'ok' ? first.data.nextCursor : null;
  const loadMore = async () => {
    if (cursor === null) return;
    const kept = more?.items ?? [];
    setMore({ items: kept, nextCursor: cursor, loading: true, error: null });
    try {
      const page = await api().myAccessLog(cursor);
      setMore({ items: [...kept, ...page.items], nextCursor: page.nextCursor, loading: false, error: null });
    } catch (err) {
      setMore({ items: kept, nextCursor: cursor, loading: false, error: toApiError(err) });
    }
  };
  const items = first.state === 'ok' ? [...first.data.items, ...(more?.items ?? [])] : [];

  return (
    <View className="card" id="settings-access-log">
      <Text className="subtitle">{t('settings.accessLog')}</Text>
      <Text className="hint">{t('settings.accessLogHint')}</Text>
      {first.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
      {first.state === 'error' &&
        // A server older than the mini-program has no such route yet: say so, without an error.
        (first.error.code === 'route_not_found' ? (
          <View className="notice notice--warn" role="status">
            <Text className="notice__text">{t('settings.accessLogUnavailable')}</Text>
          </View>
        ) : (
          <ErrorNotice error={first.error} onRetry={reload} />
        ))}
      {first.state === 'ok' && items.length === 0 && (
        <Text className="empty">{t('settings.accessLogEmpty')}</Text>
      )}
      {items.length > 0 && (
        <View role="list" aria-label={t('settings.accessLog')}>
          {items.map((e, i) => (
            <View key={`${e.at}-${e.purpose}-${i}`} className="access-log__entry" role="listitem">
              <View className="row">
                <Text className="row__label">{formatDateTime(e.at)}</Text>
                <Text className="row__value">{e.agency}</Text>
              </View>
              <Text className="hint">{t(`settings.accessPurpose.${e.purpose}`)}</Text>
            </View>
          ))}
        </View>
      )}
      {more?.error && <ErrorNotice error={more.error} onRetry={() => void loadMore()} />}
      {cursor !== null && !more?.error && (
        <Button
          className="btn btn--secondary"
          disabled={more?.loading === true}
          onClick={() => void loadMore()}
          aria-label={t('settings.accessLogMore')}
        >
          {more?.loading ? t('common.loading') : t('settings.accessLogMore')}
        </Button>
      )}
    </View>
  );
}

/**
 * Language, the phone and its verification, the consent text, who accessed my data, exporting it, and deleting it.
 */
export default function SettingsPage() {
  usePageTitle('settings.title');
  const t = useT();
  const lang = useLang();
  const [consent, reloadConsent] = useConsent();
  const [deletion, setDeletion] = useState<Deletion>('idle');
  const [error, setError] = useState<ApiError | null>(null);
  const { profile, error: profileError, reload: reloadProfile, update: updateProfile } = useProfile();
  const [verifying, setVerifying] = useState(false);
  const [verifiedNow, setVerifiedNow] = useState(false);
  const [phone, setPhone] = useState(() => readStore('rt.identity')?.phone ?? '');

  const deleteData = async () => {
    setDeletion('deleting');
    setError(null);
    try {
      await api().deleteAccount();
    } catch (err) {
      const e = toApiError(err);
      // Already gone: an earlier try deleted the account but its reply was lost.
      if (e.code !== 'passenger_not_found') {
        setError(e);
        setDeletion('idle');
        return;
      }
    }
    for (const key of PERSONAL_KEYS) removeStore(key);
    // Signed out: the token's account is gone, and the next login starts a new, unlinked one.
    clearPassengerToken();
    setDeletion('deleted');
  };
  const deleted = deletion === 'deleted';

  return (
    <View className="page settings">
      <Text className="title">{t('settings.title')}</Text>

      <View className="card" role="group" aria-label={t('settings.language')}>
        <Text className="subtitle">{t('settings.language')}</Text>
        {LANGS.map((l) => (
          <Button
            key={l}
            className={`btn ${l === lang ? '' : 'btn--secondary'}`}
            aria-pressed={l === lang}
            aria-label={LANG_NAMES[l]}
            onClick={() => setLang(l)}
          >
            {LANG_NAMES[l]}
          </Button>
        ))}
      </View>

      {!deleted && (
        <View className="card" id="settings-phone">
          <Text className="subtitle">{t('settings.phone')}</Text>
          {profile ? (
            profile.phone ? (
              <PhoneState
                id="settings-phone-state"
                standalone
                phone={profile.phone}
                verified={profile.phoneVerified}
                source={profile.phoneSource === 'self' ? null : profile.phoneSource}
              />
            ) : (
              <Text className="hint">{t('settings.phoneNone')}</Text>
            )
          ) : profileError ? (
            <ErrorNotice error={profileError} onRetry={reloadProfile} />
          ) : (
            <Text className="loading">{t('common.loading')}</Text>
          )}
          <Text className="hint">{t('settings.phoneHint')}</Text>
          {verifiedNow && (
            <View className="notice notice--info" role="status">
              <Text className="notice__text">{t('settings.phoneDone')}</Text>
            </View>
          )}
          {verifying ? (
            <View>
              <FormField
                id="settings-phone-input"
                label={t('confirm.phone')}
                type="number"
                maxlength={11}
                placeholder={t('confirm.phonePlaceholder')}
                value={phone}
                onInput={setPhone}
              />
              <PhoneVerify
                idPrefix="settings"
                phone={phone}
                superApp
                onVerified={(p) => {
                  updateProfile(p);
                  setVerifying(false);
                  setVerifiedNow(true);
                }}
              />
              <Button
                className="btn btn--secondary"
                onClick={() => setVerifying(false)}
                aria-label={t('common.cancel')}
              >
                {t('common.cancel')}
              </Button>
            </View>
          ) : (
            <Button
              className={profile?.phoneVerified ? 'btn btn--secondary' : 'btn'}
              id="settings-verify-phone"
              onClick={() => {
                setVerifying(true);
                setVerifiedNow(false);
              }}
              aria-label={t('settings.verifyPhone')}
            >
              {t('settings.verifyPhone')}
            </Button>
          )}
        </View>
      )}

      <ConsentCard
        id="settings-consent"
        title={t('settings.consent')}
        consent={consent}
        onRetry={reloadConsent}
      />

      {!deleted && <AccessLogCard />}

      {!deleted && (
        <View className="card" id="settings-export">
          <Text className="subtitle">{t('settings.export')}</Text>
          <Text className="hint">{t('settings.exportHint')}</Text>
          <Button
            className="btn btn--secondary"
            onClick={() => void Taro.navigateTo({ url: '/pages/export/index' })}
            aria-label={t('settings.export')}
          >
            {t('settings.export')}
          </Button>
        </View>
      )}

      <View className="card" id="settings-delete">
        <Text className="subtitle">{t('settings.delete')}</Text>
        {!deleted && <Text className="hint">{t('settings.deleteHint')}</Text>}
        {error && <ErrorNotice error={error} />}
        {deleted && (
          <View className="notice notice--info" role="status">
            <Text className="notice__text">{t('settings.deleted')}</Text>
          </View>
        )}
        {deletion === 'idle' && (
          <Button
            className="btn btn--danger"
            onClick={() => setDeletion('confirming')}
            aria-label={t('settings.delete')}
          >
            {t('settings.delete')}
          </Button>
        )}
        {(deletion === 'confirming' || deletion === 'deleting') && (
          <View
            className="notice notice--warn"
            role="alertdialog"
            aria-label={t('settings.delete')}
            aria-describedby="settings-delete-effects"
          >
            <View id="settings-delete-effects">
              <Text className="notice__text">{t('settings.deleteWhat')}</Text>
              <View role="list">
                {DELETE_EFFECTS.map((key) => (
                  <View key={key} role="listitem">
                    <Text className="notice__text">· {t(key)}</Text>
                  </View>
                ))}
              </View>
            </View>
            <Button
              className="btn btn--danger"
              disabled={deletion === 'deleting'}
              onClick={() => void deleteData()}
              aria-label={t('settings.deleteConfirm')}
            >
              {deletion === 'deleting' ? t('settings.deleting') : t('settings.deleteConfirm')}
            </Button>
            <Button
              className="btn btn--secondary"
              disabled={deletion === 'deleting'}
              onClick={() => setDeletion('idle')}
              aria-label={t('common.cancel')}
            >
              {t('common.cancel')}
            </Button>
          </View>
        )}
      </View>
    </View>
  );
}
