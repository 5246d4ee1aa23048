import { loadConfig } from '../config.js';
import { openDatabase } from './open.js';
import { migrateDatabase } from './migrate.js';

/** `pnpm db:migrate`: applies pending migrations to DATABASE_URL or the embedded dev database. */
const config = loadConfig();
const { url, close } = await openDatabase(config, (m) => console.error(m));
try {
  const applied = await migrateDatabase(url);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await close();
}
