import type { Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // Code-signing keys rotate. They are the `code-<id>` rows of system_keys (the id is the key id in every poster's
  // token); the highest id signs new codes. A key that a rotation replaced keeps verifying the posters printed with
  // it until `retires_at` (the grace period for replacing them), then they answer 410 code_key_retired. Null: the
  // key does not retire; other system keys never set it.
  await db.schema.alterTable('system_keys').addColumn('retires_at', 'timestamptz').execute();
}
