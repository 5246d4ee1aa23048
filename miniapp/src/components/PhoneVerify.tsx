import { Button, Text, View } from '@tarojs/components';
import type { PassengerProfile } from '@ridetrace/shared';
import { isValidPhone, normalizePhone } from '@ridetrace/shared/identity';
import { useEffect, useState } from 'react';
import { toApiError, type ApiError } from '../services/api-error';
import { useT } from '../services/messages';
import { checkPhoneCode, sendPhoneCode, verifyWithSuperApp } from '../services/phone';
import { ErrorNotice } from './ErrorNotice';
import { FormField } from './FormField';

interface Props {
  /** Element ids: `<idPrefix>-superapp`, `<idPrefix>-otp-send`, `<idPrefix>-otp-code`, `<idPrefix>-otp-verify`. */
  idPrefix: string;
  /** The phone as typed in the form (the parent owns the input): the SMS code goes to it. */
  phone: string;
  /** Offer the super-app's phone-number button (weapp only; h5 has none). */
  superApp: boolean;
  /** The server's profile after a verification, and the number in full when it was verified by SMS code. */
  onVerified: (profile: PassengerProfile, full: string | null) => void;
}

/**
 * Verifying a phone: in weapp the one-tap getPhoneNumber button (the server redeems its code), and the SMS code
 * for the typed number (h5, or when the passenger declines the button or wants another number): send, a resend
 * countdown from the server's `resendIn`, the 6-digit code, verify.
 */
export function PhoneVerify({ idPrefix, phone, superApp, onVerified }: Props) {
  const t = useT();
  const button = superApp && process.env.TARO_ENV === 'weapp';
  const [smsChosen, setSmsChosen] = useState(false);
  const [declined, setDeclined] = useState(false);
  const [sent, setSent] = useState<{ phone: string; masked: string; minutes: number } | null>(null);
  const [cooldown, setCooldown] = useState<{ phone: string; until: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState<'superapp' | 'send' | 'verify' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const typed = normalizePhone(phone);
  // The server's resend interval is per phone: another number may have its code at once.
  const wait = cooldown?.phone === typed ? Math.max(0, Math.ceil((cooldown.until - now) / 1000)) : 0;
  useEffect(() => {
    if (!cooldown) return;
    const timer = setInterval(() => {
      const at = Date.now();
      setNow(at);
      if (at >= cooldown.until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [cooldown]);

  const startCooldown = (to: string, seconds: number) => {
    setNow(Date.now());
    setCooldown({ phone: to, until: Date.now() + seconds * 1000 });
  };

  const run = async (
    what: NonNullable<typeof busy>,
    action: () => Promise<void>,
    onError?: (e: ApiError) => void,
  ) => {
    setBusy(what);
    setError(null);
    try {
      await action();
    } catch (err) {
      const e = toApiError(err);
      setError(e);
      onError?.(e);
    } finally {
      setBusy(null);
    }
  };

  const onPhoneNumber = (e: { detail: object }) => {
    const { code: phoneCode } = e.detail as { code?: string };
    if (!phoneCode) {
      // Declined (or an old WeChat without codes): the SMS code instead.
      setDeclined(true);
      setSmsChosen(true);
      return;
    }
    void run(
      'superapp',
      async () => onVerified(await verifyWithSuperApp(phoneCode), null),
      () => setSmsChosen(true),
    );
  };

  const send = () =>
    run(
      'send',
      async () => {
        const r = await sendPhoneCode(typed);
        setSent({ phone: typed, masked: r.phone, minutes: Math.max(1, Math.round(r.expiresIn / 60)) });
        setCode('');
        startCooldown(typed, r.resendIn);
      },
      (e) => {
        // weapp can read Retry-After; h5 cannot (CORS), there the message alone says to wait.
        if (e.code === 'otp_rate_limited' && e.retryAfterSeconds) startCooldown(typed, e.retryAfterSeconds);
      },
    );

  const verify = (to: string) =>
    run(
      'verify',
      async () => {
        const profile = await checkPhoneCode(to, code);
        setSent(null);
        setCode('');
        onVerified(profile, to);
      },
      () => setCode(''),
    );

  const codeFor = sent?.phone === typed ? sent : null;
  const sendLabel =
    busy === 'send'
      ? t('phone.sending')
      : wait > 0
        ? t('phone.resendIn', { s: wait })
        : sent
          ? t('phone.resend')
          : t('phone.sendCode');
  const sms = !button || smsChosen;

  return (
    <View className="verify" id={`${idPrefix}-verify`}>
      {button && (
        <Button
          className="btn"
          id={`${idPrefix}-superapp`}
          openType="getPhoneNumber"
          onGetPhoneNumber={onPhoneNumber}
          disabled={busy !== null}
          aria-label={t('phone.superApp')}
        >
          {t('phone.superApp')}
        </Button>
      )}
      {declined && <Text className="hint">{t('phone.declined')}</Text>}
      {sms ? (
        <>
          <Button
            className="btn btn--secondary"
            id={`${idPrefix}-otp-send`}
            disabled={busy !== null || wait > 0 || !isValidPhone(phone)}
            onClick={() => void send()}
            aria-label={sendLabel}
          >
            {sendLabel}
          </Button>
          {codeFor && (
            <>
              <View role="status">
                <Text className="hint">{t('phone.sent', { phone: codeFor.masked, m: codeFor.minutes })}</Text>
              </View>
              <FormField
                id={`${idPrefix}-otp-code`}
                label={t('phone.code')}
                type="number"
                maxlength={6}
                placeholder={t('phone.codePlaceholder')}
                value={code}
                onInput={(v) => setCode(v.replace(/\D/g, '').slice(0, 6))}
              />
              <Button
                className="btn"
                id={`${idPrefix}-otp-verify`}
                disabled={busy !== null || !/^\d{6}$/.test(code)}
                onClick={() => void verify(codeFor.phone)}
                aria-label={t('phone.verify')}
              >
                {busy === 'verify' ? t('phone.verifying') : t('phone.verify')}
              </Button>
            </>
          )}
        </>
      ) : (
        <Button
          className="btn btn--secondary"
          id={`${idPrefix}-use-sms`}
          onClick={() => setSmsChosen(true)}
          aria-label={t('phone.useSms')}
        >
          {t('phone.useSms')}
        </Button>
      )}
      {error && <ErrorNotice error={error} />}
    </View>
  );
}
