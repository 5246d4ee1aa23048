import { cutoffDay, keyStatus, type PurgeReport, purgeRecords, rewrapAll } from '@ridetrace/server';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { withContext } from '../context.js';

const dayArg = (v: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
    throw new InvalidArgumentError('DATE must look like 2026-11-01');
  }
  return v;
};
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** What each count of the purge report is, as the CLI prints it. */
const KIND_LABELS: Record<keyof PurgeReport['counts'], string> = {
  rides: 'rides',
  rideRequests: 'ride idempotency keys',
  pendingScans: 'pending scans (unconfirmed)',
  phoneOtps: 'SMS one-time codes',
  officialSessions: 'official sessions',
  cases: 'closed cases',
  caseSubjects: 'case subjects',
  caseClaims: 'case claims',
  exposureMarks: 'exposure marks',
  notifications: 'notifications',
  revealRequests: 'reveal requests',
  accessLog: 'access-log entries',
  manualRiders: 'manual riders (identity)',
  inactivePassengers: 'inactive passengers (identity)',
  passengerStubs: 'deleted-account stubs',
};

export function printPurgeReport(r: PurgeReport, out: (line: string) => void = console.log): void {
  if (!r.ran) {
    out('another purge is running; nothing done');
    return;
  }
  out(
    `${r.dryRun ? 'DRY RUN: would purge' : 'purged'} ${r.days.length} day(s) before ${r.before}: ${r.rows} ride(s)`,
  );
  for (const d of r.days) {
    out(
      `  ${d.day}: ${d.rows} rides, key ${d.keyDestroyed ? 'destroyed' : 'already gone'}, partition ${d.partitionDropped ? 'dropped' : 'absent'}`,
    );
  }
  out(`day keys ${r.dryRun ? 'to destroy' : 'destroyed'}: ${r.keyIds.join(', ') || '(none)'}`);
  if (!r.dryRun) out(`idempotency keys removed: ${r.rideRequests}`);
  out(`records past their lifetime ${r.dryRun ? '(would go)' : '(removed)'}:`);
  const width = Math.max(...Object.values(KIND_LABELS).map((l) => l.length));
  for (const [kind, label] of Object.entries(KIND_LABELS) as [keyof PurgeReport['counts'], string][]) {
    out(`  ${`${label}:`.padEnd(width + 1)} ${r.counts[kind]}`);
  }
  if (r.caseIds.length > 0) out(`cases ${r.dryRun ? 'to purge' : 'purged'}: ${r.caseIds.join(', ')}`);
  out(`registrations looked at (who still rides): ${r.passengersChecked}`);
  out(`duration: ${r.durationMs} ms`);
}

/** purge, keys status|rotate|generate. */
export function registerLifecycleCommands(program: Command): void {
  program
    .command('purge')
    .description(
      'retention: destroy the day keys of old ride days (crypto-shredding) and drop their partitions, and remove ' +
        'every other record past its lifetime (docs/operations.md "Lifetimes"); prints the counts; audited',
    )
    .option('--retention-days <n>', 'keep this many ride days (today included)', positiveInt)
    .option('--before <DATE>', 'purge every ride day before this UTC date', dayArg)
    .option('--dry-run', 'report what would be purged; change nothing', false)
    .action((opts: { retentionDays?: number; before?: string; dryRun: boolean }) =>
      withContext(async (ctx) => {
        if ((opts.retentionDays === undefined) === (opts.before === undefined)) {
          throw new Error('give exactly one of --retention-days N or --before DATE');
        }
        const before = opts.before ?? cutoffDay(ctx, opts.retentionDays!);
        const minBefore = cutoffDay(ctx, Math.ceil(ctx.config.rides.maxLateSeconds / 86400) + 1);
        if (before > minBefore) {
          throw new Error(
            `refusing to purge days that may still receive offline scans (latest allowed --before: ${minBefore})`,
          );
        }
        printPurgeReport(await purgeRecords(ctx, { before, dryRun: opts.dryRun, actor: 'cli:purge' }));
      }),
    );

  const keys = program.command('keys').description('master keys and data keys');
  keys
    .command('status')
    .description('active master key and how many data keys each master key wraps')
    .action(() =>
      withContext(async (ctx) => {
        const s = await keyStatus(ctx.db, ctx.keyring);
        console.log(
          `active master key: ${s.activeMasterKeyId} (configured: ${s.configuredMasterKeyIds.join(', ')})`,
        );
        for (const [table, byId] of Object.entries(s.wrapped)) {
          const parts = Object.entries(byId).map(([id, n]) => `${id}=${n}`);
          console.log(`  ${table}: ${parts.join(' ') || '(none)'}`);
        }
        console.log(
          s.pending === 0
            ? 'all data keys are under the active master key'
            : `${s.pending} data key(s) to rewrap: run \`keys rotate\``,
        );
      }),
    );
  keys
    .command('generate')
    .description('print a new random master key (base64) to add to RIDETRACE_MASTER_KEYS')
    .action(() => console.log(randomBytes(32).toString('base64')));
  keys
    .command('rotate')
    .description('rewrap every data key under the active master key, online; old ciphertext stays readable')
    .option(
      '--new-key',
      'key-file mode: first append a new master key to the key file and make it active',
      false,
    )
    .action((opts: { newKey: boolean }) =>
      withContext(async (ctx) => {
        if (opts.newKey) {
          const file =
            ctx.config.masterKeyFile ??
            (ctx.config.masterKeys ? undefined : path.join(ctx.config.dataDir, 'master.key'));
          if (!file || !existsSync(file)) {
            throw new Error(
              'master keys come from the environment: run `keys generate`, add the key as the last entry of ' +
                'RIDETRACE_MASTER_KEYS on every server, restart them, then run `keys rotate`',
            );
          }
          const ids = readFileSync(file, 'utf8')
            .split(/\r?\n/)
            .map((l) => l.split(':')[0])
            .filter(Boolean);
          let n = ids.length + 1;
          while (ids.includes(`k${n}`)) n++;
          appendFileSync(file, `k${n}:${randomBytes(32).toString('base64')}\n`);
          console.log(
            `added master key k${n} to ${file}; restart the servers so they know it, then run \`keys rotate\` again`,
          );
          return;
        }
        const started = performance.now();
        const done = await rewrapAll(ctx.db, ctx.keyring, {
          onProgress: (n) => process.stdout.isTTY && process.stdout.write(`\rrewrapped ${n}`),
        });
        if (process.stdout.isTTY) process.stdout.write('\n');
        console.log(
          `rewrapped under ${ctx.keyring.activeMasterKeyId}: ${Object.entries(done)
            .map(([t, n]) => `${t}=${n}`)
            .join(' ')} in ${Math.round(performance.now() - started)} ms`,
        );
      }),
    );
}
