import { AppError } from './errors.js';

/**
 * Cursors are non-negative integers sent as strings (an id or an offset). Anything else, or a value beyond
 * what the database column holds, is a 400 rather than a database error.
 */
export function parseCursor(cursor: string | undefined, max = 2_147_483_647): number | undefined {
  if (cursor === undefined) return undefined;
  const n = /^\d{1,10}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(n) || n > max) throw new AppError('validation_failed', 'cursor is not valid');
  return n;
}
