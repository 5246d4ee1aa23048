import { QUERY_READ_TIMEOUT } from './watched-client.js';

/** Postgres error classes the services react to. */
export function pgCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

export const isUniqueViolation = (err: unknown) => pgCode(err) === '23505';
/** A statement cancelled by statement_timeout or the client-side query timeout. */
export const isQueryTimeout = (err: unknown) =>
  pgCode(err) === '57014' || String((err as Error)?.message ?? '').includes(QUERY_READ_TIMEOUT);
/** NUL bytes or characters the database encoding cannot hold. */
export const isUnstorableText = (err: unknown) => ['22021', '22P05'].includes(pgCode(err) ?? '');
/** Insert into a partitioned table with no partition for the row. */
export const isNoPartition = (err: unknown) =>
  pgCode(err) === '23514' && /no partition of relation/.test(String((err as Error).message));

/** Connection-level failures: the database is down or unreachable → 503, not 500. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = pgCode(err);
  if (code && /^(08|57P0[123]|53300)/.test(code)) return true;
  const msg = String((err as Error)?.message ?? '');
  return /ECONNREFUSED|ECONNRESET|Connection terminated|timeout exceeded when trying to connect|connect ETIMEDOUT|Query read timeout|Client was closed|the database system is (starting up|shutting down)/i.test(
    msg,
  );
}
