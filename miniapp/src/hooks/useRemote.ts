import { useCallback, useEffect, useRef, useState } from 'react';
import { toApiError, type ApiError } from '../services/api-error';

export type Remote<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; error: ApiError };

/** Loads once on mount; `reload` loads again (retry buttons). Ignores replies after unmount. */
export function useRemote<T>(load: () => Promise<T>): [Remote<T>, () => void] {
  const [value, setValue] = useState<Remote<T>>({ state: 'loading' });
  const alive = useRef(true);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(() => {
    setValue({ state: 'loading' });
    loader.current().then(
      (data) => alive.current && setValue({ state: 'ok', data }),
      (err: unknown) => alive.current && setValue({ state: 'error', error: toApiError(err) }),
    );
  }, []);
  useEffect(() => {
    alive.current = true;
    reload();
    return () => {
      alive.current = false;
    };
  }, [reload]);
  return [value, reload];
}
