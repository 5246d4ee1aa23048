import Taro from '@tarojs/taro';
import { ApiError } from './api-error';
import { readStore, writeStore } from './storage';

/**
 * h5 has no super-app login (`Taro.login` exists only in mini-programs). The h5 build therefore takes the
 * login code from a bridge: a `loginCode` query parameter of the page URL (before or after the `#`), kept in
 * storage `rt.loginCode` for later logins. Use it with the dev server (`?loginCode=dev:alice`) or with a fake
 * super-app in tests (`?loginCode=ok:alice`). The weapp build never reads it: it calls `Taro.login`.
 */
export function h5LoginCode(): string | null {
  if (typeof window !== 'undefined' && window.location) {
    const { search, hash } = window.location;
    const fromQuery =
      new URLSearchParams(search).get('loginCode') ??
      new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '').get('loginCode');
    if (fromQuery) {
      writeStore('rt.loginCode', fromQuery);
      return fromQuery;
    }
  }
  return readStore('rt.loginCode');
}

/** A one-time super-app login code for POST /v1/auth/passenger. */
export async function getLoginCode(): Promise<string> {
  if (process.env.TARO_ENV === 'h5') {
    const code = h5LoginCode();
    if (!code) throw new ApiError('login_unavailable', 0);
    return code;
  }
  let res: Taro.login.SuccessCallbackResult;
  try {
    res = await Taro.login();
  } catch (err) {
    // wx.login fails mostly for lack of network: treat it so, then the scan is queued.
    throw new ApiError('network_error', 0, (err as { errMsg?: string } | null)?.errMsg);
  }
  if (!res.code) throw new ApiError('login_unavailable', 0, res.errMsg);
  return res.code;
}
