import Taro from '@tarojs/taro';
import type { Transport } from '@ridetrace/sdk';
import type { ErrorBody } from '@ridetrace/shared';
import { ApiError } from './api-error';
import { isKnownErrorCode } from './error-messages';

/** The SDK on `Taro.request`, the app's only network call (ESLint): failures become `ApiError`, for the pages. */
export const taroTransport: Transport = async (req) => {
  const header: Record<string, string> = { ...req.headers };
  // No content type on GET: a public GET then needs no CORS preflight on h5.
  if (req.method === 'GET') delete header['content-type'];
  else header['content-type'] = 'application/json';
  let res: Awaited<ReturnType<typeof Taro.request>>;
  try {
    res = await Taro.request({
      url: req.url,
      method: req.method,
      // A JSON content type with an empty body is a 400 on the server: bodiless POST/DELETE send `{}`.
      data: req.body ?? (req.method === 'GET' ? undefined : {}),
      header,
      timeout: req.timeoutMs,
      ...(req.responseType === 'arraybuffer' ? { responseType: 'arraybuffer' } : { dataType: 'json' }),
    });
  } catch (err) {
    throw new ApiError('network_error', 0, (err as { errMsg?: string } | null)?.errMsg);
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) return { status, headers: res.header ?? {}, data: res.data };
  const body = res.data as Partial<ErrorBody> | null | undefined;
  const code = body?.error?.code;
  throw new ApiError(
    isKnownErrorCode(code) ? code : 'unknown_error',
    status,
    body?.error?.message,
    retryAfterSeconds(res.header),
  );
};

/** Retry-After in seconds (the API sends delay-seconds); header names come in any case. */
function retryAfterSeconds(headers: Record<string, string> | undefined): number | undefined {
  for (const [name, value] of Object.entries(headers ?? {}))
    if (name.toLowerCase() === 'retry-after' && /^\d+$/.test(String(value).trim())) return Number(value);
  return undefined;
}
