import { loadConfig } from '../config.js';
import { openDatabase } from './open.js';
import { migrateToLatest } from './migrate.js';

/** `pnpm db:migrate`: applies pending migrations to DATABASE_URL or the embedded dev database. */
const config = loadConfig();
const { db, close } = await openDatabase(config, (m) => console.error(m));
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await close();
}
