/**
 * What scripts and tests may use of the server: building the app and its context, the database and keys, the
 * outside-service adapters, and the services the CLI calls. Everything else is the server's own.
 */
export { buildApp, type App, type AppDeps } from './app.js';
export { ConfigError, loadConfig, type Config } from './config.js';
export { parseAuditPublicKeys, parseAuditSigningKey } from './config.js';
export { createContext, loadContext, type AppContext } from './context.js';
export * as bulk from './bulk.js';

export { createDb, poolOf, type Db } from './db/index.js';
export {
  freePort,
  startEmbeddedPostgres,
  startEmbeddedStandby,
  withDatabase,
  type RunningPostgres,
} from './db/embedded-postgres.js';
export { TraceReads, type TraceTarget } from './db/trace-reads.js';
export { isDatabaseUnavailable, isQueryTimeout } from './db/errors.js';
export { migrateDatabase, migrateToLatest } from './db/migrate.js';
export { CACHE_CHANNEL, notifyCacheEvent, parseCacheEvent, type CacheEvent } from './cache-events.js';
export { RestartBackoff } from './cluster.js';
export { openDatabase, type OpenDatabase } from './db/open.js';

export { hmac, open, seal } from './crypto/aead.js';
export { codeTokenKeyId, signCodeToken } from './crypto/code-token.js';
export { listCodeKeys, rotateCodeKey, type CodeKeyInfo, type CodeKeyRotation } from './crypto/code-keys.js';
export {
  announceIndexKey,
  indexKeyState,
  type IndexKeyPhase,
  type IndexKeyState,
} from './crypto/index-keys.js';
export { Keyring } from './crypto/keyring.js';
export { resolveMasterKeys, type MasterKeys } from './crypto/master-keys.js';
export { keyStatus, rewrapAll } from './crypto/rotation.js';

export {
  DeliveryError,
  HttpMessageSender,
  HttpSmsSender,
  localTime,
  MessageRefusedError,
  type ExposureMessage,
  type MessageSender,
  type SentMessage,
  type SmsSender,
} from './adapters/notify.js';
export {
  AccessTokenCache,
  createSuperApp,
  DevSuperAppLogin,
  HttpSuperAppLogin,
  SuperAppUnavailableError,
  type SuperAppLogin,
} from './adapters/super-app.js';
export {
  createSmsSender,
  DevLogSmsSender,
  TencentSmsSender,
  type DevSmsLine,
  type TencentSmsOptions,
} from './adapters/sms.js';

export {
  createClient,
  createOperator,
  existingOperators,
  listClients,
  listOperators,
  operatorExists,
} from './modules/admin/admin.service.js';
export { appendAudit, verifyAuditChain } from './modules/audit/audit.service.js';
export { AUDIT_VERIFY_MAX_ENTRIES, verifyAuditForConsole } from './modules/audit/verify.service.js';
export {
  auditKeyId,
  auditPublicKeys,
  resolveAuditSigningKey,
  verifyAuditCheckpoints,
  writeCheckpoint,
  type AuditCheckpoint,
  type CheckpointReport,
} from './modules/audit/checkpoints.js';
export { passengerLogin } from './modules/auth/auth.service.js';
export { BENCH_TIMING_HEADER } from './modules/bench/timing.js';
export { GcPauses } from './modules/bench/gc-pauses.js';
export {
  activeCarriersWithCodes,
  bindStaff,
  createCarrier,
  importCarriers,
  issueCode,
  listCarriers,
  type CarrierImportCounts,
  type CarrierRecord,
  type CarrierWithCode,
} from './modules/carriers/carriers.service.js';
export {
  checkCarrierRows,
  CsvFileError,
  formatProblem,
  parseCarriersCsv,
  type CarrierRowInput,
  type CsvRecord,
  type ParsedCsv,
} from './modules/carriers/carriers-csv.js';
export {
  A5,
  INSTRUCTION_EN,
  INSTRUCTION_ZH,
  layoutPoster,
  qrRuns,
  QR_QUIET_MODULES,
  SHEET,
  TEXT_WIDTH,
  type PageSize,
  type Poster,
  type PosterCarrier,
  type Shape,
} from './modules/carriers/posters/layout.js';
export { loadFonts, renderPdf, type Fonts } from './modules/carriers/posters/pdf.js';
export { caseFactsOf } from './modules/cases/cases.service.js';
export { verifyPhoneWithSuperApp } from './modules/passengers/phone-verification.js';
export {
  IndexRotationBusyError,
  indexKeyGraceMs,
  rotateIndexKey,
  type IndexRotationOptions,
  type IndexRotationReport,
  type IndexRotationStep,
} from './modules/passengers/index-rotation.js';
export { listenMetrics, type MetricsListener } from './modules/metrics/metrics.listener.js';
export { metricsOf, type Metrics } from './modules/metrics/metrics.service.js';
export { kickNotifier } from './modules/notifications/notifications.service.js';
export { confirm, scan } from './modules/registration/registration.service.js';
export {
  canonicalJson,
  verifyCertificate,
  type CertificateCheck,
  type DestructionCertificate,
  type SignedCertificate,
} from './modules/programme/certificate.js';
export {
  checkWindDownConfirmation,
  windDown,
  type WindDownOutcome,
  type WindDownStep,
} from './modules/programme/programme.service.js';
export {
  cutoffDay,
  emptyPurgeCounts,
  PURGE_KINDS,
  purgeRecords,
  type PurgeReport,
} from './modules/retention/retention.service.js';
export { recordRide, rideBatcherOf } from './modules/rides/rides.service.js';
export { addDays, calendarDay, RideDays, type DayEra } from './modules/rides/ride-days.js';
export { adoptTimeZone, loadRideDays } from './modules/rides/ride-days.service.js';
export {
  createOfficial,
  disableOfficial,
  listOfficials,
  resetOfficial,
} from './modules/officials/officials.service.js';
