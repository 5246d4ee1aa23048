import { RideTraceError } from '@ridetrace/sdk';
import type { Translate } from './i18n/index.js';

/** What to show for a failed call: the API's own human message, or what went wrong on the way to it. */
export function errorText(err: unknown, t: Translate): string {
  if (err instanceof RideTraceError) {
    if (err.code === 'network_error') return t('error.network');
    if (err.code === 'unexpected_response') return t('error.unexpected', { status: err.status });
    return err.message;
  }
  return err instanceof Error && err.message ? err.message : t('error.unknown');
}

/** The session is gone (signed out elsewhere, disabled, expired): the console shows the sign-in page. */
export function isSessionLost(err: unknown): boolean {
  return err instanceof RideTraceError && err.status === 401;
}
