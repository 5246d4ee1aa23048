import {
  auditPublicKeys,
  parseAuditPublicKeys,
  verifyAuditChain,
  verifyAuditCheckpoints,
  type CheckpointReport,
} from '@ridetrace/server';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { withConfiguredDatabase } from './db.js';

const USAGE =
  'usage: pnpm audit:verify [--dir <checkpoint dir>] [--public-key-file <file>]\n' +
  '  --dir              checkpoint files (default AUDIT_CHECKPOINT_DIR)\n' +
  '  --public-key-file  Ed25519 public keys, PEM or base64 (default RIDETRACE_AUDIT_PUBLIC_KEY, else the\n' +
  '                     public half of the signing key)';

const REASONS: Record<NonNullable<CheckpointReport['firstBroken']>['reason'], string> = {
  signature: 'not signed by a given key (edited, or not a checkpoint)',
  hash_mismatch: 'the entry at this seq differs from the signed one: the chain was rewritten after it',
  missing_entry: 'the chain no longer has this entry: its tail was cut',
};

function options(): { dir?: string | undefined; publicKeyFile?: string | undefined } {
  try {
    const { values } = parseArgs({
      options: { dir: { type: 'string' }, 'public-key-file': { type: 'string' } },
    });
    return { dir: values.dir, publicKeyFile: values['public-key-file'] };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

function printChain(report: Awaited<ReturnType<typeof verifyAuditChain>>): void {
  if (report.ok) console.log(`audit chain intact: ${report.entries} entries`);
  else
    console.error(
      `audit chain BROKEN at entry seq=${report.firstBroken!.seq} (${report.firstBroken!.reason} mismatch)`,
    );
}

/**
 * `pnpm audit:verify`: recomputes the audit hash chain, then checks every signed checkpoint against it; exit 1
 * naming the first broken entry or checkpoint.
 */
const opts = options();
await withConfiguredDatabase(async (config, database) => {
  const dir = opts.dir ? path.resolve(opts.dir) : config.audit.checkpointDir;
  if (!dir) {
    const report = await verifyAuditChain(database.db);
    printChain(report);
    console.log(
      'no checkpoint directory (AUDIT_CHECKPOINT_DIR or --dir): the chain alone has no outside anchor',
    );
    if (!report.ok) process.exitCode = 1;
    return;
  }
  if (opts.dir && !existsSync(dir)) throw new Error(`checkpoint directory ${dir} does not exist`);
  const publicKeys = opts.publicKeyFile
    ? parseAuditPublicKeys(readFileSync(opts.publicKeyFile, 'utf8'), opts.publicKeyFile)
    : auditPublicKeys(config);
  if (publicKeys.length === 0) {
    throw new Error(
      'no key to verify checkpoints with: set RIDETRACE_AUDIT_PUBLIC_KEY or pass --public-key-file',
    );
  }

  const report = await verifyAuditCheckpoints(database.db, { dir, publicKeys });
  printChain(report.chain);
  const broken = report.firstBroken;
  if (broken) {
    console.error(
      `audit checkpoint BROKEN at seq=${broken.seq ?? '?'} (${broken.file}:${broken.line}): ${broken.reason}: ` +
        REASONS[broken.reason],
    );
  } else if (report.last) {
    const since = report.entries - report.last.seq;
    console.log(
      `audit checkpoints verified: ${report.checkpoints} checkpoints in ${dir}; the last at seq=${report.last.seq} ` +
        `(${report.last.at}), ${since} entries after it`,
    );
  } else {
    console.log(`audit checkpoints verified: 0 checkpoints in ${dir}: the chain has no outside anchor yet`);
  }
  if (!report.ok) process.exitCode = 1;
});
