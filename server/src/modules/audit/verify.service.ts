import type { AuditVerify } from '@ridetrace/shared';
import type { Official } from '../../actors.js';
import type { AppContext } from '../../context.js';
import { appendAudit, auditBy, GENESIS_HASH, verifyAuditChain } from './audit.service.js';
import * as repo from './audit.repository.js';
import { auditKeyId, auditPublicKeys, readLastCheckpoint, signedCheckpoint } from './checkpoints.js';

/**
 * Entries one GET /v1/audit/verify recomputes at most: the reply stays within a request's time on any log size.
 * Entries older than the bound (and not anchored by a checkpoint) are left to `pnpm audit:verify`.
 */
export const AUDIT_VERIFY_MAX_ENTRIES = 100_000;

type VerifyContext = Pick<AppContext, 'db' | 'config'>;

async function lastCheckpointOf(ctx: VerifyContext): Promise<AuditVerify['lastCheckpoint']> {
  const dir = ctx.config.audit.checkpointDir;
  if (!dir) return null;
  const last = await readLastCheckpoint(dir);
  if (!last) return null;
  const { seq, at, keyId, hash } = last.checkpoint;
  const keys = new Map(auditPublicKeys(ctx.config).map((k) => [auditKeyId(k), k]));
  const signed = signedCheckpoint(last.text, keys) !== null;
  const entryHash = seq === 0 ? GENESIS_HASH : (await repo.findEntry(ctx.db, seq))?.hash;
  return { seq, at, keyId, hash, file: last.file, verified: signed && entryHash === hash };
}

/**
 * Checks the chain from the last verified checkpoint (or its start) to its head, at most `maxEntries` of the newest
 * entries; the reply says where it began and what that was anchored to. The check is itself an audit entry.
 */
export async function verifyAuditForConsole(
  ctx: VerifyContext,
  who: Official,
  opts: { maxEntries?: number } = {},
): Promise<AuditVerify> {
  const max = opts.maxEntries ?? AUDIT_VERIFY_MAX_ENTRIES;
  const headSeq = (await repo.findHead(ctx.db))?.seq ?? 0;
  const lastCheckpoint = await lastCheckpointOf(ctx);
  const anchorSeq = lastCheckpoint?.verified ? lastCheckpoint.seq : 0;
  const first = Math.max(anchorSeq + 1, headSeq - max + 1);
  const anchor: AuditVerify['anchor'] =
    first === 1 ? 'genesis' : first === anchorSeq + 1 ? 'checkpoint' : 'none';
  let prevHash = GENESIS_HASH;
  if (anchor === 'checkpoint') prevHash = lastCheckpoint!.hash;
  // Unanchored: the entry before the window is taken as it is (a missing one shows as a broken link).
  if (anchor === 'none') prevHash = (await repo.findEntry(ctx.db, first - 1))?.hash ?? '';
  const chain = await verifyAuditChain(ctx.db, { afterSeq: first - 1, prevHash, toSeq: headSeq });
  const firstBroken: AuditVerify['firstBroken'] =
    chain.firstBroken ??
    (lastCheckpoint && !lastCheckpoint.verified ? { seq: lastCheckpoint.seq, reason: 'checkpoint' } : null);
  const report: AuditVerify = {
    ok: firstBroken === null,
    entries: chain.entries,
    fromSeq: chain.entries > 0 ? first : 0,
    toSeq: headSeq,
    anchor,
    firstBroken,
    lastCheckpoint,
  };
  await appendAudit(ctx.db, {
    ...auditBy(who),
    action: 'audit.verify',
    caseId: null,
    people: 0,
    facts: {
      ok: report.ok,
      entries: report.entries,
      fromSeq: report.fromSeq,
      toSeq: report.toSeq,
      anchor,
      checkpointSeq: lastCheckpoint?.seq ?? null,
    },
  });
  return report;
}
