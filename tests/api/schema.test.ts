import { sql } from 'kysely';
import { inject, expect, it } from 'vitest';
import { createDb, withDatabase } from '@ridetrace/server';
import { TABLE_COLUMNS } from '@ridetrace/server/testing';

it('the table types match the migrated schema (no missing or extra tables or columns)', async () => {
  const db = createDb({ connectionString: withDatabase(inject('pgAdminUrl'), inject('templateDb')), max: 1 });
  try {
    const rows = await sql<{ table_name: string; column_name: string }>`
      select c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_name = c.table_name and t.table_schema = c.table_schema
      where c.table_schema = 'public' and c.table_name not like 'schema_migrations%'
        and c.table_name not in (select inhrelid::regclass::text from pg_inherits)
      order by c.table_name, c.column_name`.execute(db);
    const actual: Record<string, string[]> = {};
    for (const r of rows.rows) (actual[r.table_name] ??= []).push(r.column_name);
    const expected = Object.fromEntries(
      Object.entries(TABLE_COLUMNS).map(([t, cols]) => [t, [...cols].sort()]),
    );
    expect(actual).toEqual(expected);
  } finally {
    await db.destroy();
  }
});
