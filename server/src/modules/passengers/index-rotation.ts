import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config.js';
import type { AppContext } from '../../context.js';
import {
  announceIndexKey,
  indexKeyState,
  releaseIndexRotationLock,
  settleIndexKey,
  switchIndexKey,
  tryIndexRotationLock,
} from '../../crypto/index-keys.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { Db } from '../../db/index.js';
import { appendAudit } from '../audit/audit.service.js';
import { indexInputsOf, subjectIndexInput } from './identity.js';
import * as repo from './index-rotation.repository.js';

/** Every step of `pnpm cli keys rotate-index`, in order (`wait` comes before `switch` and `recompute`). */
export type IndexRotationStep = 'announce' | 'wait' | 'switch' | 'recompute' | 'codes' | 'settle';

export interface IndexRotationOptions {
  /** Registrations recomputed per statement (default 500). */
  batch?: number;
  /** Who ran it, for the audit log (default `cli:keys rotate-index`). */
  actor?: string;
  onStep?: (step: IndexRotationStep, note: string) => void;
  /** Registrations recomputed so far, of how many (grows when a pass finds rows changed meanwhile). */
  onProgress?: (done: number, total: number) => void;
  /** Told after each batch; a test hook stops the run here (an interruption). */
  afterBatch?: (batches: number) => Promise<void> | void;
  /** How to wait `ms` (default: a timer; tests move a clock). */
  sleep?: (ms: number) => Promise<void>;
}

export interface IndexRotationReport {
  /** The generation whose indexes are gone (its key destroyed, unless it is the first). */
  from: number;
  /** The generation every identity index is under now. */
  to: number;
  /** Whether this run continued one that an earlier run started. */
  resumed: boolean;
  /** Registrations whose indexes this run recomputed. */
  recomputed: number;
  /** Indexes cleared because what they were computed from is not stored (nothing to recompute them from). */
  dropped: number;
  /** Expired SMS codes of the old generation whose hashes were cleared (their inputs are never stored). */
  codesCleared: number;
  /** Registrations holding identity indexes, all under `to`. */
  indexed: number;
  keyDestroyed: boolean;
  durationMs: number;
}

/** Another rotation holds the lock: nothing was changed. */
export class IndexRotationBusyError extends Error {}

/** A registration's passes: rows changed meanwhile are retried, a few times at most. */
const MAX_PASSES = 10;

/**
 * The super-app providers a subject index may have been computed with (the provider's name is part of its input
 * and not stored): the configured one first, then the others the server knows (super-app.ts).
 */
const KNOWN_PROVIDERS = ['superapp', 'dev'];

/**
 * How long each step waits before the next: every server re-reads the generations within
 * INDEX_KEYS_MAX_AGE_SECONDS, and a request that computed an index just before may commit it later still (a
 * confirmation waits for its ride's group commit); a margin on top.
 */
export function indexKeyGraceMs(config: Config): number {
  return config.indexKeysMaxAgeSeconds * 1000 + config.rides.batchQueueMs + 2000;
}

/**
 * Rotates the blind-index key of identities online: adds a key generation, lets every server look up under both,
 * switches writes to the new one, recomputes every stored identity index from the sealed data (compare-and-set,
 * in batches), waits out SMS codes hashed under the old key, then ends the old generation (its key destroyed) and
 * appends one audit entry. Lookups work throughout. Each step is recorded in `index_key_state`, so a run killed at
 * any point continues when run again. `db`: the connection pool to work on (without statement timeouts for large
 * tables); the context's by default.
 */
export async function rotateIndexKey(
  ctx: AppContext,
  opts: IndexRotationOptions = {},
  db: Db = ctx.db,
): Promise<IndexRotationReport> {
  // One connection for the whole run: it holds the session lock that keeps a second rotation out.
  return db.connection().execute(async (conn) => {
    if (!(await lockWithin(conn, 5000)))
      throw new IndexRotationBusyError('another blind-index key rotation is running; nothing was changed');
    try {
      return await run(ctx, conn, opts);
    } finally {
      await releaseIndexRotationLock(conn).catch(() => undefined);
    }
  });
}

