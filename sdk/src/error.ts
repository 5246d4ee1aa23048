import type { CsvProblem, ErrorCode } from '@ridetrace/shared';

/** An API error: the stable shared code, the HTTP status and the server's message. */
export class RideTraceError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error' | 'unexpected_response',
    message: string,
    /** The reply's Retry-After, in ms (seconds or an HTTP date), when it had one. */
    readonly retryAfterMs?: number,
    /** csv_rows_invalid: the first row problems and how many there are in all. */
    readonly problems?: { items: CsvProblem[]; total: number },
  ) {
    super(message);
    this.name = 'RideTraceError';
  }
}
