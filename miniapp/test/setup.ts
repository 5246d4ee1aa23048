/**
 * Page tests: @tarojs/components is aliased to plain DOM (test/taro-components.tsx); @tarojs/taro is mocked here
 * for every test file, its functions created in vi.hoisted so the mock factory can use them. Tests reach the mock
 * through test/harness.ts.
 */
import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';

const taro = vi.hoisted(() => {
  const storage = new Map<string, unknown>();
  const state = {
    params: {} as Record<string, string>,
    networkListeners: [] as ((res: { isConnected: boolean; networkType: string }) => void)[],
  };
  const copy = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
  return {
    storage,
    state,
    getStorageSync: vi.fn((key: string) => (storage.has(key) ? copy(storage.get(key)) : '')),
    setStorageSync: vi.fn((key: string, value: unknown) => void storage.set(key, copy(value))),
    removeStorageSync: vi.fn((key: string) => void storage.delete(key)),
    request: vi.fn(),
    login: vi.fn(),
    scanCode: vi.fn(),
    requestSubscribeMessage: vi.fn(),
    navigateTo: vi.fn(() => Promise.resolve({ errMsg: 'navigateTo:ok' })),
    redirectTo: vi.fn(() => Promise.resolve({ errMsg: 'redirectTo:ok' })),
    reLaunch: vi.fn(() => Promise.resolve({ errMsg: 'reLaunch:ok' })),
    setNavigationBarTitle: vi.fn(() => Promise.resolve({ errMsg: 'setNavigationBarTitle:ok' })),
    onNetworkStatusChange: vi.fn((cb: (typeof state.networkListeners)[number]) => {
      state.networkListeners.push(cb);
    }),
  };
});

vi.mock('@tarojs/taro', async () => {
  const { useEffect } = await import('react');
  // Taro's lifecycle hooks, as run once on mount.
  const useOnMount = (cb: () => void) =>
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the callback of the first render, like Taro
    useEffect(() => cb(), []);
  return {
    default: taro,
    ...taro,
    useRouter: () => ({ params: taro.state.params, path: '/pages/test/index' }),
    useDidShow: useOnMount,
    useLaunch: useOnMount,
    useLoad: useOnMount,
  };
});

beforeEach(async () => {
  taro.storage.clear();
  taro.state.params = {};
  taro.state.networkListeners.length = 0;
  process.env.TARO_ENV = 'weapp';
  process.env.TARO_APP_API = 'http://api.test';
  const { resetLang } = await import('../src/services/i18n-core');
  const { signOutStaff } = await import('../src/services/api');
  const { resetQueueWatcherForTests } = await import('../src/services/rides');
  const { phoneNumberEvent } = await import('./taro-components');
  phoneNumberEvent.detail = {};
  resetLang();
  signOutStaff();
  resetQueueWatcherForTests();
  taro.login.mockResolvedValue({ code: 'ok:tester', errMsg: 'login:ok' });
  // The passenger declines, unless a test says otherwise.
  taro.requestSubscribeMessage.mockResolvedValue({
    errMsg: 'requestSubscribeMessage:ok',
    ridetrace_exposure: 'reject',
  });
});

afterEach(() => {
  cleanup();
  vi.clearAllMocks();
  vi.useRealTimers();
});