/** The rotation lock, retried for a while: a run killed a moment ago may not have lost its connection yet. */
async function lockWithin(db: Db, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (await tryIndexRotationLock(db)) return true;
    if (performance.now() >= until) return false;
    await sleep(250);
  }
}

async function run(ctx: AppContext, db: Db, opts: IndexRotationOptions): Promise<IndexRotationReport> {
  const started = performance.now();
  const now = () => ctx.now();
  const pause = opts.sleep ?? ((ms: number) => sleep(ms));
  const grace = indexKeyGraceMs(ctx.config);
  const waitUntil = async (at: number, why: string) => {
    const ms = at - now().getTime();
    if (ms <= 0) return;
    opts.onStep?.('wait', `${Math.ceil(ms / 1000)} s: ${why}`);
    await pause(ms);
  };

  let state = await indexKeyState(db);
  const resumed = state.phase !== 'settled';
  if (state.phase === 'settled') {
    state = await announceIndexKey(db, ctx.keyring, now());
    opts.onStep?.(
      'announce',
      `key of generation ${state.otherGeneration} added; lookups match generations ${state.generation} and ` +
        `${state.otherGeneration}, new indexes are still written under ${state.generation}`,
    );
  }
  if (state.phase === 'announced') {
    await waitUntil(state.changedAt.getTime() + grace, 'until every server looks up under both generations');
    state = await switchIndexKey(db, now());
    opts.onStep?.(
      'switch',
      `new indexes are written under generation ${state.generation}; lookups still match ${state.otherGeneration}`,
    );
  }
  const from = state.otherGeneration!;
  const to = state.generation;
  await waitUntil(
    state.changedAt.getTime() + grace,
    `until no server writes indexes under generation ${from} any more`,
  );
  await ctx.keyring.readIndexKeys(db, now());

  const totals = { recomputed: 0, dropped: 0, codesCleared: 0 };
  const progress = { done: 0, total: 0, batches: 0 };
  for (let pass = 1; ; pass++) {
    const r = await recompute(ctx, db, to, opts, progress);
    totals.recomputed += r.recomputed;
    totals.dropped += r.dropped;
    opts.onStep?.(
      'recompute',
      `${r.recomputed} registration(s) now indexed under generation ${to}` +
        (r.dropped ? `, ${r.dropped} index(es) without a stored input cleared` : '') +
        (r.retry ? `, ${r.retry} changed meanwhile (next pass)` : ''),
    );

    const lastCode = await repo.lastOldOtpExpiry(db, to);
    if (lastCode) {
      await waitUntil(lastCode.getTime(), `until the SMS codes sent under generation ${from} have expired`);
      // Expired by this host's clock: a server's clock ahead of it only cuts a code's last seconds short.
      const cleared = await repo.clearOldOtps(db, to);
      totals.codesCleared += cleared;
      opts.onStep?.('codes', `${cleared} expired SMS code(s) of generation ${from} cleared`);
    }

    const settled = await db.transaction().execute(async (tx) => {
      if ((await repo.countRowsToReindex(tx, to)) > 0 || (await repo.countOldOtps(tx, to)) > 0) return null;
      const s = (await settleIndexKey(tx, now()))!;
      const indexed = await repo.countIndexedRows(tx, to);
      await appendAudit(tx, {
        actor: opts.actor ?? 'cli:keys rotate-index',
        action: 'keys.rotate_index',
        caseId: null,
        people: indexed,
        requestId: null,
        by: { kind: 'system', name: 'keys rotate-index', agency: null },
        // Counts and generations only: nothing here names or describes a person.
        facts: { from, to, keyDestroyed: s.keyDestroyed, indexed, ...totals, resumed },
      });
      return { keyDestroyed: s.keyDestroyed, indexed };
    });
    if (settled) {
      await ctx.keyring.readIndexKeys(db, now());
      opts.onStep?.(
        'settle',
        `every identity index is under generation ${to}; generation ${from} ` +
          (settled.keyDestroyed ? 'key destroyed' : 'ended (its key stays for ride idempotency keys)'),
      );
      return {
        from,
        to,
        resumed,
        ...totals,
        indexed: settled.indexed,
        keyDestroyed: settled.keyDestroyed,
        durationMs: Math.round(performance.now() - started),
      };
    }
    if (pass >= MAX_PASSES)
      throw new Error(`registrations kept changing during ${MAX_PASSES} passes; run it again`);
  }
}

