import { Button, Text, Textarea, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useEffect, useState } from 'react';
import type { Carrier, ManualRideResult, VerifiedStatus } from '@ridetrace/shared';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormField } from '../../components/FormField';
import { IdentityFields } from '../../components/IdentityFields';
import { StatusBadge } from '../../components/StatusBadge';
import { usePageTitle } from '../../hooks/usePageTitle';
import { useRemote } from '../../hooks/useRemote';
import { api, hasStaffSession, signInStaff, signOutStaff } from '../../services/api';
import { toApiError, type ApiError } from '../../services/api-error';
import { formatDateTime, formatHm } from '../../services/format';
import {
  EMPTY_IDENTITY,
  identityBody,
  identityErrors,
  type IdentityErrors,
  type IdentityInput,
} from '../../services/identity';
import { useT } from '../../services/messages';
import { uuidV4 } from '../../services/uuid';
import './index.scss';

const isSessionError = (e: ApiError) =>
  e.code === 'auth_required' || e.code === 'token_expired' || e.code === 'token_invalid';

/** Staff mode: manual registration on bound vehicles, and checking a passenger's status QR. */
export default function StaffPage() {
  usePageTitle('staff.title');
  const t = useT();
  const [signedIn, setSignedIn] = useState(hasStaffSession);
  const [expired, setExpired] = useState(false);

  const onSessionError = () => {
    signOutStaff();
    setExpired(true);
    setSignedIn(false);
  };

  return (
    <View className="page staff">
      <Text className="title">{t('staff.title')}</Text>
      {expired && !signedIn && (
        <View className="notice notice--warn" role="alert">
          <Text className="notice__text">{t('staff.expired')}</Text>
        </View>
      )}
      {signedIn ? (
        <StaffConsole
          onSessionError={onSessionError}
          onSignOut={() => {
            signOutStaff();
            setSignedIn(false);
          }}
        />
      ) : (
        <SignIn
          onSignedIn={() => {
            setExpired(false);
            setSignedIn(true);
          }}
        />
      )}
    </View>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const t = useT();
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await signInStaff(clientId.trim(), secret.trim());
      onSignedIn();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <View className="card">
      <Text className="subtitle">{t('staff.signIn')}</Text>
      <FormField id="staff-client-id" label={t('staff.clientId')} value={clientId} onInput={setClientId} />
      <FormField id="staff-secret" label={t('staff.secret')} password value={secret} onInput={setSecret} />
      {error && <ErrorNotice error={error} />}
      <Button
        className="btn"
        id="staff-login"
        disabled={busy || !clientId.trim() || !secret.trim()}
        onClick={() => void submit()}
        aria-label={t('staff.login')}
      >
        {t('staff.login')}
      </Button>
    </View>
  );
}

function StaffConsole({ onSessionError, onSignOut }: { onSessionError: () => void; onSignOut: () => void }) {
  const t = useT();
  const [carriers, reloadCarriers] = useRemote(async () => (await api('staff').myCarriers()).items);
  const [selected, setSelected] = useState<Carrier | null>(null);

  const sessionLost = carriers.state === 'error' && isSessionError(carriers.error);
  useEffect(() => {
    if (sessionLost) onSessionError();
  }, [sessionLost, onSessionError]);

  return (
    <View>
      <View className="card">
        <Text className="subtitle">{t('staff.carriers')}</Text>
        {carriers.state === 'loading' && <Text className="loading">{t('common.loading')}</Text>}
        {carriers.state === 'error' && <ErrorNotice error={carriers.error} onRetry={reloadCarriers} />}
        {carriers.state === 'ok' && carriers.data.length === 0 && (
          <Text className="empty">{t('staff.noCarriers')}</Text>
        )}
        {carriers.state === 'ok' &&
          carriers.data.map((c) => (
            <Button
              key={c.id}
              className={`btn ${selected?.id === c.id ? '' : 'btn--secondary'}`}
              aria-pressed={selected?.id === c.id}
              aria-label={`${t('staff.select')} ${c.plate}`}
              onClick={() => setSelected(c)}
            >
              {t(`kind.${c.kind}`)} {c.plate} {c.route ?? ''}
            </Button>
          ))}
      </View>

      {selected && <ManualRide carrier={selected} onSessionError={onSessionError} />}
      <VerifyStatus onSessionError={onSessionError} />

      <Button className="btn btn--secondary" onClick={onSignOut} aria-label={t('staff.logout')}>
        {t('staff.logout')}
      </Button>
    </View>
  );
}

