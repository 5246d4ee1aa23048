import type { Consent } from '@ridetrace/shared';
import { api } from '../services/api';
import { useRemote, type Remote } from './useRemote';

/** The current consent text and its version (GET /v1/consent); `reload` fetches it again. */
export function useConsent(): [Remote<Consent>, () => void] {
  return useRemote(() => api('none').consent());
}
