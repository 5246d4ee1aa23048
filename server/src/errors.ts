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

  /** Row problems of a refused file (csv_rows_invalid), sent with the error. */
  problems: { line: number; field: string; message: string }[] | undefined;
  problemCount: number | undefined;

  withProblems(problems: { line: number; field: string; message: string }[], max: number): this {
    this.problems = problems.slice(0, max);
    this.problemCount = problems.length;
    return this;
  }

  toBody() {
    if (this.problems)
      return {
        error: {
          code: this.code,
          message: this.message,
          problems: this.problems,
          problemCount: this.problemCount,
        },
      };
    return { error: { code: this.code, message: this.message } };
  }
}

export const appError = (code: ErrorCode, message?: string) => new AppError(code, message);
