/**
 * The privacy scan: every table of the public schema (each rides partition too), every row as Postgres prints it,
 * searched for values that must not be there. bytea columns print as hex, so each value is also looked for as the
 * hex of its UTF-8 bytes.
 */
import type { Db } from '@ridetrace/server';
import { sql } from 'kysely';

export const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/** A value as the scan looks for it: lower-cased text, and the hex of its bytes as given, upper- and lower-cased. */
export function forms(value: string): string[] {
  const v = value.toLowerCase();
  return [v, hex(value), hex(value.toUpperCase()), hex(v)];
}

export async function publicTables(db: Db): Promise<string[]> {
  const r = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' order by table_name`.execute(db);
  return r.rows.map((x) => x.table_name);
}

/** A table's rows as Postgres prints them, sorted so that two dumps of the same data compare equal. */
export async function rowsOf(db: Db, table: string): Promise<string[]> {
  const r = await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t order by 1`.execute(
    db,
  );
  return r.rows.map((x) => x.row);
}

export type Dump = Record<string, string[]>;

/** The whole database as text: table name → its rows. */
export async function dump(db: Db): Promise<Dump> {
  const out: Dump = {};
  for (const table of await publicTables(db)) out[table] = await rowsOf(db, table);
  return out;
}

/** Where any form of any value occurs in a dump, one line per hit (empty: found nowhere). */
export function search(d: Dump, values: string[]): string[] {
  const needles = values.flatMap((s) => forms(s).map((form) => ({ secret: s, form })));
  const found: string[] = [];
  for (const [table, rows] of Object.entries(d)) {
    for (const row of rows) {
      const haystack = row.toLowerCase();
      for (const { secret, form } of needles) {
        if (haystack.includes(form)) found.push(`${table}: ${secret} (${form}) in ${row.slice(0, 200)}`);
      }
    }
  }
  return found;
}
