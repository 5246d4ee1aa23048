/**
 * Internals for the server's own white-box tests (tests/): components tested apart from the HTTP API. Scripts
 * use `@ridetrace/server` only (lint rule).
 */
export { TABLE_COLUMNS } from './db/tables.js';
export { csvCell, toCsv } from './modules/cases/csv.js';
export { claimDue } from './modules/notifications/notifications.repository.js';
export { findRegistrationLinks } from './modules/passengers/passengers.repository.js';
export { recordDataAccess } from './modules/privacy/access-log.service.js';
export { RideBatcher } from './modules/rides/ride-batcher.js';
export type { NewRide } from './modules/rides/rides.repository.js';
export { AppError } from './errors.js';
export { loggerOptions, REDACT_PATHS } from './logging.js';
export { LogOnlySender } from './adapters/notify.js';
export { signTc3, tencentCodeRetryable } from './adapters/sms.js';
