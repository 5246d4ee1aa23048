import { createDb, migrateToLatest, type RunningPostgres } from '@ridetrace/server';
import { sql } from 'kysely';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase, dropDatabases, startTestPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance connection string of the test Postgres server. */
    pgAdminUrl: string;
    /** A migrated database that each test file clones. */
    templateDb: string;
  }
}

/**
 * One real Postgres for the whole run: embedded (fresh, fsync off) unless DATABASE_URL is set.
 * Migrates a template database once; each test file clones it (createTestDatabase in test-app.ts) so files run in parallel.
 */
export default async function setup(project: TestProject) {
  let embedded: RunningPostgres | undefined;
  if (!process.env.DATABASE_URL)
    embedded = await startTestPostgres({ dir: path.join(os.tmpdir(), `ridetrace-test-${process.pid}`) });
  const adminUrl = process.env.DATABASE_URL || embedded!.url;
  const templateDb = `rt_template_${process.pid}`;
  await dropDatabases(adminUrl, [templateDb]);
  const tpl = createDb({ connectionString: await createDatabase(adminUrl, templateDb), max: 1 });
  await migrateToLatest(tpl);
  await tpl.destroy();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    // Test databases of this run, then the template.
    const admin = createDb({ connectionString: adminUrl, max: 1 });
    const dbs = await sql<{ datname: string }>`
      select datname from pg_database where datname like ${`${templateDb}_f_%`} or datname = ${templateDb}
      order by datname = ${templateDb}`.execute(admin);
    await admin.destroy();
    await dropDatabases(
      adminUrl,
      dbs.rows.map((r) => r.datname),
    );
    await embedded?.stop();
  };
}
