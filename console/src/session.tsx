import type { OfficialAccount, OfficialSession, OfficialSignInBody } from '@ridetrace/shared';
import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { useApi } from './api.js';
import { isSessionLost } from './errors.js';
import { IDLE_SIGN_OUT_MINUTES, REFRESH_MARGIN_SECONDS } from './settings.js';

/** Why the sign-in page is showing: it tells the official what happened. */
export type SignedOutReason = 'idle' | 'expired' | 'signedOut';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signedOut'; reason?: SignedOutReason }
  | { status: 'signedIn'; official: OfficialAccount };

interface SessionApi {
  state: SessionState;
  signIn: (body: OfficialSignInBody) => Promise<void>;
  signOut: (reason?: SignedOutReason) => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

/** The input events that count as an official still being at the console. */
const ACTIVITY_EVENTS = ['keydown', 'mousedown', 'mousemove', 'wheel', 'touchstart', 'scroll'] as const;
const IDLE_CHECK_MS = 15_000;

/**
 * The official's cookie session: resumed on load (a refresh proves the cookies still hold a session), refreshed
 * before the access cookie lapses, ended after IDLE_SIGN_OUT_MINUTES without input, and dropped when the API
 * answers 401 and a refresh cannot save it (disabled, signed out elsewhere, session over).
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const queries = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const renewing = useRef<Promise<boolean> | null>(null);
  const booted = useRef<Promise<OfficialSession> | null>(null);
  // The timer set by `started` calls the current renew (defined below, after started).
  const renewRef = useRef<() => Promise<boolean>>(() => Promise.resolve(false));

  const clearRefresh = () => {
    if (refreshTimer.current !== undefined) clearTimeout(refreshTimer.current);
    refreshTimer.current = undefined;
  };

  const endLocally = useCallback(
    (reason?: SignedOutReason) => {
      clearRefresh();
      // The next official at this browser must not see this one's cached cases.
      queries.clear();
      setState(reason ? { status: 'signedOut', reason } : { status: 'signedOut' });
    },
    [queries],
  );

  const started = useCallback((s: OfficialSession) => {
    clearRefresh();
    const inMs = Math.max(5, s.expiresIn - REFRESH_MARGIN_SECONDS) * 1000;
    refreshTimer.current = setTimeout(() => void renewRef.current(), inMs);
    setState({ status: 'signedIn', official: s.official });
  }, []);

  /** One refresh at a time (the refresh cookie is single use); false when the session could not be renewed. */
  const renew = useCallback((): Promise<boolean> => {
    renewing.current ??= api
      .refreshOfficialSession()
      .then((s) => {
        started(s);
        return true;
      })
      .catch(() => {
        endLocally('expired');
        return false;
      })
      .finally(() => {
        renewing.current = null;
      });
    return renewing.current;
  }, [api, started, endLocally]);
  renewRef.current = renew;

  // Resume a session the cookies still hold; one request even when React runs the effect twice (StrictMode).
  useEffect(() => {
    booted.current ??= api.refreshOfficialSession();
    let live = true;
    booted.current.then(
      (s) => live && started(s),
      () => live && setState({ status: 'signedOut' }),
    );
    return () => {
      live = false;
    };
  }, [api, started]);

  useEffect(() => clearRefresh, []);

  // A 401 from any read or write: the access cookie may only have lapsed (a sleeping laptop missed the timer).
  useEffect(() => {
    const onError = (err: unknown) => {
      if (!isSessionLost(err)) return;
      void renew().then((ok) => {
        if (ok) void queries.invalidateQueries();
      });
    };
    const unQueries = queries.getQueryCache().subscribe((e) => {
      if (e.type === 'updated' && e.action.type === 'error') onError(e.action.error);
    });
    const unMutations = queries.getMutationCache().subscribe((e) => {
      if (e.type === 'updated' && e.action.type === 'error') onError(e.action.error);
    });
    return () => {
      unQueries();
      unMutations();
    };
  }, [queries, renew]);

  const signOut = useCallback(
    async (reason: SignedOutReason = 'signedOut') => {
      try {
        await api.signOutOfficial();
      } catch {
        // Ended here all the same; the server ends it at the latest when the session lapses.
      }
      endLocally(reason);
    },
    [api, endLocally],
  );

  const signedIn = state.status === 'signedIn';
  useIdleSignOut(signedIn, () => void signOut('idle'));

  const signIn = useCallback(
    async (body: OfficialSignInBody) => {
      started(await api.signInOfficialSession(body));
    },
    [api, started],
  );

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** Calls onIdle once IDLE_SIGN_OUT_MINUTES pass without input while active. */
function useIdleSignOut(active: boolean, onIdle: () => void): void {
  const onIdleRef = useRef(onIdle);
  onIdleRef.current = onIdle;
  useEffect(() => {
    if (!active) return;
    let last = Date.now();
    const seen = () => {
      last = Date.now();
    };
    for (const e of ACTIVITY_EVENTS) window.addEventListener(e, seen, { passive: true, capture: true });
    const timer = setInterval(() => {
      if (Date.now() - last >= IDLE_SIGN_OUT_MINUTES * 60_000) {
        clearInterval(timer);
        onIdleRef.current();
      }
    }, IDLE_CHECK_MS);
    return () => {
      clearInterval(timer);
      for (const e of ACTIVITY_EVENTS) window.removeEventListener(e, seen, { capture: true });
    };
  }, [active]);
}

export function useSession(): SessionApi {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionProvider>');
  return s;
}

/** The signed-in official (pages under the shell only). */
export function useOfficial(): OfficialAccount {
  const { state } = useSession();
  if (state.status !== 'signedIn') throw new Error('useOfficial without a session');
  return state.official;
}

/** Whether the official holds any of these scopes. */
export function hasScope(official: OfficialAccount, ...scopes: OfficialAccount['scopes']): boolean {
  return scopes.some((s) => official.scopes.includes(s));
}
