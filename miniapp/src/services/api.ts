import { RideTraceClient, type Transport } from '@ridetrace/sdk';
import { ApiError } from './api-error';
import { getLoginCode } from './login';
import { readStore, removeStore, writeStore, type StoredToken } from './storage';
import { taroTransport } from './transport';

/** API base URL, fixed at build time from `TARO_APP_API` (.env.development / .env.production, or the environment). */
export function apiBase(): string {
  return (process.env.TARO_APP_API ?? '').replace(/\/+$/, '');
}

export type Auth = 'passenger' | 'staff' | 'none';

const TIMEOUT_MS = 15_000;
/** Renew a little before the server would refuse the token. */
const EXPIRY_MARGIN_MS = 60_000;

function sdk(transport: Transport): RideTraceClient {
  // No retries inside the SDK: the scan queue retries transient errors itself, with the same clientRideId.
  // eslint-disable-next-line no-restricted-syntax -- the one place that builds the client
  return new RideTraceClient({ baseUrl: apiBase(), transport, timeoutMs: TIMEOUT_MS, overloadRetries: 0 });
}

function fresh(t: StoredToken | null): string | null {
  return t && t.expiresAt - EXPIRY_MARGIN_MS > Date.now() ? t.token : null;
}

function expiry(expiresInSeconds: number): number {
  return Date.now() + expiresInSeconds * 1000;
}

// ---- passenger: super-app login code → POST /v1/auth/passenger -------------------------------------------

let passengerLogin: Promise<string> | null = null;

/** Logs in through the super-app (one login at a time) and stores the token. */
export function loginPassenger(): Promise<string> {
  if (passengerLogin) return passengerLogin;
  const run = async () => {
    const loginCode = await getLoginCode();
    const data = await sdk(taroTransport).loginPassenger(loginCode);
    // Another passenger on this device (h5 login bridge): the kept profile is not theirs.
    if (readStore('rt.profile')?.id !== data.passenger.id) removeStore('rt.profile');
    setPassengerToken(data.accessToken, data.expiresIn);
    return data.accessToken;
  };
  passengerLogin = run().finally(() => {
    passengerLogin = null;
  });
  return passengerLogin;
}

/** Stores a passenger token, e.g. the renewed one from POST /v1/passengers/me/confirm. */
export function setPassengerToken(accessToken: string, expiresIn: number): void {
  writeStore('rt.passengerToken', { token: accessToken, expiresAt: expiry(expiresIn) });
}

export function clearPassengerToken(): void {
  removeStore('rt.passengerToken');
}

// ---- staff: client credentials → POST /v1/auth/token ---------------------------------------------------

/** Kept in memory only (never in storage), to renew the 15-minute token during this app session. */
let staffCredentials: { clientId: string; clientSecret: string } | null = null;

export async function signInStaff(clientId: string, clientSecret: string): Promise<void> {
  const data = await sdk(taroTransport).loginClient(clientId, clientSecret);
  staffCredentials = { clientId, clientSecret };
  writeStore('rt.staffToken', { token: data.accessToken, expiresAt: expiry(data.expiresIn) });
}

export function signOutStaff(): void {
  staffCredentials = null;
  removeStore('rt.staffToken');
}

export function hasStaffSession(): boolean {
  return fresh(readStore('rt.staffToken')) !== null || staffCredentials !== null;
}

async function staffToken(): Promise<string> {
  const stored = fresh(readStore('rt.staffToken'));
  if (stored) return stored;
  if (!staffCredentials) throw new ApiError('auth_required', 401);
  const { clientId, clientSecret } = staffCredentials;
  await signInStaff(clientId, clientSecret);
  return fresh(readStore('rt.staffToken'))!;
}

async function passengerToken(): Promise<string> {
  return fresh(readStore('rt.passengerToken')) ?? loginPassenger();
}

// ---- the one entry point --------------------------------------------------------------------------------

/** Logs in when needed, and again on token_expired/invalid to resend the very same request (same idempotency key). */
function withToken(auth: 'passenger' | 'staff'): Transport {
  return async (req) => {
    const send = (token: string) =>
      taroTransport({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } });
    const token = auth === 'passenger' ? await passengerToken() : await staffToken();
    try {
      return await send(token);
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 'token_expired' && err.code !== 'token_invalid'))
        throw err;
      if (auth === 'passenger') {
        clearPassengerToken();
        return send(await loginPassenger());
      }
      removeStore('rt.staffToken');
      return send(await staffToken());
    }
  };
}

/** The SDK client as the passenger (default), as staff, or without a token; it throws `ApiError`. */
export function api(auth: Auth = 'passenger'): RideTraceClient {
  return sdk(auth === 'none' ? taroTransport : withToken(auth));
}
