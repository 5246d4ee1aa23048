import { ERRORS, type ErrorCode } from '@ridetrace/shared';

/** The one error type of the server: a stable shared code, its HTTP status, a human message. */
export class AppError extends Error {
  readonly status: number;
  /** Seconds after which a retry can succeed (sent as Retry-After). */
  retryAfterSeconds: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    status?: number,
  ) {
    super(message ?? ERRORS[code].message);
    this.status = status ?? ERRORS[code].status;
  }

  /** The same error with a Retry-After delay. */
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = Math.max(1, Math.ceil(seconds));
    return this;
  }

  toBody() {
    return { error: { code: this.code, message: this.message } };
  }
}

export const appError = (code: ErrorCode, message?: string) => new AppError(code, message);
