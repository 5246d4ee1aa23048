import Taro from '@tarojs/taro';
import type { Mock } from 'vitest';

export { phoneNumberEvent } from './taro-components';

/** The Taro mock of test/setup.ts, typed for tests. */
export interface TaroMock {
  storage: Map<string, unknown>;
  state: {
    params: Record<string, string>;
    networkListeners: ((res: { isConnected: boolean; networkType: string }) => void)[];
  };
  getStorageSync: Mock;
  setStorageSync: Mock;
  removeStorageSync: Mock;
  request: Mock;
  login: Mock;
  scanCode: Mock;
  requestSubscribeMessage: Mock;
  navigateTo: Mock;
  redirectTo: Mock;
  reLaunch: Mock;
  setNavigationBarTitle: Mock;
  onNetworkStatusChange: Mock;
}

export const taro = Taro as unknown as TaroMock;

export interface FakeRequest {
  method: string;
  path: string;
  data: Record<string, unknown> | undefined;
  authorization: string | undefined;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'network';
type Handler = (req: FakeRequest) => Reply | Promise<Reply>;

export const errorBody = (code: string, message = code) => ({ error: { code, message } });

/**
 * Answers Taro.request like the server would: handlers by `METHOD /path` (query string ignored), `'network'` for
 * no reply. Unknown routes answer 404 route_not_found, as the server does. Returns the requests seen.
 */
export function fakeApi(routes: Record<string, Handler | Reply>): FakeRequest[] {
  const seen: FakeRequest[] = [];
  const all: Record<string, Handler | Reply> = {
    'POST /v1/auth/passenger': { status: 200, body: passengerToken('token-1') },
    'GET /v1/passengers/me': { status: 200, body: profile() },
    ...routes,
  };
  taro.request.mockImplementation(
    async (opts: {
      url: string;
      method: string;
      data?: Record<string, unknown>;
      header: Record<string, string>;
    }) => {
      const url = new URL(opts.url);
      const req: FakeRequest = {
        method: opts.method,
        path: url.pathname,
        data: opts.data,
        authorization: opts.header.authorization,
      };
      seen.push(req);
      const route = all[`${opts.method} ${url.pathname}`];
      const reply =
        typeof route === 'function'
          ? await route(req)
          : (route ?? { status: 404, body: errorBody('route_not_found') });
      if (reply === 'network') throw { errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' };
      return { statusCode: reply.status, data: reply.body ?? null, header: reply.headers ?? {} };
    },
  );
  return seen;
}

export function passengerToken(accessToken: string, confirmed = false) {
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: 7200,
    passenger: { id: 'p-1', confirmed },
  };
}

/** GET /v1/passengers/me: a passenger who has not confirmed yet and has no phone, unless overridden. */
export function profile(overrides: Record<string, unknown> = {}) {
  return {
    id: 'p-1',
    confirmed: false,
    name: null,
    phone: null,
    phoneVerified: false,
    phoneSource: null,
    messageGrants: 0,
    hasIdNumber: false,
    consentVersion: null,
    consentedAt: null,
    ...overrides,
  };
}

export const carrier = { id: 7, kind: 'bus' as const, plate: '粤B12345', route: '36路', city: '深圳' };

export function ride(overrides: Record<string, unknown> = {}) {
  return {
    id: '6f1c1b8e-1d7a-4d38-9a55-0c0d7f1b2a10',
    carrier,
    boardedAt: '2026-11-22T08:05:00.000Z',
    receivedAt: '2026-11-22T08:05:01.000Z',
    source: 'scan',
    late: false,
    ...overrides,
  };
}

export function preview(
  passenger: { name: string | null; phone: string | null } = { name: null, phone: null },
) {
  return {
    carrier,
    serverTime: '2026-11-22T08:05:00.000Z',
    boardedAt: '2026-11-22T08:05:00.000Z',
    passenger,
    consentVersion: '2026-11',
  };
}

export const consent = {
  version: '2026-11',
  text: {
    'zh-CN': '为配合传染病疫情防控，本服务记录您乘坐的交通工具。',
    en: 'To support infectious-disease control.',
  },
};

/** A carrier code as printed on the poster. */
export const CODE_URL = 'HTTP://127.0.0.1:3000/C/AEAQAAAAAEAACAAAAAAAAAAAAAAAAAAA';

/** Lets pending promises and React updates run. */
export const flush = () => new Promise((r) => setTimeout(r, 0));
