import { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { poolOf, type Db } from './index.js';

/**
 * Runs a constant SQL text on the hot paths (a scan's INSERT, a trace's queries). Outside a transaction
 * it is a named prepared statement, parsed once per connection; inside one it goes through Kysely's connection.
 * The parameters are sent as given: arrays as the literals below, which cost less to build than the driver's
 * generic encoding (two regular expressions per element, every Date formatted in local time). A null name plans
 * the text for these values (when a plan made once would be wrong for some of them).
 */
export async function queryNamed<R extends pg.QueryResultRow>(
  db: Db,
  name: string | null,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const pool = poolOf(db);
  const { rows } = pool
    ? await pool.query<R>(name === null ? { text, values } : { name, text, values })
    : await db.executeQuery<R>(CompiledQuery.raw(text, values));
  return rows;
}

/** An array literal of values whose text needs no quoting (numbers, booleans); null → NULL. */
export function plainArray(values: (number | boolean | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : typeof v === 'boolean' ? (v ? 't' : 'f') : v)).join(',')}}`;
}

/** An array literal of strings, each quoted (backslash and double quote escaped); null → NULL. */
export function textArray(values: (string | null)[]): string {
  return `{${values.map(quoted).join(',')}}`;
}

function quoted(v: string | null): string {
  if (v === null) return 'NULL';
  // Ids and codes never hold a quote or a backslash: skip the (slower) replace for them.
  return v.includes('"') || v.includes('\\') ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`;
}

/** An array literal of bytea values in hex (`\\x…`: the array's escape, then bytea's hex prefix). */
export function byteaArray(values: Buffer[]): string {
  return hexByteaArray(values.map((v) => v.toString('hex')));
}

/** The same literal from values already in hex (a trace's blind indexes, kept as hex map keys). */
export function hexByteaArray(hex: string[]): string {
  return `{${hex.map((h) => `\\\\x${h}`).join(',')}}`;
}
