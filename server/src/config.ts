import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { consentVersionOf, renderConsentText } from './modules/passengers/consent.js';

export type Mode = 'development' | 'production' | 'test';

export interface Config {
  readonly mode: Mode;
  readonly host: string;
  readonly port: number;
  /** Unset: main.ts starts embedded Postgres under dataDir. */
  readonly databaseUrl: string | undefined;
  /** Server processes on the one port (node:cluster); 1: a single process, no cluster. */
  readonly workers: number;
  /**
   * Follow other processes' key changes through LISTEN/NOTIFY (cache-events.ts); off: only the periodic re-reads
   * (tests of that fallback).
   */
  readonly cacheEvents: boolean;
  readonly dbPoolSize: number;
  /** Connections the pool keeps open however long they idle (warm: plans and catalog caches stay). */
  readonly dbPoolMin: number;
  /**
   * A hot standby for exposure, case-ride and itinerary reads (db/trace-reads.ts); unset: they read the primary.
   * `maxLagMs`: beyond this replay lag those reads go to the primary.
   */
  readonly traceReplica: {
    readonly url: string | undefined;
    readonly maxLagMs: number;
    readonly poolSize: number;
  };
  readonly dataDir: string;
  /** Base of the URL printed in QR codes (`${publicBaseUrl}/C/<token>`). */
  readonly publicBaseUrl: string;
  /** Master keys by id (base64 32 bytes); `activeMasterKeyId` wraps new data keys. */
  readonly masterKeys: ReadonlyMap<string, Buffer> | undefined;
  readonly activeMasterKeyId: string | undefined;
  readonly masterKeyFile: string | undefined;
  readonly passengerTokenTtlSeconds: number;
  readonly clientTokenTtlSeconds: number;
  /** Official persons: access-token lifetime, session (refresh) lifetime, lock-out after failed sign-ins. */
  readonly officials: {
    readonly tokenTtlSeconds: number;
    readonly sessionHours: number;
    readonly maxFailedSignIns: number;
    readonly lockMinutes: number;
    /** Console session cookies carry `Secure` (sent over HTTPS only): always in production. */
    readonly cookieSecure: boolean;
  };
  /** Unmasking a case's identities: `dual` needs another official's approval, `single` lets the requester self-grant. */
  readonly reveal: { readonly approval: 'dual' | 'single'; readonly grantHours: number };
  readonly superApp: {
    readonly baseUrl: string | undefined;
    readonly appId: string;
    readonly appSecret: string;
    readonly timeoutMs: number;
    /** Subscribe-message template of exposure notices. */
    readonly exposureTemplateId: string;
    /** Subscribe-message template of secondary-contact (degree 2) notices. */
    readonly secondaryTemplateId: string;
    /** `miniprogram_state` of subscribe messages: formal, trial or developer. */
    readonly messageState: 'formal' | 'trial' | 'developer';
  };
  readonly rides: {
    /** Offline scans older than this are refused. */
    readonly maxLateSeconds: number;
    /** Scans received later than this after scannedAt are flagged late (offline). */
    readonly lateAfterSeconds: number;
    /** Client clocks may run ahead this much before scannedAt counts as future. */
    readonly futureSkewSeconds: number;
    /** A ride on another carrier within this many seconds of the previous one is flagged. */
    readonly minCarrierSwitchSeconds: number;
    /** Another scan of the same carrier by the same passenger this soon returns the earlier ride (0: off). */
    readonly repeatMinutes: number;
    readonly historyDays: number;
    /** Ride days older than this are crypto-shredded and dropped by the daily purge. */
    readonly retentionDays: number;
    /** Group commit: rides per INSERT, and INSERTs running at once (the rest queue for the next batch). */
    readonly batchMax: number;
    readonly batchInFlight: number;
    /** A scan queued this long without its batch starting is refused with 503 (the database is stuck). */
    readonly batchQueueMs: number;
  };
  /** How long the other personal records live (docs/operations.md "Lifetimes"); the hourly purge enforces them. */
  readonly lifetimes: {
    /** An app registration's identity goes after this many days without a ride or a change to the account. */
    readonly passengerInactiveDays: number;
    /** A closed case and what it holds about people (subjects, marks, notifications, access log) go this late. */
    readonly caseRetentionDays: number;
    /** A scan waiting for the passenger's first confirmation is dropped this many minutes after it was made. */
    readonly pendingScanMinutes: number;
  };
  /**
   * The consent version passengers accept: CONSENT_VERSION and a hash of the rendered consent text, so any change of
   * the text (controller, contact, retention days, wording) asks every passenger again.
   */
  readonly consentVersion: string;
  /** Named in the consent text: who is responsible for the data, and how to reach them. */
  readonly consent: { readonly controller: string; readonly contact: string };
  /** SMS one-time codes that verify a typed phone number. */
  readonly otp: {
    readonly ttlSeconds: number;
    readonly maxAttempts: number;
    /** Least time between two codes to one phone. */
    readonly resendSeconds: number;
    readonly perPhonePerHour: number;
    readonly perPassengerPerHour: number;
    readonly perIpPerHour: number;
  };
  readonly trace: {
    /** Co-passenger window per carrier kind (seconds, either side of the case's boarding). */
    readonly windowSeconds: Readonly<Record<'taxi' | 'metro' | 'bus' | 'ferry', number>>;
    /** Within this gap (seconds) a contact is `close`, beyond it (inside the window) `possible`. */
    readonly closeSeconds: Readonly<Record<'taxi' | 'metro' | 'bus' | 'ferry', number>>;
    readonly maxWindowDays: number;
    readonly observationDays: number;
    readonly maxDegree1ForDegree2: number;
    /** Degree-2 traces run at once per process; more wait their turn (they are the heavy reads). */
    readonly degree2Concurrency: number;
  };
  readonly notify: {
    /** Super-app subscribe-message API; defaults to the super-app base URL. */
    readonly messageBaseUrl: string | undefined;
    /** `generic`: JSON gateway with a bearer key; `tencent`: Tencent Cloud SMS SendSms (TC3-HMAC-SHA256). */
    readonly smsProvider: 'generic' | 'tencent';
    readonly smsBaseUrl: string | undefined;
    readonly smsApiKey: string;
    readonly tencentSms: {
      readonly secretId: string;
      readonly secretKey: string;
      /** SmsSdkAppId. */
      readonly appId: string;
      readonly signName: string;
      readonly region: string;
      readonly exposureTemplateId: string;
      /** Secondary-contact (degree 2) notices; empty: such SMS fail (never sent with the exposure text). */
      readonly secondaryTemplateId: string;
      readonly otpTemplateId: string;
    };
    /** Development without an SMS provider: every SMS is appended here as one JSON line (never in production). */
    readonly devSmsLogFile: string | undefined;
    readonly maxAttempts: number;
    readonly backoffBaseMs: number;
    readonly pollMs: number;
    readonly concurrency: number;
    readonly timeoutMs: number;
    readonly workerEnabled: boolean;
    /** Degree-2 contacts notified: `yellow` turns their code yellow like degree 1, `notice` sends the message only. */
    readonly degree2Status: 'yellow' | 'notice';
    /**
     * The bearer token gateways (or their bridges) send with delivery receipts (POST /v1/delivery-receipts/…);
     * undefined: the receipt route answers 404 as if it did not exist.
     */
    readonly receiptToken: string | undefined;
  };
  readonly statusTokenTtlSeconds: number;
  /**
   * Servers re-read which blind-index key generations are in use at least this often; `pnpm cli keys rotate-index`
   * waits longer than this between its steps. The same value on every process of a deployment.
   */
  readonly indexKeysMaxAgeSeconds: number;
  /**
   * The deployment's time zone: ride days (day keys, partitions, purge boundaries), itinerary days and the times in
   * texts. Changing it starts a new era of ride days at its next midnight (see ride-days.ts).
   */
  readonly timeZone: string;
  /**
   * The health authority running this deployment, as passengers' access logs name it when no official person's
   * agency applies (notifications queued by a health system's client and delivered by the worker).
   */
  readonly authorityName: string;
  /**
   * This deployment's name: the destruction certificate names it, and `pnpm cli wind-down --confirm` must repeat it
   * exactly. Undefined (unset): wind-down refuses.
   */
  readonly deploymentName: string | undefined;
  readonly rateLimit: {
    readonly perIpPerMinute: number;
    readonly perPassengerPerMinute: number;
    /** Per IP: passenger logins and client-credential token requests. */
    readonly loginPerMinute: number;
  };
  readonly bodyLimitBytes: number;
  /**
   * Load shedding: 503 overloaded when the event loop lags this much, when this many queries wait for a
   * connection, or when this many requests are already in flight in this process (bounds their queueing delay).
   */
  readonly shedding: {
    readonly maxEventLoopDelayMs: number;
    readonly maxDbWaiting: number;
    readonly maxInFlight: number;
  };
  /**
   * Prometheus metrics (`GET /metrics`) on a listener of their own, never the public port; port 0: none. With a
   * token, scrapes must send it as a bearer token (for a listener reachable beyond the host).
   */
  readonly metrics: { readonly port: number; readonly host: string; readonly token: string | undefined };
  /** Benchmark baselines (/v1/bench/*): never in production. */
  readonly benchRoutes: boolean;
  readonly trustProxy: boolean;
  /** Browser origins allowed to call the API (the h5 build of the mini-program). */
  readonly corsOrigins: readonly string[];
  /** The built officials' console served at /console/ (when it holds an index.html); undefined: not served. */
  readonly consoleDir: string | undefined;
  readonly logLevel: string;
  /** Log lines as JSON, or human-readable (pino-pretty); `auto`: readable when standard output is a terminal. */
  readonly logFormat: 'auto' | 'json' | 'pretty';
  /** Signed checkpoints of the audit chain, kept outside the database (docs/operations.md "Audit checkpoints"). */
  readonly audit: {
    /** Seconds between checkpoints; 0: none. */
    readonly checkpointSeconds: number;
    /** Directory of the checkpoint files; undefined (unset outside development's embedded database): none. */
    readonly checkpointDir: string | undefined;
    /** Ed25519 private key; undefined outside production: the generated `.data/audit-signing-key.pem`. */
    readonly signingKey: KeyObject | undefined;
    /** Keys that verify checkpoints without the private key (an auditor's `pnpm audit:verify`). */
    readonly publicKeys: readonly KeyObject[];
    /** Each checkpoint is also POSTed here as JSON; a failure is logged, never fatal. */
    readonly witnessUrl: string | undefined;
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

/**
 * Master keys: `RIDETRACE_MASTER_KEY` = base64 of 32 bytes (id "k1"), or
 * `RIDETRACE_MASTER_KEYS` = "id1:base64,id2:base64" where the last one is active (key rotation).
 */
function parseMasterKeys(env: Env): { keys: Map<string, Buffer>; active: string } | undefined {
  const list = env.RIDETRACE_MASTER_KEYS?.trim()
    ? env.RIDETRACE_MASTER_KEYS.split(',').map((s) => s.trim())
    : env.RIDETRACE_MASTER_KEY?.trim()
      ? [`k1:${env.RIDETRACE_MASTER_KEY.trim()}`]
      : undefined;
  if (!list) return undefined;
  const keys = new Map<string, Buffer>();
  let active = '';
  for (const item of list) {
    const [id, b64] = item.split(':');
    if (!id || !b64 || !/^[a-zA-Z0-9_-]{1,16}$/.test(id)) {
      throw new ConfigError('RIDETRACE_MASTER_KEYS entries must look like "id:base64key"');
    }
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32)
      throw new ConfigError(`master key ${id} must be 32 bytes (base64), got ${key.length}`);
    keys.set(id, key);
    active = id;
  }
  return { keys, active };
}

function timeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new ConfigError(`TIME_ZONE "${tz}" is not a known IANA time zone`);
  }
  return tz;
}