/** One pass over the registrations below `generation`, in id order, a batch per statement. */
async function recompute(
  ctx: AppContext,
  db: Db,
  generation: number,
  opts: IndexRotationOptions,
  progress: { done: number; total: number; batches: number },
): Promise<{ recomputed: number; dropped: number; retry: number }> {
  const batch = opts.batch ?? 500;
  const providers = [...new Set([ctx.superApp.provider, ...KNOWN_PROVIDERS])];
  progress.total += await repo.countRowsToReindex(db, generation);
  opts.onProgress?.(progress.done, progress.total);
  let recomputed = 0;
  let dropped = 0;
  let retry = 0;
  let afterId: string | null = null;
  for (;;) {
    const rows = await repo.findRowsToReindex(db, generation, afterId, batch);
    if (rows.length === 0) break;
    afterId = rows.at(-1)!.id;
    const updates = rows.map((row) => ({
      id: row.id,
      old: [row.subject_index, row.phone_index, row.id_number_index] as const,
      new: indexesOf(ctx.keyring, row, generation, providers),
    }));
    const replaced = new Set(await repo.replaceIndexes(db, generation, updates));
    for (const u of updates) {
      if (!replaced.has(u.id)) {
        retry++;
        continue;
      }
      recomputed++;
      dropped += u.old.filter((b, i) => b !== null && u.new[i] === null).length;
    }
    progress.done += rows.length;
    progress.batches++;
    opts.onProgress?.(progress.done, Math.max(progress.total, progress.done));
    await opts.afterBatch?.(progress.batches);
  }
  return { recomputed, dropped, retry };
}

/**
 * A registration's identity indexes under `generation`, recomputed from its sealed data: [subject, phone, ID
 * number], each null where the row has none or its input is not stored.
 */
function indexesOf(
  keyring: Keyring,
  row: Parameters<typeof indexInputsOf>[1] & {
    subject_index: Buffer | null;
    phone_index: Buffer | null;
    id_number_index: Buffer | null;
  },
  generation: number,
  providers: readonly string[],
): [Buffer | null, Buffer | null, Buffer | null] {
  const inputs = indexInputsOf(keyring, row);
  const at = (kind: 'subject' | 'phone' | 'id-number', value: string | null) =>
    value === null ? null : keyring.blindIndexAt(generation, kind, value)!;
  const subject =
    row.subject_index && inputs.openId !== null
      ? subjectInputOf(keyring, row.subject_index, inputs.openId, providers)
      : null;
  return [
    row.subject_index ? at('subject', subject) : null,
    row.phone_index ? at('phone', inputs.phone) : null,
    row.id_number_index ? at('id-number', inputs.idNumber) : null,
  ];
}

/**
 * The input a stored subject index was computed from: the user's super-app id with the provider whose index under a
 * generation this process holds matches the stored one; null when none does.
 */
function subjectInputOf(
  keyring: Keyring,
  stored: Buffer,
  openId: string,
  providers: readonly string[],
): string | null {
  const generations = [...new Set([...keyring.indexGenerations, 1])];
  for (const provider of providers) {
    const input = subjectIndexInput(provider, openId);
    if (generations.some((g) => keyring.blindIndexAt(g, 'subject', input)?.equals(stored))) return input;
  }
  return null;
}
