import { sql } from 'kysely';
import type { Config } from '../config.js';
import { createDb, type Db } from './index.js';
import { startEmbeddedPostgres, type RunningPostgres } from './embedded-postgres.js';

export interface OpenDatabase {
  db: Db;
  url: string;
  embedded: RunningPostgres | undefined;
  close(): Promise<void>;
}

/** DATABASE_URL when set; otherwise the embedded Postgres under `<dataDir>/`, database `ridetrace`. */
export async function openDatabase(config: Config, log: (msg: string) => void): Promise<OpenDatabase> {
  let embedded: RunningPostgres | undefined;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dir: config.dataDir, log });
    const admin = createDb({ connectionString: embedded.url, max: 1 });
    try {
      const exists = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_database where datname = 'ridetrace'`.execute(admin);
      if (exists.rows[0]?.n === 0) await sql`create database ridetrace`.execute(admin);
    } finally {
      await admin.destroy();
    }
    url = embedded.urlFor('ridetrace');
  }
  const db = createDb({ connectionString: url, max: config.dbPoolSize, min: config.dbPoolMin });
  return {
    db,
    url,
    embedded,
    close: async () => {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