/** One staff request at a time: the busy flag, the error to show, session errors handed to the page. */
function useStaffRequest(onSessionError: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (request: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await request();
    } catch (err) {
      const e = toApiError(err);
      if (isSessionError(e)) onSessionError();
      else setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function ManualRide({ carrier, onSessionError }: { carrier: Carrier; onSessionError: () => void }) {
  const t = useT();
  const [identity, setIdentity] = useState<IdentityInput>(EMPTY_IDENTITY);
  const [fieldErrors, setFieldErrors] = useState<IdentityErrors>({});
  // Kept across retries of the same registration so a lost reply never records the rider twice.
  const [clientRideId, setClientRideId] = useState(uuidV4);
  const { busy, error, run } = useStaffRequest(onSessionError);
  const [result, setResult] = useState<ManualRideResult | null>(null);

  const submit = async () => {
    const errors = identityErrors(identity);
    setFieldErrors(errors);
    if (Object.keys(errors).length > 0) return;
    await run(async () => {
      const data = await api('staff').manualRide(carrier.id, { ...identityBody(identity), clientRideId });
      setResult(data);
      setIdentity(EMPTY_IDENTITY);
      setClientRideId(uuidV4());
    });
  };

  return (
    <View className="card" id="staff-manual">
      <Text className="subtitle">{t('staff.manual')}</Text>
      <Text className="hint">{t('staff.selected', { plate: carrier.plate })}</Text>
      <IdentityFields
        idPrefix="manual"
        value={identity}
        onChange={(field, value) => setIdentity((i) => ({ ...i, [field]: value }))}
        errors={fieldErrors}
      />
      {error && <ErrorNotice error={error} />}
      {result && (
        <View className="notice notice--info" role="status" id="manual-result">
          <Text className="notice__text">
            {t('staff.registered', {
              name: result.rider.name,
              phone: result.rider.phone,
              plate: result.ride.carrier.plate,
              time: formatHm(result.ride.boardedAt),
            })}
            {result.rider.matched ? ` ${t('staff.matched')}` : ''}
          </Text>
        </View>
      )}
      <Button
        className="btn"
        id="manual-submit"
        disabled={busy}
        onClick={() => void submit()}
        aria-label={t('staff.register')}
      >
        {t('staff.register')}
      </Button>
    </View>
  );
}

function VerifyStatus({ onSessionError }: { onSessionError: () => void }) {
  const t = useT();
  const [token, setToken] = useState('');
  const { busy, error, run } = useStaffRequest(onSessionError);
  const [verified, setVerified] = useState<VerifiedStatus | null>(null);

  const verify = async (value: string) => {
    if (!value.trim()) return;
    setVerified(null);
    await run(async () => setVerified(await api('staff').verifyStatus(value.trim())));
  };

  const scan = async () => {
    try {
      const res = await Taro.scanCode({ onlyFromCamera: true, scanType: ['qrCode'] });
      setToken(res.result);
      await verify(res.result);
    } catch {
      // Cancelled.
    }
  };

  return (
    <View className="card" id="staff-verify">
      <Text className="subtitle">{t('staff.verify')}</Text>
      {process.env.TARO_ENV !== 'h5' && (
        <Button className="btn" onClick={() => void scan()} aria-label={t('staff.scanToken')}>
          {t('staff.scanToken')}
        </Button>
      )}
      <Textarea
        className="textarea"
        id="verify-token"
        value={token}
        maxlength={512}
        placeholder={t('staff.tokenPlaceholder')}
        aria-label={t('staff.tokenLabel')}
        onInput={(e) => setToken(e.detail.value)}
      />
      <Button
        className="btn btn--secondary"
        id="verify-submit"
        disabled={busy || !token.trim()}
        onClick={() => void verify(token)}
        aria-label={t('staff.verifyButton')}
      >
        {t('staff.verifyButton')}
      </Button>
      {error && <ErrorNotice error={error} />}
      {verified && (
        <View id="verify-result">
          <StatusBadge colour={verified.colour} />
          <Text className="hint">
            {t('staff.verified', {
              colour: t(`status.${verified.colour}`),
              name: verified.name ?? '—',
              time: formatDateTime(verified.expiresAt),
            })}
          </Text>
        </View>
      )}
    </View>
  );
}
