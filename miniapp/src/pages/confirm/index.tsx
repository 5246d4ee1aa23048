import { Button, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useState } from 'react';
import { ConsentCard } from '../../components/ConsentCard';
import { ErrorNotice } from '../../components/ErrorNotice';
import { IdentityFields } from '../../components/IdentityFields';
import { useConsent } from '../../hooks/useConsent';
import { usePageTitle } from '../../hooks/usePageTitle';
import { toApiError, type ApiError } from '../../services/api-error';
import { formatDateTime } from '../../services/format';
import {
  identityBody,
  identityErrors,
  type IdentityErrors,
  type IdentityInput,
} from '../../services/identity';
import { useT } from '../../services/messages';
import { confirmIdentity, pendingPreview } from '../../services/rides';
import { readStore } from '../../services/storage';

/** First scan: what was scanned, who is riding, the consent text and one confirm button. */
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
  const [phoneHint, setPhoneHint] = useState(false);
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

  const onPhoneNumber = (e: { detail: object }) => {
    // Platforms that hand over the number itself fill the field; WeChat returns only an exchange code that
    // the server would have to redeem, so the passenger types the number there.
    const { phoneNumber } = e.detail as { phoneNumber?: string };
    if (phoneNumber) setIdentity((i) => ({ ...i, phone: phoneNumber }));
    else setPhoneHint(true);
  };

  const submit = async () => {
    const errors = identityErrors(identity);
    setFieldErrors(errors);
    if (Object.keys(errors).length > 0) {
      setEditing(true);
      return;
    }
    if (consent.state !== 'ok') return;
    setSubmitting(true);
    setError(null);
    try {
      const result = await confirmIdentity({
        ...identityBody(identity),
        consentVersion: consent.data.version,
      });
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
                {process.env.TARO_ENV === 'weapp' && (
                  <Button
                    className="btn btn--secondary"
                    openType="getPhoneNumber"
                    onGetPhoneNumber={onPhoneNumber}
                    aria-label={t('confirm.phoneButton')}
                  >
                    {t('confirm.phoneButton')}
                  </Button>
                )}
                {phoneHint && <Text className="hint">{t('confirm.phoneManual')}</Text>}
              </>
            }
          />
        </View>
      ) : (
        <Button
          className="btn btn--secondary"
          onClick={() => setEditing(true)}
          aria-label={t('confirm.changeIdentity')}
        >
          {t('confirm.changeIdentity')}
        </Button>
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
