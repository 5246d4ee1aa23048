import type { PassengerProfile } from '@ridetrace/shared';
import { useCallback, useEffect, useRef, useState } from 'react';
import { toApiError, type ApiError } from '../services/api-error';
import { cachedProfile, fetchProfile, rememberProfile } from '../services/phone';

export interface ProfileState {
  /** The server's answer, or the copy kept on the device until it comes. */
  profile: PassengerProfile | null;
  /** The last load failed (the kept copy, if any, stays). */
  error: ApiError | null;
  reload: () => void;
  /** A newer profile from another call (a verification): kept, and never overwritten by a slower load. */
  update: (profile: PassengerProfile) => void;
}

/**
 * The passenger's profile (GET /v1/passengers/me): the kept copy at once, then the server's, on every mount
 * (`always`) or only when none is kept (`when-missing`: the ride pass, shown at every scan).
 */
export function useProfile(refresh: 'always' | 'when-missing' = 'always'): ProfileState {
  const [profile, setProfile] = useState<PassengerProfile | null>(cachedProfile);
  const [error, setError] = useState<ApiError | null>(null);
  const alive = useRef(true);
  const version = useRef(0);

  const reload = useCallback(() => {
    const started = version.current;
    setError(null);
    fetchProfile().then(
      (p) => {
        if (version.current !== started) return;
        rememberProfile(p);
        if (alive.current) setProfile(p);
      },
      (err: unknown) => {
        if (alive.current) setError(toApiError(err));
      },
    );
  }, []);

  const update = useCallback((p: PassengerProfile) => {
    version.current++;
    rememberProfile(p);
    setProfile(p);
  }, []);

  useEffect(() => {
    alive.current = true;
    if (refresh === 'always' || !cachedProfile()) reload();
    return () => {
      alive.current = false;
    };
  }, [reload, refresh]);

  return { profile, error, reload, update };
}
