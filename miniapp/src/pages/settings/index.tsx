import { Button, Text, View } from '@tarojs/components';
import { useState } from 'react';
import { ConsentCard } from '../../components/ConsentCard';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormField } from '../../components/FormField';
import { PhoneState } from '../../components/PhoneState';
import { PhoneVerify } from '../../components/PhoneVerify';
import { useConsent } from '../../hooks/useConsent';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useProfile } from '../../hooks/useProfile';
import { api, clearPassengerToken } from '../../services/api';
import { toApiError, type ApiError } from '../../services/api-error';
import { LANGS, setLang, useLang, type Lang } from '../../services/i18n-core';
import { useT } from '../../services/messages';
import { readStore, removeStore } from '../../services/storage';

const LANG_NAMES: Record<Lang, string> = { 'zh-CN': '中文', en: 'English' };

type Deletion = 'idle' | 'confirming' | 'deleting' | 'deleted' | 'unavailable';

/** Language, the phone and its verification, the consent text, and deleting one's data. */
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
      for (const key of [
        'rt.identity',
        'rt.lastRide',
        'rt.pendingPreview',
        'rt.queue',
        'rt.queueReport',
        'rt.loginCode',
        'rt.profile',
      ] as const)
        removeStore(key);
      clearPassengerToken();
      setDeletion('deleted');
    } catch (err) {
      const e = toApiError(err);
      // The server's deletion endpoint comes in a later release: until then the route does not exist.
      if (e.code === 'route_not_found') setDeletion('unavailable');
      else {
        setError(e);
        setDeletion('idle');
      }
    }
  };

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

      <ConsentCard
        id="settings-consent"
        title={t('settings.consent')}
        consent={consent}
        onRetry={reloadConsent}
      />

      <View className="card" id="settings-delete">
        <Text className="subtitle">{t('settings.delete')}</Text>
        <Text className="hint">{t('settings.deleteHint')}</Text>
        {error && <ErrorNotice error={error} />}
        {deletion === 'unavailable' && (
          <View className="notice notice--warn" role="alert">
            <Text className="notice__text">{t('settings.deleteUnavailable')}</Text>
          </View>
        )}
        {deletion === 'deleted' && (
          <View className="notice notice--info" role="status">
            <Text className="notice__text">{t('settings.deleted')}</Text>
          </View>
        )}
        {(deletion === 'idle' || deletion === 'unavailable') && (
          <Button
            className="btn btn--danger"
            onClick={() => setDeletion('confirming')}
            aria-label={t('settings.delete')}
          >
            {t('settings.delete')}
          </Button>
        )}
        {(deletion === 'confirming' || deletion === 'deleting') && (
          <View>
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
