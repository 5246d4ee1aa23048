import { Button, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useState } from 'react';
import { ConsentCard } from '../../components/ConsentCard';
import { ErrorNotice } from '../../components/ErrorNotice';
import { IdentityFields } from '../../components/IdentityFields';
import { PhoneMatchNote, PhoneState } from '../../components/PhoneState';
import { PhoneVerify } from '../../components/PhoneVerify';
import { useConsent } from '../../hooks/useConsent';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useProfile } from '../../hooks/useProfile';
import { toApiError, type ApiError } from '../../services/api-error';
import { formatDateTime } from '../../services/format';
import {
  identityBody,
  identityErrors,
  type IdentityErrors,
  type IdentityInput,
} from '../../services/identity';
import { useT } from '../../services/messages';
import { maskPhone, phoneMatch, verifiedPhoneOf } from '../../services/phone';
import { confirmIdentity, pendingPreview } from '../../services/rides';
import { readStore } from '../../services/storage';
import { askNoticeSubscriptions } from '../../services/subscriptions';

/**
 * First scan: what was scanned, who is riding (with the phone verified first: the super-app button in weapp, an SMS
 * code anywhere; or typed and left unverified), the consent text and one confirm button.
 */
export default function ConfirmPage() {
  usePageTitle('confirm.title');
  const t = useT();
  const [preview] = useState(pendingPreview);
  const [remembered] = useState(() => readStore('rt.identity'));
  const known = Boolean(preview?.passenger.name && remembered);
  const [editing, setEditing] = useState(!known);
  const [identity, setIdentity] = useState<IdentityInput>({
    name: remembered?.name ?? '',
    phone: remembered?.phone ?? '',
    idNumber: '',
  });
  const [fieldErrors, setFieldErrors] = useState<IdentityErrors>({});
  const { profile, update: updateProfile } = useProfile();
  /** The number this page verified by SMS code, in full: confirmation sends it and it stays verified. */
  const [smsVerified, setSmsVerified] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [noRide, setNoRide] = useState(false);
  const [consent, reloadConsent] = useConsent();

  if (!preview) {
    return (
      <View className="page">
        <Text className="notice notice--warn notice__text">{t('confirm.noPreview')}</Text>
        <Button className="btn" onClick={() => void Taro.reLaunch({ url: '/pages/scan/index' })}>
          {t('common.home')}
        </Button>
      </View>
    );
  }

  const verified = verifiedPhoneOf(
    profile,
    smsVerified && profile?.phone === maskPhone(smsVerified) ? smsVerified : undefined,
  );
  const match = phoneMatch(identity.phone, verified);
  const onVerified = (p: NonNullable<typeof profile>, full: string | null) => {
    updateProfile(p);
    setSmsVerified(full);
    // The SMS-verified number goes into the form as it was verified; the super-app one stays on the server (the app
    // never learns it): the form may leave the phone empty and the server keeps the verified number.
    if (full) setIdentity((i) => ({ ...i, phone: full }));
  };

  const submit = async () => {
    const errors = identityErrors(identity, { phoneOnFile: Boolean(verified) });
    setFieldErrors(errors);
    if (Object.keys(errors).length > 0) {
      setEditing(true);
      return;
    }
    if (consent.state !== 'ok') return;
    setSubmitting(true);
    setError(null);
    // An empty phone (allowed only with a verified one on file) is left out: the server keeps the verified number.
    const { phone, ...rest } = identityBody(identity);
    const confirming = confirmIdentity({
      ...rest,
      ...(identity.phone.trim() ? { phone } : {}),
      consentVersion: consent.data.version,
    });
    // Still inside the tap, as WeChat requires: the prompt shows while the confirmation is sent, and its answer is
    // posted once that is done. Never awaited: it cannot hold up or fail the confirmation.
    void askNoticeSubscriptions(confirming);
    try {
      const result = await confirming;
      if (result.ride) await Taro.redirectTo({ url: '/pages/pass/index' });
      else setNoRide(true);
    } catch (err) {
      const e = toApiError(err);
      setError(e);
      if (e.code === 'consent_version_outdated') reloadConsent();
    } finally {
      setSubmitting(false);
    }
  };

  const { carrier } = preview;
  return (
    <View className="page confirm">
      <Text className="title">{t('confirm.title')}</Text>
      <View className="card" id="confirm-preview">
        <View className="row">
          <Text className="row__label">{t('confirm.vehicle')}</Text>
          <Text className="row__value">
            {t(`kind.${carrier.kind}`)} {carrier.plate}
          </Text>
        </View>
        {carrier.route && (
          <View className="row">
            <Text className="row__label">{t('confirm.route')}</Text>
            <Text className="row__value">{carrier.route}</Text>
          </View>
        )}
        <View className="row">
          <Text className="row__label">{t('confirm.city')}</Text>
          <Text className="row__value">{carrier.city}</Text>
        </View>
        <View className="row">
          <Text className="row__label">{t('confirm.time')}</Text>
          <Text className="row__value">{formatDateTime(preview.boardedAt)}</Text>
        </View>
        {preview.passenger.name && (
          <View className="row">
            <Text className="row__label">{t('confirm.you')}</Text>
            <Text className="row__value">
              {t('confirm.identityKnown', {
                name: preview.passenger.name,
                phone: preview.passenger.phone ?? '',
              })}
            </Text>
          </View>
        )}
      </View>

      {editing ? (
        <View className="card">
          <IdentityFields
            idPrefix="confirm"
            value={identity}
            onChange={(field, value) => setIdentity((i) => ({ ...i, [field]: value }))}
            errors={fieldErrors}
            placeholders
            phoneExtra={
              <>
                {verified && (
                  <View className="row">
                    <Text className="row__label">{t('phone.verifiedNumber')}</Text>
                    <PhoneState
                      id="confirm-phone-verified"
                      phone={verified.masked}
                      verified
                      source={verified.source}
                    />
                  </View>
                )}
                <PhoneMatchNote match={match} verified={verified} />
                {match !== 'verified' && match !== 'likely' && !(match === 'empty' && verified) && (
                  <PhoneVerify
                    idPrefix="confirm"
                    phone={identity.phone}
                    superApp={!verified}
                    onVerified={onVerified}
                  />
                )}
              </>
            }
          />
        </View>
      ) : (
        <>
          {profile?.phone && (
            <View className="card" id="confirm-known-phone">
              <View className="row">
                <Text className="row__label">{t('confirm.phone')}</Text>
                <PhoneState phone={profile.phone} verified={Boolean(verified)} source={verified?.source} />
              </View>
              {match !== 'verified' && match !== 'likely' && (
                <PhoneMatchNote match={match} verified={verified} />
              )}
            </View>
          )}
          {profile && !verified && (
            <Button className="btn" onClick={() => setEditing(true)} aria-label={t('confirm.verifyPhone')}>
              {t('confirm.verifyPhone')}
            </Button>
          )}
          <Button
            className="btn btn--secondary"
            onClick={() => setEditing(true)}
            aria-label={t('confirm.changeIdentity')}
          >
            {t('confirm.changeIdentity')}
          </Button>
        </>
      )}

      <ConsentCard
        id="confirm-consent"
        title={t('confirm.consent')}
        consent={consent}
        onRetry={reloadConsent}
      />

      {error && <ErrorNotice error={error} />}
      {noRide ? (
        <View className="notice notice--info" role="status">
          <Text className="notice__text">{t('confirm.noRide')}</Text>
          <Button className="btn" onClick={() => void Taro.reLaunch({ url: '/pages/scan/index' })}>
            {t('common.home')}
          </Button>
        </View>
      ) : (
        <Button
          className="btn"
          id="confirm-submit"
          disabled={submitting || consent.state !== 'ok'}
          onClick={() => void submit()}
          aria-label={t('confirm.submit')}
        >
          {submitting ? t('confirm.submitting') : t('confirm.submit')}
        </Button>
      )}
    </View>
  );
}
