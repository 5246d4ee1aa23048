import { createDb } from '@ridetrace/server/db';
import { startEmbeddedPostgres, withDatabase, type RunningPostgres } from '@ridetrace/server/db/embedded';
import { migrateToLatest } from '@ridetrace/server/db/migrate';
import { sql } from 'kysely';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

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
 * Migrates a template database once; each test file clones it (see test-db.ts) so files run in parallel.
 */
export default async function setup(project: TestProject) {
  let embedded: RunningPostgres | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({
      dir: path.join(os.tmpdir(), `ridetrace-test-${process.pid}`),
      persistent: false,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    });
    adminUrl = embedded.url;
  }
  const templateDb = `rt_template_${process.pid}`;
  const admin = createDb({ connectionString: adminUrl, max: 1 });
  await sql`drop database if exists ${sql.id(templateDb)}`.execute(admin);
  await sql`create database ${sql.id(templateDb)}`.execute(admin);
  const tpl = createDb({ connectionString: withDatabase(adminUrl, templateDb), max: 1 });
  await migrateToLatest(tpl);
  await tpl.destroy();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('templateDb', templateDb);

  return async () => {
    // Test databases of this run, then the template.
    const dbs = await sql<{ datname: string }>`
      select datname from pg_database where datname like ${`${templateDb}_f_%`} or datname = ${templateDb}`.execute(
      admin,
    );
    for (const { datname } of dbs.rows)
      await sql`drop database if exists ${sql.id(datname)} with (force)`.execute(admin);
    await admin.destroy();
    await embedded?.stop();
  };
}
