import { RideTraceError } from '@ridetrace/sdk';
import { errorMessage, type AppErrorCode } from './error-messages';

/** A failed API call: a server error code from `{ error: { code } }` or a client-side code (no network, …). */
export class ApiError extends Error {
  constructor(
    readonly code: AppErrorCode,
    /** HTTP status; 0 when no reply arrived. */
    readonly status: number,
    /** The server's English message, for logs only: users read `userMessage()`. */
    readonly serverMessage?: string,
    /** The reply's Retry-After in seconds, when the client could read it (h5 cannot: CORS hides it). */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${code}${serverMessage ? `: ${serverMessage}` : ''}`);
    this.name = 'ApiError';
  }

  /** No reply at all: the request may be retried with the same idempotency key. */
  get isNetwork(): boolean {
    return this.code === 'network_error';
  }

  /** The server is busy or down: worth retrying later, unchanged. */
  get isTransient(): boolean {
    return (
      this.isNetwork ||
      this.code === 'rate_limited' ||
      this.code === 'service_unavailable' ||
      this.code === 'overloaded' ||
      this.code === 'upstream_unavailable' ||
      this.code === 'internal_error' ||
      // A 2xx that is not the API's JSON: mostly a captive portal or proxy page, the server never saw the request.
      this.code === 'bad_response'
    );
  }

  userMessage(): string {
    return errorMessage(this.code);
  }
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // The transport throws ApiError for every failed reply: what is left from the SDK is a 2xx that is not JSON.
  if (err instanceof RideTraceError) return new ApiError('bad_response', err.status, err.message);
  return new ApiError('unknown_error', 0, String(err));
}
