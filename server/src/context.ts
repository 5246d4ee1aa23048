import type { Config } from './config.js';
import type { Keyring } from './crypto/keyring.js';
import type { Db } from './db/index.js';
import type { SuperAppLogin } from './adapters/super-app.js';
import type { RideBatcher } from './modules/rides/ride-batcher.js';

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
  /** The notification worker of this process, when it runs one (kicked after new notifications). */
  notifier: { kick(): void } | null;
}
