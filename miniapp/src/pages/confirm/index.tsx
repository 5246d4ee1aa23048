import { Button, Input, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useState } from 'react';
import type { Consent } from '@ridetrace/shared';
import { ErrorNotice } from '../../components/ErrorNotice';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/api';
import { toApiError, type ApiError } from '../../services/api-error';
import { formatDateTime } from '../../services/format';
import { useLang } from '../../services/i18n-core';
import { isValidIdNumber, isValidName, isValidPhone, normalizePhone } from '../../services/identity';
import { useT, type MessageKey } from '../../services/messages';
import { confirmIdentity, pendingPreview } from '../../services/rides';
import { readStore } from '../../services/storage';

type FieldErrors = Partial<Record<'name' | 'phone' | 'idNumber', MessageKey>>;

/** First scan: what was scanned, who is riding, the consent text and one confirm button. */
export default function ConfirmPage() {
  usePageTitle('confirm.title');
  const t = useT();
  const lang = useLang();
  const [preview] = useState(pendingPreview);
  const [remembered] = useState(() => readStore('rt.identity'));
  const known = Boolean(preview?.passenger.name && remembered);
  const [editing, setEditing] = useState(!known);
  const [name, setName] = useState(remembered?.name ?? '');
  const [phone, setPhone] = useState(remembered?.phone ?? '');
  const [idNumber, setIdNumber] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [phoneHint, setPhoneHint] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [noRide, setNoRide] = useState(false);
  const [consent, reloadConsent] = useRemote(async () => {
    const { data } = await api<Consent>({ method: 'GET', path: '/v1/consent', auth: 'none' });
    return data;
  });

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
    if (phoneNumber) setPhone(phoneNumber);
    else setPhoneHint(true);
  };

  const submit = async () => {
    const errors: FieldErrors = {};
    if (!isValidName(name)) errors.name = 'confirm.invalidName';
    if (!isValidPhone(phone)) errors.phone = 'confirm.invalidPhone';
    if (idNumber.trim() && !isValidIdNumber(idNumber)) errors.idNumber = 'confirm.invalidId';
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
        name: name.trim(),
        phone: normalizePhone(phone),
        ...(idNumber.trim() ? { idNumber: idNumber.trim().toUpperCase() } : {}),
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
          <View className="field">
            <Text className="field__label">{t('confirm.name')}</Text>
            <Input
              className="input"
              id="confirm-name"
              value={name}
              maxlength={40}
              placeholder={t('confirm.namePlaceholder')}
              aria-label={t('confirm.name')}
              onInput={(e) => setName(e.detail.value)}
            />
            {fieldErrors.name && <Text className="field__error">{t(fieldErrors.name)}</Text>}
          </View>
          <View className="field">
            <Text className="field__label">{t('confirm.phone')}</Text>
            <Input
              className="input"
              id="confirm-phone"
              type="number"
              value={phone}
              maxlength={11}
              placeholder={t('confirm.phonePlaceholder')}
              aria-label={t('confirm.phone')}
              onInput={(e) => setPhone(e.detail.value)}
            />
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
            {fieldErrors.phone && <Text className="field__error">{t(fieldErrors.phone)}</Text>}
          </View>
          <View className="field">
            <Text className="field__label">{t('confirm.idNumber')}</Text>
            <Input
              className="input"
              id="confirm-id"
              type="idcard"
              value={idNumber}
              maxlength={18}
              placeholder={t('confirm.idPlaceholder')}
              aria-label={t('confirm.idNumber')}
              onInput={(e) => setIdNumber(e.detail.value)}
            />
            {fieldErrors.idNumber && <Text className="field__error">{t(fieldErrors.idNumber)}</Text>}
          </View>
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

      <View className="card" id="confirm-consent">
        <Text className="subtitle">{t('confirm.consent')}</Text>
        {consent.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
        {consent.state === 'error' && <ErrorNotice error={consent.error} onRetry={reloadConsent} />}
        {consent.state === 'ok' && (
          <View>
            <Text className="consent">{consent.data.text[lang]}</Text>
            <Text className="hint">{t('confirm.consentVersion', { v: consent.data.version })}</Text>
          </View>
        )}
      </View>

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
