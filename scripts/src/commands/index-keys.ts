import {
  createDb,
  DevSuperAppLogin,
  indexKeyGraceMs,
  loadContext,
  resolveMasterKeys,
  rotateIndexKey,
  type IndexRotationReport,
} from '@ridetrace/server';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { withConfiguredDatabase } from '../db.js';
import { createProgress } from '../progress.js';

const MAX_BATCH = 10_000;

const batchArg = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_BATCH)
    throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_BATCH}`);
  return n;
};

/** What the rotation did, as the CLI prints it. */
export function describeIndexRotation(r: IndexRotationReport): string[] {
  return [
    `blind-index key rotated: generation ${r.from} → ${r.to}${r.resumed ? ' (continued an interrupted run)' : ''}`,
    `  registrations indexed, all under generation ${r.to}: ${r.indexed} (recomputed by this run: ${r.recomputed})`,
    `  indexes cleared, their input not stored: ${r.dropped}`,
    `  expired SMS codes of generation ${r.from} cleared: ${r.codesCleared}`,
    r.keyDestroyed
      ? `  key of generation ${r.from}: destroyed`
      : `  key of generation ${r.from}: kept (it only indexes ride idempotency keys from now on)`,
    `  audit entry keys.rotate_index appended; ${r.durationMs} ms`,
  ];
}

/** `keys rotate-index` under the `keys` group (master keys: lifecycle.ts, code keys: code-keys.ts). */
export function registerIndexKeyCommands(program: Command): void {
  const keys =
    program.commands.find((c) => c.name() === 'keys') ??
    program.command('keys').description('master keys and data keys');
  keys
    .command('rotate-index')
    .description(
      'rotate the blind-index key of identities online: recompute every phone, ID document and super-app index',
    )
    .option('--batch <n>', 'registrations recomputed per statement', batchArg, 500)
    .addOption(
      new Option('--pause-after-batches <n>', 'test hook: after this many batches, wait until killed')
        .argParser(batchArg)
        .hideHelp(),
    )
    .addHelpText(
      'after',
      `
Lookups by phone, ID document and super-app user keep working throughout; no restart is needed. The run adds a
key generation, waits until every server looks up under both generations (INDEX_KEYS_MAX_AGE_SECONDS and a
margin), switches new indexes to the new key, waits again, recomputes every stored index from the sealed data
(compare-and-set, in batches, with a progress bar), waits for SMS codes sent under the old key to expire, then
destroys the old key and appends one audit entry. Killed at any point, run it again: it continues.

Example:
  pnpm cli keys rotate-index`,
    )
    .action((opts: { batch: number; pauseAfterBatches?: number }) => runRotation(opts));
}

async function runRotation(opts: { batch: number; pauseAfterBatches?: number }): Promise<void> {
  await withConfiguredDatabase(async (config, database) => {
    const ctx = await loadContext({
      config,
      db: database.db,
      masterKeys: resolveMasterKeys(config, (m) => console.error(m)),
      superApp: new DevSuperAppLogin(),
      now: () => new Date(),
    });
    // Its own connection without statement timeouts: what is left is counted over the whole table.
    const db = createDb({ connectionString: database.url, max: 1, statementTimeoutMillis: 0 });
    const progress = createProgress('recomputing indexes');
    try {
      console.log(
        `each step waits ${Math.ceil(indexKeyGraceMs(config) / 1000)} s for every server to follow`,
      );
      const report = await rotateIndexKey(
        ctx,
        {
          batch: opts.batch,
          onStep: (step, note) => {
            if (step === 'settle' || step === 'codes' || step === 'recompute') progress.stop();
            console.log(`${step === 'wait' ? '…' : '✓'} ${step}: ${note}`);
          },
          onProgress: (done, total) => progress.update(done, total),
          afterBatch: async (n) => {
            if (n !== opts.pauseAfterBatches) return;
            progress.stop();
            console.log(`paused after ${n} batch(es)`);
            await new Promise(() => setInterval(() => undefined, 1 << 30));
          },
        },
        db,
      );
      for (const line of describeIndexRotation(report)) console.log(line);
    } finally {
      progress.stop();
      await db.destroy();
    }
  });
}
