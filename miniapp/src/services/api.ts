import Taro from '@tarojs/taro';
import type { ClientToken, ErrorBody, PassengerToken } from '@ridetrace/shared';
import { ApiError } from './api-error';
import { isKnownErrorCode } from './error-messages';
import { getLoginCode } from './login';
import { readStore, removeStore, writeStore, type StoredToken } from './storage';

/** API base URL, fixed at build time from `TARO_APP_API` (.env.development / .env.production, or the environment). */
export function apiBase(): string {
  return (process.env.TARO_APP_API ?? '').replace(/\/+$/, '');
}

export type Auth = 'passenger' | 'staff' | 'none';
type Method = 'GET' | 'POST' | 'DELETE';

export interface ApiRequest {
  method: Method;
  path: string;
  data?: object;
  /** Whose bearer token to send; default passenger. */
  auth?: Auth;
}

export interface ApiReply<T> {
  status: number;
  data: T;
}

const TIMEOUT_MS = 15_000;
/** Renew a little before the server would refuse the token. */
const EXPIRY_MARGIN_MS = 60_000;

async function send<T>(req: ApiRequest, token: string | null): Promise<ApiReply<T>> {
  // No content type on GET: a public GET then needs no CORS preflight on h5.
  const header: Record<string, string> = req.method === 'GET' ? {} : { 'content-type': 'application/json' };
  if (token) header.authorization = `Bearer ${token}`;
  let res: Awaited<ReturnType<typeof Taro.request>>;
  try {
    res = await Taro.request({
      url: apiBase() + req.path,
      method: req.method,
      // A JSON content type with an empty body is a 400 on the server: bodiless POST/DELETE send `{}`.
      data: req.data ?? (req.method === 'GET' ? undefined : {}),
      header,
      timeout: TIMEOUT_MS,
      dataType: 'json',
    });
  } catch (err) {
    throw new ApiError('network_error', 0, (err as { errMsg?: string } | null)?.errMsg);
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) return { status, data: res.data as T };
  const body = res.data as Partial<ErrorBody> | null | undefined;
  const code = body?.error?.code;
  throw new ApiError(isKnownErrorCode(code) ? code : 'unknown_error', status, body?.error?.message);
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
    const { data } = await send<PassengerToken>(
      { method: 'POST', path: '/v1/auth/passenger', data: { loginCode }, auth: 'none' },
      null,
    );
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
  const { data } = await send<ClientToken>(
    {
      method: 'POST',
      path: '/v1/auth/token',
      data: { grantType: 'client_credentials', clientId, clientSecret },
      auth: 'none',
    },
    null,
  );
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

/**
 * Calls the API with the right bearer token; logs in first when there is none, and once more when the server
 * says the token expired or is invalid (then retries the same request, same body: idempotency keys included).
 * Throws `ApiError` with the server's code, or `network_error` when no reply arrived.
 */
export async function api<T>(req: ApiRequest): Promise<ApiReply<T>> {
  const auth = req.auth ?? 'passenger';
  if (auth === 'none') return send<T>(req, null);
  const token = auth === 'passenger' ? await passengerToken() : await staffToken();
  try {
    return await send<T>(req, token);
  } catch (err) {
    if (!(err instanceof ApiError) || (err.code !== 'token_expired' && err.code !== 'token_invalid'))
      throw err;
    if (auth === 'passenger') {
      clearPassengerToken();
      return send<T>(req, await loginPassenger());
    }
    removeStore('rt.staffToken');
    return send<T>(req, await staffToken());
  }
}