function oneOf<const T extends readonly string[]>(
  env: Env,
  name: string,
  values: T,
  def: T[number],
): T[number] {
  const v = env[name];
  if (v === undefined || v === '') return def;
  if (!values.includes(v)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${v}"`);
  return v;
}

/** AUTHORITY_NAME, trimmed: 1–200 characters, as the access log stores an agency. */
function authorityName(v: string | undefined): string {
  const name = v?.trim() || '卫生健康部门';
  if (name.length > 200) throw new ConfigError('AUTHORITY_NAME must be at most 200 characters');
  return name;
}

/** CONSENT_VERSION: the base of the served version (`.` and 8 hex digits follow; 32 characters in all at most). */
function consentBase(v: string | undefined): string {
  const base = v?.trim() || '2026-11';
  if (!/^[A-Za-z0-9._-]{1,23}$/.test(base))
    throw new ConfigError('CONSENT_VERSION must be 1 to 23 letters, digits, ".", "_" or "-"');
  return base;
}

/** Development stand-ins for CONSENT_CONTROLLER and CONSENT_CONTACT; production must set its own. */
const CONSENT_DEFAULTS = { controller: '深圳市交通运输局', contact: 'privacy@ridetrace.example' } as const;

/** A name or contact the consent text shows: trimmed, one line of at most 100 characters. */
function consentField(name: string, v: string | undefined, def: string): string {
  const s = v?.trim() || def;
  if (s.length > 100 || /\p{Cc}/u.test(s))
    throw new ConfigError(`${name} must be one line of at most 100 characters`);
  return s;
}

/** DEPLOYMENT_NAME, trimmed: one line of 1–100 characters, or undefined when unset. */
function deploymentName(v: string | undefined): string | undefined {
  const name = v?.trim();
  if (!name) return undefined;
  if (name.length > 100 || /\p{Cc}/u.test(name))
    throw new ConfigError('DEPLOYMENT_NAME must be one line of at most 100 characters');
  return name;
}

/** COOKIE_SECURE: `true` or `false`; production refuses `false` (a session cookie must never travel in clear). */
function cookieSecure(env: Env, mode: Mode): boolean {
  const v = oneOf(env, 'COOKIE_SECURE', ['true', 'false'] as const, mode === 'production' ? 'true' : 'false');
  if (mode === 'production' && v === 'false')
    throw new ConfigError('COOKIE_SECURE cannot be false in production');
  return v === 'true';
}

function logFormat(v: string | undefined): Config['logFormat'] {
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'json' || v === 'pretty') return v;
  throw new ConfigError('LOG_FORMAT must be auto, json or pretty');
}

