import type { Config } from './config.js';
import type { Keyring } from './crypto/keyring.js';
import type { Db } from './db/index.js';
import type { SuperAppLogin } from './adapters/super-app.js';
import { CaseFactsCache } from './modules/cases/case-facts.js';
import { RideBatcher } from './modules/rides/ride-batcher.js';

/** What services need, built once by buildApp and passed down (no globals). */
export interface AppContext {
  readonly config: Config;
  readonly db: Db;
  readonly keyring: Keyring;
  readonly superApp: SuperAppLogin;
  /** Injectable clock (tests move time). */
  readonly now: () => Date;
  /** Group commit of scans. */
  readonly rideBatcher: RideBatcher;
  /** Ride days whose partition this process has made sure of. */
  readonly partitionDays: Set<string>;
  /** The subjects and windows of recently used cases (fixed once opened), for traces. */
  readonly caseFacts: CaseFactsCache;
  /** The notification worker of this process, when it runs one (kicked after new notifications). */
  notifier: { kick(): void } | null;
}

/** A context with this process's own state (group commit, partition days, case facts) fresh. */
export function createContext(
  parts: Pick<AppContext, 'config' | 'db' | 'keyring' | 'superApp' | 'now'>,
): AppContext {
  return {
    ...parts,
    partitionDays: new Set(),
    caseFacts: new CaseFactsCache(),
    rideBatcher: new RideBatcher(parts.db, {
      maxBatch: parts.config.rides.batchMax,
      maxInFlight: parts.config.rides.batchInFlight,
      maxQueueMs: parts.config.rides.batchQueueMs,
    }),
    notifier: null,
  };
}
