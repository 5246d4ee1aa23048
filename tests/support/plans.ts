import type { Db } from '@ridetrace/server';
import { sql } from 'kysely';

/**
 * The one statement of a plpgsql function (`return query …;`), its parameters written as ($n::type), and the
 * function's settings: EXPLAIN (GENERIC_PLAN) of it shows the plan the function makes.
 */
export async function functionStatement(db: Db, name: string) {
  const fn = await sql<{ body: string; config: string[] | null; names: string[]; types: string[] }>`
    select prosrc as body, proconfig as config, proargnames as names,
      array(select format_type(a.t, null) from unnest(proargtypes::oid[]) with ordinality a(t, n) order by a.n)
        as types
    from pg_proc where proname = ${name}`.execute(db);
  const { body, config, names, types } = fn.rows[0]!;
  let statement = /return query([\s\S]*);\s*end\s*$/.exec(body)![1]!;
  types.forEach((type, i) => {
    statement = statement.replace(new RegExp(`\\b${names[i]}\\b`, 'g'), `($${i + 1}::${type})`);
  });
  return { statement, config };
}

/** The lines of EXPLAIN (GENERIC_PLAN) of a statement with $n parameters. */
export async function genericPlan(db: Db, statement: string): Promise<string[]> {
  const r = await sql<{ 'QUERY PLAN': string }>`explain (generic_plan) ${sql.raw(statement)}`.execute(db);
  return r.rows.map((row) => row['QUERY PLAN']);
}

/** The plan node a line of EXPLAIN output hangs from: the nearest line above it that is indented less. */
export function parentOf(lines: string[], i: number): string {
  const indent = (l: string) => l.search(/\S/);
  for (let j = i - 1; j >= 0; j--) if (indent(lines[j]!) < indent(lines[i]!)) return lines[j]!.trim();
  return '';
}