/** PKCS#8 DER of an Ed25519 private key up to its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PUBLIC_PEM = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/**
 * The audit signing key: PEM (PKCS#8, `-----BEGIN PRIVATE KEY-----`, as `openssl genpkey -algorithm ed25519`
 * writes it) or base64 of the 32-byte Ed25519 seed.
 */
export function parseAuditSigningKey(text: string, origin: string): KeyObject {
  const s = text.trim();
  let key: KeyObject | undefined;
  try {
    if (s.startsWith('-----BEGIN')) key = createPrivateKey(s);
    else if (BASE64.test(s) && Buffer.from(s, 'base64').length === 32) {
      const der = Buffer.concat([ED25519_PKCS8_PREFIX, Buffer.from(s, 'base64')]);
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    }
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(
      `${origin} must be an Ed25519 private key: PEM (PKCS#8) or base64 of the 32-byte seed`,
    );
  }
  return key;
}

/**
 * Audit verification keys: PEM blocks (SPKI, `-----BEGIN PUBLIC KEY-----`, as `openssl pkey -pubout` writes them)
 * and/or base64 of raw 32-byte Ed25519 public keys, separated by commas or new lines; `#` starts a comment line.
 * Several keys verify checkpoints signed before and after a rotation.
 */
export function parseAuditPublicKeys(text: string, origin: string): KeyObject[] {
  const fail = () =>
    new ConfigError(`${origin} must hold Ed25519 public keys: PEM (SPKI) or base64 of the raw 32 bytes`);
  const keys: KeyObject[] = [];
  for (const pem of text.match(PUBLIC_PEM) ?? []) {
    try {
      keys.push(createPublicKey(pem));
    } catch {
      throw fail();
    }
  }
  const raws = text
    .replace(PUBLIC_PEM, '')
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
  for (const raw of raws) {
    if (!BASE64.test(raw) || Buffer.from(raw, 'base64').length !== 32) throw fail();
    const x = Buffer.from(raw, 'base64').toString('base64url');
    keys.push(createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
  }
  if (keys.some((k) => k.asymmetricKeyType !== 'ed25519')) throw fail();
  return keys;
}

/** RIDETRACE_AUDIT_SIGNING_KEY, else the file RIDETRACE_AUDIT_SIGNING_KEY_FILE names, else undefined. */
function auditSigningKey(env: Env): KeyObject | undefined {
  if (env.RIDETRACE_AUDIT_SIGNING_KEY?.trim())
    return parseAuditSigningKey(env.RIDETRACE_AUDIT_SIGNING_KEY, 'RIDETRACE_AUDIT_SIGNING_KEY');
  const file = env.RIDETRACE_AUDIT_SIGNING_KEY_FILE;
  if (!file) return undefined;
  if (!existsSync(file)) throw new ConfigError(`RIDETRACE_AUDIT_SIGNING_KEY_FILE ${file} does not exist`);
  return parseAuditSigningKey(readFileSync(file, 'utf8'), file);
}

function httpUrl(name: string, v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^https?:\/\/[^/\s]+(\/[^\s]*)?$/i.test(v)) throw new ConfigError(`${name} must be an http(s) URL`);
  return v;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * METRICS_PORT, METRICS_HOST, METRICS_TOKEN. Production refuses a metrics listener reachable beyond the host
 * without a token: the figures show the deployment's load and its error rates.
 */
function metricsSettings(env: Env, mode: Mode, port: number): Config['metrics'] {
  const metricsPort = int(env, 'METRICS_PORT', 0, 0, 65535);
  const host = env.METRICS_HOST?.trim() || '127.0.0.1';
  const token = env.METRICS_TOKEN?.trim() || undefined;
  if (metricsPort !== 0 && metricsPort === port)
    throw new ConfigError('METRICS_PORT must differ from PORT: metrics are never served on the public port');
  if (token !== undefined && !/^[\x21-\x7e]{16,200}$/.test(token))
    throw new ConfigError('METRICS_TOKEN must be 16 to 200 printable characters without spaces');
  if (mode === 'production' && metricsPort !== 0 && !LOOPBACK.test(host) && token === undefined)
    throw new ConfigError(
      'METRICS_TOKEN is required in production when METRICS_HOST is not a loopback address',
    );
  return { port: metricsPort, host, token };
}

/** DELIVERY_RECEIPT_TOKEN: long enough that guessing it is hopeless, printable so it fits a header. */
function receiptToken(raw: string | undefined): string | undefined {
  const token = raw?.trim() || undefined;
  if (token !== undefined && !/^[\x21-\x7e]{32,200}$/.test(token))
    throw new ConfigError('DELIVERY_RECEIPT_TOKEN must be 32 to 200 printable characters without spaces');
  return token;
}

/** Reads the environment once; the result is validated and frozen. Only this module reads process.env. */
export function loadConfig(env: Env = process.env): Config {
  const mode: Mode =
    env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const rootDir = env.RIDETRACE_ROOT ?? findWorkspaceRoot();
  const dataDir = path.resolve(rootDir, env.RIDETRACE_DATA_DIR ?? '.data');
  const port = int(env, 'PORT', 3000, 0, 65535);
  const master = parseMasterKeys(env);
  const masterKeyFile = env.RIDETRACE_MASTER_KEY_FILE;
  const auditSeconds = int(env, 'AUDIT_CHECKPOINT_SECONDS', 300, 0, 86400);
  const auditKey = auditSigningKey(env);
  // The default directory belongs to the embedded dev database under dataDir: checkpoints of other databases there
  // would fail its verification. Production must say where; tests write them only where a test asks for them.
  const auditDir = env.AUDIT_CHECKPOINT_DIR
    ? path.resolve(rootDir, env.AUDIT_CHECKPOINT_DIR)
    : mode === 'development' && !env.DATABASE_URL
      ? path.join(dataDir, 'audit-checkpoints')
      : undefined;

  if (mode === 'production') {
    const missing: string[] = [];
    if (!master && !masterKeyFile) missing.push('RIDETRACE_MASTER_KEY (or RIDETRACE_MASTER_KEYS / _FILE)');
    if (!env.DATABASE_URL) missing.push('DATABASE_URL');
    if (!env.PUBLIC_BASE_URL) missing.push('PUBLIC_BASE_URL');
    if (!env.SUPERAPP_BASE_URL || !env.SUPERAPP_APP_ID || !env.SUPERAPP_APP_SECRET) {
      missing.push('SUPERAPP_BASE_URL, SUPERAPP_APP_ID, SUPERAPP_APP_SECRET');
    }
    if ((env.SMS_PROVIDER ?? 'generic') === 'generic' && (!env.SMS_BASE_URL || !env.SMS_API_KEY)) {
      missing.push('SMS_BASE_URL, SMS_API_KEY');
    }
    if (
      env.SMS_PROVIDER === 'tencent' &&
      (!env.TENCENT_SMS_SECRET_ID ||
        !env.TENCENT_SMS_SECRET_KEY ||
        !env.TENCENT_SMS_APP_ID ||
        !env.TENCENT_SMS_SIGN_NAME ||
        !env.TENCENT_SMS_EXPOSURE_TEMPLATE_ID ||
        !env.TENCENT_SMS_OTP_TEMPLATE_ID)
    ) {
      missing.push(
        'TENCENT_SMS_SECRET_ID, TENCENT_SMS_SECRET_KEY, TENCENT_SMS_APP_ID, TENCENT_SMS_SIGN_NAME, ' +
          'TENCENT_SMS_EXPOSURE_TEMPLATE_ID, TENCENT_SMS_OTP_TEMPLATE_ID',
      );
    }
    if (auditSeconds > 0 && !auditKey) missing.push('RIDETRACE_AUDIT_SIGNING_KEY (or _FILE)');
    if (auditSeconds > 0 && !auditDir) missing.push('AUDIT_CHECKPOINT_DIR');
    // Passengers consent to this text: it must name the deployment's own controller and a contact that answers.
    // The controller's default is a real body, so only its absence is refused; the contact's default reaches no one.
    if (!env.CONSENT_CONTROLLER?.trim()) missing.push('CONSENT_CONTROLLER');
    const contact = env.CONSENT_CONTACT?.trim();
    if (!contact || contact === CONSENT_DEFAULTS.contact)
      missing.push(`CONSENT_CONTACT (a real contact, not the placeholder ${CONSENT_DEFAULTS.contact})`);
    if (missing.length)
      throw new ConfigError(`production mode refuses to start without: ${missing.join('; ')}`);
  }
  if (masterKeyFile && !existsSync(masterKeyFile)) {
    throw new ConfigError(`RIDETRACE_MASTER_KEY_FILE ${masterKeyFile} does not exist`);
  }
  const publicBaseUrl = (env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${port || 3000}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+(\/[^\s]*)?$/i.test(publicBaseUrl)) {
    throw new ConfigError('PUBLIC_BASE_URL must be an http(s) URL');
  }

  const retentionDays = int(env, 'RETENTION_DAYS', 28, 2, 3650);
  // Four eyes in production; one official may self-grant in development and tests.
  const revealDefault = mode === 'production' ? 'dual' : 'single';
  if (retentionDays * 86400 < int(env, 'RIDES_MAX_LATE_SECONDS', 24 * 3600, 60, 7 * 86400) + 86400) {
    throw new ConfigError('RETENTION_DAYS must exceed the offline window (RIDES_MAX_LATE_SECONDS) by a day');
  }
  // An identity outlives its registration's rides: a contact found in a retained ride can always be reached.
  const passengerInactiveDays = int(env, 'PASSENGER_INACTIVE_DAYS', 90, 2, 3650);
  if (passengerInactiveDays < retentionDays)
    throw new ConfigError('PASSENGER_INACTIVE_DAYS must be at least RETENTION_DAYS');

  const consent = {
    controller: consentField('CONSENT_CONTROLLER', env.CONSENT_CONTROLLER, CONSENT_DEFAULTS.controller),
    contact: consentField('CONSENT_CONTACT', env.CONSENT_CONTACT, CONSENT_DEFAULTS.contact),
  };
  const consentVersion = consentVersionOf(
    consentBase(env.CONSENT_VERSION),
    renderConsentText({ ...consent, retentionDays, inactiveDays: passengerInactiveDays }),
  );

  const dbPoolSize = int(env, 'DB_POOL_SIZE', 10, 1, 200);
  const config: Config = {
    mode,
    host: env.HOST ?? (mode === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port,
    databaseUrl: env.DATABASE_URL || undefined,
    // One process per core in production; one in development and tests, where a cluster only gets in the way.
    workers: int(env, 'WORKERS', mode === 'production' ? Math.min(64, os.availableParallelism()) : 1, 1, 64),
    cacheEvents: oneOf(env, 'CACHE_EVENTS', ['on', 'off'] as const, 'on') === 'on',
    dbPoolSize,
    dbPoolMin: Math.min(int(env, 'DB_POOL_MIN', dbPoolSize, 0, 200), dbPoolSize),
    traceReplica: {
      url: env.TRACE_DATABASE_URL || undefined,
      maxLagMs: int(env, 'TRACE_MAX_LAG_MS', 2000, 0, 3_600_000),
      poolSize: int(env, 'TRACE_DB_POOL_SIZE', dbPoolSize, 1, 200),
    },
    dataDir,
    publicBaseUrl,
    masterKeys: master?.keys,
    activeMasterKeyId: master?.active,
    masterKeyFile,
    passengerTokenTtlSeconds: int(env, 'PASSENGER_TOKEN_TTL_SECONDS', 2 * 3600, 60, 7 * 86400),
    clientTokenTtlSeconds: int(env, 'CLIENT_TOKEN_TTL_SECONDS', 15 * 60, 60, 86400),
    officials: {
      tokenTtlSeconds: int(env, 'OFFICIAL_TOKEN_TTL_SECONDS', 15 * 60, 60, 15 * 60),
      sessionHours: int(env, 'OFFICIAL_SESSION_HOURS', 12, 1, 7 * 24),
      maxFailedSignIns: int(env, 'OFFICIAL_MAX_FAILED_SIGN_INS', 5, 1, 100),
      lockMinutes: int(env, 'OFFICIAL_LOCK_MINUTES', 15, 1, 24 * 60),
      cookieSecure: cookieSecure(env, mode),
    },
    reveal: {
      approval: oneOf(env, 'REVEAL_APPROVAL', ['dual', 'single'] as const, revealDefault),
      grantHours: int(env, 'REVEAL_GRANT_HOURS', 24, 1, 24 * 30),
    },
    superApp: {
      baseUrl: env.SUPERAPP_BASE_URL?.replace(/\/+$/, '') || undefined,
      appId: env.SUPERAPP_APP_ID ?? 'dev-app',
      appSecret: env.SUPERAPP_APP_SECRET ?? 'dev-secret',
      timeoutMs: int(env, 'SUPERAPP_TIMEOUT_MS', 3000, 100, 60000),
      exposureTemplateId: env.SUPERAPP_EXPOSURE_TEMPLATE_ID || 'ridetrace_exposure',
      secondaryTemplateId: env.SUPERAPP_SECONDARY_TEMPLATE_ID || 'ridetrace_secondary_exposure',
      messageState: oneOf(env, 'SUPERAPP_MESSAGE_STATE', ['formal', 'trial', 'developer'] as const, 'formal'),
    },
    rides: {
      maxLateSeconds: int(env, 'RIDES_MAX_LATE_SECONDS', 24 * 3600, 60, 7 * 86400),
      lateAfterSeconds: int(env, 'RIDES_LATE_AFTER_SECONDS', 120, 0, 86400),
      futureSkewSeconds: int(env, 'RIDES_FUTURE_SKEW_SECONDS', 300, 0, 3600),
      minCarrierSwitchSeconds: int(env, 'RIDES_MIN_CARRIER_SWITCH_SECONDS', 120, 0, 86400),
      repeatMinutes: int(env, 'RIDES_REPEAT_MINUTES', 5, 0, 240),
      historyDays: int(env, 'RIDES_HISTORY_DAYS', 14, 1, 28),
      retentionDays,
      batchMax: int(env, 'RIDES_BATCH_MAX', 200, 1, 5000),
      batchInFlight: int(env, 'RIDES_BATCH_IN_FLIGHT', 1, 1, 100),
      batchQueueMs: int(env, 'RIDES_BATCH_QUEUE_MS', 1000, 10, 60_000),
    },
    lifetimes: {
      passengerInactiveDays,
      caseRetentionDays: int(env, 'CASE_RETENTION_DAYS', 90, 1, 3650),
      pendingScanMinutes: int(env, 'PENDING_SCAN_MINUTES', 60, 1, 7 * 24 * 60),
    },
    consentVersion,
    consent,
    otp: {
      ttlSeconds: int(env, 'OTP_TTL_SECONDS', 600, 60, 3600),
      maxAttempts: int(env, 'OTP_MAX_ATTEMPTS', 5, 1, 20),
      resendSeconds: int(env, 'OTP_RESEND_SECONDS', 60, 0, 3600),
      perPhonePerHour: int(env, 'OTP_PER_PHONE_PER_HOUR', 5, 1, 1000),
      perPassengerPerHour: int(env, 'OTP_PER_PASSENGER_PER_HOUR', 10, 1, 1000),
      perIpPerHour: int(env, 'OTP_PER_IP_PER_HOUR', 30, 1, 100_000),
    },
    trace: {
      windowSeconds: {
        taxi: int(env, 'TRACE_TAXI_WINDOW_MINUTES', 10, 0, 1440) * 60,
        metro: int(env, 'TRACE_METRO_WINDOW_MINUTES', 15, 0, 1440) * 60,
        bus: int(env, 'TRACE_BUS_WINDOW_MINUTES', 30, 0, 1440) * 60,
        ferry: int(env, 'TRACE_FERRY_WINDOW_MINUTES', 60, 0, 1440) * 60,
      },
      closeSeconds: {
        taxi: int(env, 'TRACE_TAXI_CLOSE_MINUTES', 10, 0, 1440) * 60,
        metro: int(env, 'TRACE_METRO_CLOSE_MINUTES', 5, 0, 1440) * 60,
        bus: int(env, 'TRACE_BUS_CLOSE_MINUTES', 10, 0, 1440) * 60,
        ferry: int(env, 'TRACE_FERRY_CLOSE_MINUTES', 30, 0, 1440) * 60,
      },
      maxWindowDays: int(env, 'TRACE_MAX_WINDOW_DAYS', 30, 1, 60),
      observationDays: int(env, 'OBSERVATION_DAYS', 14, 1, 60),
      maxDegree1ForDegree2: int(env, 'TRACE_MAX_DEGREE1_FOR_DEGREE2', 1000, 1, 100000),
      degree2Concurrency: int(env, 'TRACE_DEGREE2_CONCURRENCY', 2, 1, 64),
    },
    notify: {
      messageBaseUrl:
        env.MESSAGE_BASE_URL?.replace(/\/+$/, '') || env.SUPERAPP_BASE_URL?.replace(/\/+$/, '') || undefined,
      smsProvider: oneOf(env, 'SMS_PROVIDER', ['generic', 'tencent'] as const, 'generic'),
      smsBaseUrl:
        env.SMS_BASE_URL?.replace(/\/+$/, '') ||
        (env.SMS_PROVIDER === 'tencent' ? 'https://sms.tencentcloudapi.com' : undefined),
      smsApiKey: env.SMS_API_KEY ?? 'dev-sms-key',
      tencentSms: {
        secretId: env.TENCENT_SMS_SECRET_ID ?? '',
        secretKey: env.TENCENT_SMS_SECRET_KEY ?? '',
        appId: env.TENCENT_SMS_APP_ID ?? '',
        signName: env.TENCENT_SMS_SIGN_NAME ?? '',
        region: env.TENCENT_SMS_REGION || 'ap-guangzhou',
        exposureTemplateId: env.TENCENT_SMS_EXPOSURE_TEMPLATE_ID ?? '',
        secondaryTemplateId: env.TENCENT_SMS_SECONDARY_TEMPLATE_ID ?? '',
        otpTemplateId: env.TENCENT_SMS_OTP_TEMPLATE_ID ?? '',
      },
      devSmsLogFile: mode === 'development' ? path.join(dataDir, 'dev-sms.log') : undefined,
      maxAttempts: int(env, 'NOTIFY_MAX_ATTEMPTS', 6, 1, 50),
      backoffBaseMs: int(env, 'NOTIFY_BACKOFF_BASE_MS', 2000, 1, 3600_000),
      pollMs: int(env, 'NOTIFY_POLL_MS', 1000, 10, 60_000),
      concurrency: int(env, 'NOTIFY_CONCURRENCY', 16, 1, 256),
      timeoutMs: int(env, 'NOTIFY_TIMEOUT_MS', 5000, 100, 60_000),
      workerEnabled: env.NOTIFY_WORKER !== 'off',
      degree2Status: oneOf(env, 'NOTIFY_DEGREE2_STATUS', ['yellow', 'notice'] as const, 'notice'),
      receiptToken: receiptToken(env.DELIVERY_RECEIPT_TOKEN),
    },
    statusTokenTtlSeconds: int(env, 'STATUS_TOKEN_TTL_SECONDS', 60, 10, 600),
    indexKeysMaxAgeSeconds: int(env, 'INDEX_KEYS_MAX_AGE_SECONDS', 60, 1, 3600),
    timeZone: timeZone(env.TIME_ZONE ?? 'Asia/Shanghai'),
    authorityName: authorityName(env.AUTHORITY_NAME),
    deploymentName: deploymentName(env.DEPLOYMENT_NAME),
    rateLimit: {
      perIpPerMinute: int(env, 'RATE_LIMIT_PER_IP_PER_MINUTE', 600, 1),
      perPassengerPerMinute: int(env, 'RATE_LIMIT_PER_PASSENGER_PER_MINUTE', 30, 1),
      loginPerMinute: int(env, 'RATE_LIMIT_LOGIN_PER_MINUTE', 30, 1),
    },
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 16 * 1024, 1024, 10 * 1024 * 1024),
    shedding: {
      maxEventLoopDelayMs: int(env, 'SHED_MAX_EVENT_LOOP_DELAY_MS', 200, 0, 60_000),
      maxDbWaiting: int(env, 'SHED_MAX_DB_WAITING', 500, 0, 1_000_000),
      maxInFlight: int(env, 'SHED_MAX_IN_FLIGHT', 256, 0, 1_000_000),
    },
    metrics: metricsSettings(env, mode, port),
    benchRoutes: env.BENCH_ROUTES === 'on' && mode !== 'production',
    trustProxy: env.TRUST_PROXY === 'true',
    corsOrigins: (
      env.CORS_ORIGINS ?? (mode === 'production' ? '' : 'http://127.0.0.1:10086,http://localhost:10086')
    )
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    consoleDir:
      env.CONSOLE_DIR === 'off' ? undefined : path.resolve(rootDir, env.CONSOLE_DIR || 'console/dist'),
    logLevel: env.LOG_LEVEL ?? (mode === 'test' ? 'silent' : 'info'),
    logFormat: logFormat(env.LOG_FORMAT),
    audit: {
      checkpointSeconds: auditSeconds,
      checkpointDir: auditDir,
      signingKey: auditKey,
      publicKeys: env.RIDETRACE_AUDIT_PUBLIC_KEY?.trim()
        ? parseAuditPublicKeys(env.RIDETRACE_AUDIT_PUBLIC_KEY, 'RIDETRACE_AUDIT_PUBLIC_KEY')
        : [],
      witnessUrl: httpUrl('AUDIT_WITNESS_URL', env.AUDIT_WITNESS_URL),
    },
  };
  return Object.freeze(config);
}

/** The directory holding pnpm-workspace.yaml (so `.data/` is the same wherever a command runs from). */
export function findWorkspaceRoot(start: string = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

export function readKeyFile(file: string): string {
  return readFileSync(file, 'utf8').trim();
}
