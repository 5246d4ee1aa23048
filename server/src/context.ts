import type { Config } from './config.js';
import { Keyring } from './crypto/keyring.js';
import type { MasterKeys } from './crypto/master-keys.js';
import type { Db } from './db/index.js';
import { primaryTraceReads, type TraceReads } from './db/trace-reads.js';
import { DeliveryError, type SmsSender } from './adapters/notify.js';
import type { SuperAppLogin } from './adapters/super-app.js';
import { loadRideDays } from './modules/rides/ride-days.service.js';
import type { RideDays } from './modules/rides/ride-days.js';
import { Tokens } from './tokens.js';

/** What services need, built once by buildApp (or a script) and passed down: immutable, no globals. */
export interface AppContext {
  readonly config: Config;
  readonly db: Db;
  /** Where exposure, case-ride and itinerary reads run: a hot standby when fresh enough, else `db`. */
  readonly traces: TraceReads;
  readonly keyring: Keyring;
  readonly superApp: SuperAppLogin;
  /** SMS for one-time codes sent while a request waits (exposure notices go through the worker's senders). */
  readonly sms: SmsSender;
  readonly tokens: Tokens;
  /** Ride days (day keys, partitions, purge) in the deployment's time zone, as the database records them. */
  readonly rideDays: RideDays;
  /** Injectable clock (tests move time). */
  readonly now: () => Date;
}

export type ContextParts = Pick<AppContext, 'config' | 'db' | 'keyring' | 'superApp' | 'rideDays' | 'now'> &
  Partial<Pick<AppContext, 'sms' | 'traces'>>;

/** Scripts send no SMS: a code request in such a context is refused as unavailable. */
const noSms: SmsSender = {
  send: () => Promise.reject(new DeliveryError('no SMS provider in this process', true)),
  sendCode: () => Promise.reject(new DeliveryError('no SMS provider in this process', true)),
};

export function createContext(parts: ContextParts): AppContext {
  return Object.freeze({
    sms: noSms,
    ...parts,
    traces: parts.traces ?? primaryTraceReads(parts.db),
    tokens: new Tokens(parts.keyring.jwtSecret),
  });
}

/** A context whose keyring is loaded from the database with the master keys (the app and scripts alike). */
export async function loadContext(
  parts: Omit<ContextParts, 'keyring' | 'rideDays'> & { masterKeys: MasterKeys },
): Promise<AppContext> {
  const { masterKeys, ...rest } = parts;
  return createContext({
    ...rest,
    keyring: await Keyring.load(parts.db, masterKeys),
    rideDays: await loadRideDays(parts.db, parts.config.timeZone),
  });
}

/**
 * Process-local state that a module keeps for one context (a write batcher, a cache), created by the module on
 * first use. Keyed by the context, so two apps in one process (tests, scripts) never share it.
 */
export function perContext<T>(create: (ctx: AppContext) => T): (ctx: AppContext) => T {
  const states = new WeakMap<AppContext, T>();
  return (ctx) => {
    let state = states.get(ctx);
    if (state === undefined) {
      state = create(ctx);
      states.set(ctx, state);
    }
    return state;
  };
}
