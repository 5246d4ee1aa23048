import { sql } from 'kysely';
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAuditSigningKey, type Config } from '../../config.js';
import type { Db } from '../../db/index.js';
import { GENESIS_HASH, verifyAuditChain, type VerifyReport } from './audit.service.js';

/**
 * A signed statement that the audit chain had `hash` at entry `seq` at time `at`, kept outside the database: a
 * superuser who rewrites the chain and recomputes every later hash still cannot match a checkpoint signed earlier.
 */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  /** ISO 8601, UTC. */
  at: string;
  /** First 16 hex characters of SHA-256 over the raw 32-byte public key. */
  keyId: string;
  /** Base64 Ed25519 signature over `checkpointMessage`. */
  signature: string;
}

/** Where checkpoint problems are reported (the app's pino logger fits). */
export interface CheckpointLog {
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface CheckpointContext {
  db: Db;
  dir: string;
  signingKey: KeyObject;
  witnessUrl?: string | undefined;
  log?: CheckpointLog | undefined;
  now?: (() => Date) | undefined;
}

/** Held for the transaction that writes a checkpoint: one writer at a time across every process ('RTAUDCKP'). */
const CHECKPOINT_LOCK = 0x52544155_44434b50n.toString();
const WITNESS_TIMEOUT_MS = 5000;
const FILE_NAME = /^checkpoints-\d{4}-\d{2}\.jsonl$/;
const HASH = /^[0-9a-f]{64}$/;

/** What the signature covers: JSON keeps the field boundaries unambiguous. */
export function checkpointMessage(c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'at'>): Buffer {
  return Buffer.from(JSON.stringify([c.seq, c.hash, c.at]));
}

/** The key id of a signing or verification key. */
export function auditKeyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x ?? '', 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

function devSigningKeyFile(config: Config): string {
  return path.join(config.dataDir, 'audit-signing-key.pem');
}

/**
 * The checkpoint signing key from config, else (development and test only) `.data/audit-signing-key.pem`,
 * generated on first use. Production never generates one (config refuses to start without it).
 */
export function resolveAuditSigningKey(config: Config, warn: (msg: string) => void): KeyObject {
  if (config.audit.signingKey) return config.audit.signingKey;
  if (config.mode === 'production') throw new Error('production mode requires an audit signing key');
  const file = devSigningKeyFile(config);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      // `wx`: another process generating at the same moment keeps its key, and this one reads it.
      writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      warn(`!!! DEV MODE: generated an audit signing key at ${file}; not for production. !!!`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return parseAuditSigningKey(readFileSync(file, 'utf8'), file);
}

/**
 * The keys `pnpm audit:verify` checks checkpoints with: RIDETRACE_AUDIT_PUBLIC_KEY, else the one of the signing key
 * (configured, or the development key file if there is one; never generated here).
 */
export function auditPublicKeys(config: Config): KeyObject[] {
  if (config.audit.publicKeys.length) return [...config.audit.publicKeys];
  if (config.audit.signingKey) return [createPublicKey(config.audit.signingKey)];
  const file = devSigningKeyFile(config);
  if (config.mode !== 'production' && existsSync(file))
    return [createPublicKey(parseAuditSigningKey(readFileSync(file, 'utf8'), file))];
  return [];
}

async function tryCheckpointLock(db: Db, wait: boolean): Promise<boolean> {
  if (wait) {
    await sql`set local lock_timeout = '10s'`.execute(db);
    await sql`select pg_advisory_xact_lock(${CHECKPOINT_LOCK}::bigint)`.execute(db);
    return true;
  }
  const r = await sql<{
    ok: boolean;
  }>`select pg_try_advisory_xact_lock(${CHECKPOINT_LOCK}::bigint) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

async function chainHead(db: Db): Promise<{ seq: number; hash: string }> {
  const row = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ?? { seq: 0, hash: GENESIS_HASH };
}

async function checkpointFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => FILE_NAME.test(f)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The last readable checkpoint in `dir` (the newest month's last line), or null. */
async function lastCheckpoint(dir: string): Promise<AuditCheckpoint | null> {
  const files = await checkpointFiles(dir);
  for (const file of files.reverse()) {
    const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n').filter(Boolean);
    const last = lines.at(-1);
    if (last === undefined) continue;
    try {
      return JSON.parse(last) as AuditCheckpoint;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The newest line of the newest checkpoint file that parses as a checkpoint (a torn last line is skipped), with its
 * file name; its signature is not checked here. Null when the directory holds none.
 */
export async function readLastCheckpoint(
  dir: string,
): Promise<{ file: string; text: string; checkpoint: AuditCheckpoint } | null> {
  for (const file of (await checkpointFiles(dir)).reverse()) {
    const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n').filter(Boolean);
    for (const text of lines.reverse()) {
      try {
        const c = JSON.parse(text) as Partial<AuditCheckpoint>;
        if (
          Number.isSafeInteger(c.seq) &&
          typeof c.hash === 'string' &&
          typeof c.at === 'string' &&
          typeof c.keyId === 'string'
        )
          return { file, text, checkpoint: c as AuditCheckpoint };
      } catch {
        // A torn line: the one before it is the last whole checkpoint.
      }
    }
  }
  return null;
}

/** Appends one line with O_APPEND and fsyncs it (and the directory, when the file is new). */
async function appendLine(dir: string, file: string, line: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const fh = await open(path.join(dir, file), 'a+', 0o644);
  let created = false;
  try {
    const { size } = await fh.stat();
    created = size === 0;
    // A line torn by a crash stays one bad line instead of spoiling this one too.
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await fh.write(`${prefix}${line}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (created) {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}

async function postToWitness(url: string, checkpoint: AuditCheckpoint, log: CheckpointLog | undefined) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(checkpoint),
      signal: AbortSignal.timeout(WITNESS_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (!res.ok)
      log?.warn({ status: res.status, seq: checkpoint.seq }, 'audit witness refused the checkpoint');
  } catch (err) {
    log?.warn({ err, seq: checkpoint.seq }, 'audit witness unreachable');
  }
}

/**
 * Signs the chain head and appends it to `${dir}/checkpoints-YYYY-MM.jsonl`, then POSTs it to the witness. Returns
 * null when another process holds the checkpoint lock, or when the last checkpoint already covers the head.
 * `final` (shutdown) waits for the lock instead, so entries this process wrote are covered before it exits.
 */
export async function writeCheckpoint(
  ctx: CheckpointContext,
  opts: { final?: boolean } = {},
): Promise<AuditCheckpoint | null> {
  const checkpoint = await ctx.db.transaction().execute(async (trx) => {
    if (!(await tryCheckpointLock(trx, opts.final === true))) return null;
    const head = await chainHead(trx);
    const last = await lastCheckpoint(ctx.dir);
    if (last?.seq === head.seq && last.hash === head.hash) return null;
    if (last && last.seq >= head.seq) {
      ctx.log?.error(
        { seq: head.seq, checkpointSeq: last.seq },
        'audit chain head differs from the last checkpoint: run pnpm audit:verify',
      );
    }
    const at = (ctx.now?.() ?? new Date()).toISOString();
    const c: AuditCheckpoint = {
      seq: head.seq,
      hash: head.hash,
      at,
      keyId: auditKeyId(ctx.signingKey),
      signature: sign(null, checkpointMessage({ ...head, at }), ctx.signingKey).toString('base64'),
    };
    // Written while the lock is held: the next writer reads this line and skips an unchanged head.
    await appendLine(ctx.dir, `checkpoints-${at.slice(0, 7)}.jsonl`, JSON.stringify(c));
    return c;
  });
  if (checkpoint && ctx.witnessUrl) await postToWitness(ctx.witnessUrl, checkpoint, ctx.log);
  return checkpoint;
}

export interface AuditCheckpointer {
  start(): void;
  /** Stops the interval and writes a last checkpoint if anything is new. */
  stop(): Promise<void>;
}

/** Checkpoints every AUDIT_CHECKPOINT_SECONDS for a server; null when checkpoints are off. */
export function createAuditCheckpointer(
  config: Config,
  db: Db,
  log: CheckpointLog,
): AuditCheckpointer | null {
  const { checkpointSeconds, checkpointDir, witnessUrl } = config.audit;
  if (checkpointSeconds === 0 || !checkpointDir) return null;
  const ctx: CheckpointContext = {
    db,
    dir: checkpointDir,
    signingKey: resolveAuditSigningKey(config, (msg) => log.warn(msg)),
    witnessUrl,
    log,
  };
  const write = (final: boolean) =>
    writeCheckpoint(ctx, { final }).then(
      () => undefined,
      (err: unknown) => log.error({ err }, 'audit checkpoint failed'),
    );
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;
  return {
    start() {
      timer = setInterval(() => {
        // A slow witness or database must not stack writes up.
        inFlight ??= write(false).finally(() => (inFlight = null));
      }, checkpointSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await inFlight;
      await write(true);
    },
  };
}

export type CheckpointBreakReason = 'signature' | 'hash_mismatch' | 'missing_entry';

export interface CheckpointReport {
  ok: boolean;
  /** Entries in the chain. */
  entries: number;
  /** Checkpoints verified (before the first broken one). */
  checkpoints: number;
  /** The first checkpoint, in file and line order, that is not signed by a given key or not in the chain. */
  firstBroken: {
    /** null: the line is not a checkpoint at all. */
    seq: number | null;
    file: string;
    /** 1-based. */
    line: number;
    reason: CheckpointBreakReason;
  } | null;
  /** The newest checkpoint verified: entries after its seq are not anchored yet. */
  last: { seq: number; at: string } | null;
  chain: VerifyReport;
}

/** The checkpoint a line holds when one of `keys` (by key id) signed it, else null. */
export function signedCheckpoint(text: string, keys: ReadonlyMap<string, KeyObject>): AuditCheckpoint | null {
  let c: Partial<AuditCheckpoint>;
  try {
    c = JSON.parse(text) as Partial<AuditCheckpoint>;
  } catch {
    return null;
  }
  if (
    !Number.isSafeInteger(c.seq) ||
    c.seq! < 0 ||
    typeof c.hash !== 'string' ||
    !HASH.test(c.hash) ||
    typeof c.at !== 'string' ||
    typeof c.keyId !== 'string' ||
    typeof c.signature !== 'string'
  )
    return null;
  const key = keys.get(c.keyId);
  const checkpoint = c as AuditCheckpoint;
  const signature = Buffer.from(checkpoint.signature, 'base64');
  return key && verify(null, checkpointMessage(checkpoint), key, signature) ? checkpoint : null;
}

/** The seq a line that failed verification claims, for the report. */
function claimedSeq(text: string): number | null {
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : null;
  } catch {
    return null;
  }
}

async function hashesAt(db: Db, seqs: number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (let i = 0; i < seqs.length; i += 1000) {
    const rows = await db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where('seq', 'in', seqs.slice(i, i + 1000))
      .execute();
    for (const r of rows) found.set(r.seq, r.hash);
  }
  return found;
}

/**
 * Verifies the chain, then every checkpoint in `dir` (files by month, lines in order): its signature against one of
 * `publicKeys` (chosen by key id), and that the entry at its seq exists with exactly its hash.
 */
export async function verifyAuditCheckpoints(
  db: Db,
  opts: { dir: string; publicKeys: readonly KeyObject[] },
): Promise<CheckpointReport> {
  const chain = await verifyAuditChain(db);
  const keys = new Map(opts.publicKeys.map((k) => [auditKeyId(k), k]));
  let checkpoints = 0;
  let last: CheckpointReport['last'] = null;
  const report = (firstBroken: CheckpointReport['firstBroken']): CheckpointReport => ({
    ok: chain.ok && firstBroken === null,
    entries: chain.entries,
    checkpoints,
    firstBroken,
    last,
    chain,
  });
  for (const file of await checkpointFiles(opts.dir)) {
    const lines = (await readFile(path.join(opts.dir, file), 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    const signed = lines.map((text) => signedCheckpoint(text, keys));
    const hashes = await hashesAt(db, [...new Set(signed.flatMap((c) => (c && c.seq > 0 ? [c.seq] : [])))]);
    for (const [i, c] of signed.entries()) {
      const where = { file, line: i + 1 };
      if (!c) return report({ seq: claimedSeq(lines[i]!), ...where, reason: 'signature' });
      const hash = c.seq === 0 ? GENESIS_HASH : hashes.get(c.seq);
      if (hash === undefined) return report({ seq: c.seq, ...where, reason: 'missing_entry' });
      if (hash !== c.hash) return report({ seq: c.seq, ...where, reason: 'hash_mismatch' });
      checkpoints++;
      if (!last || c.seq >= last.seq) last = { seq: c.seq, at: c.at };
    }
  }
  return report(null);
}
