import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config.js';
import { perContext, type AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import { AppError } from '../../errors.js';
import { appendAudit, GENESIS_HASH } from '../audit/audit.service.js';
import {
  CERTIFICATE_KIND,
  signCertificate,
  type Census,
  type DestructionCertificate,
  type SignedCertificate,
} from './certificate.js';
import * as repo from './programme.repository.js';
import {
  clearedColumns,
  isKeptSystemKey,
  PLAN_TABLES,
  WIND_DOWN_PLAN,
  type ColumnFate,
  type TableFate,
} from './wind-down-plan.js';

/** How often a server process re-reads whether the programme ended: at most one query per period, not per scan. */
export const PROGRAMME_REFRESH_MS = 2000;

interface EndedFlag {
  ended: boolean;
  /** performance.now() of the last read. */
  readAtMs: number;
  reading: Promise<void> | null;
}

const endedFlagOf = perContext<EndedFlag>(() => ({ ended: false, readAtMs: -Infinity, reading: null }));

/**
 * Whether the programme ended, as this process knows it: re-read from the database when the last read is older than
 * PROGRAMME_REFRESH_MS (concurrent callers share one read), never again once it ended (it cannot restart).
 */
export async function isProgrammeEnded(ctx: AppContext): Promise<boolean> {
  const f = endedFlagOf(ctx);
  if (!f.ended && performance.now() - f.readAtMs >= PROGRAMME_REFRESH_MS) {
    f.reading ??= repo
      .programmeEndedAt(ctx.db)
      .then((at) => {
        f.ended = at !== null;
        f.readAtMs = performance.now();
      })
      .finally(() => {
        f.reading = null;
      });
    await f.reading;
  }
  return f.ended;
}

/** 503 programme_ended once the programme ended: every path that would create personal data calls this first. */
export async function assertProgrammeRunning(ctx: AppContext): Promise<void> {
  if (await isProgrammeEnded(ctx)) throw new AppError('programme_ended');
}

export type WindDownStep = 'stop' | 'census' | 'keys' | 'rides' | 'records' | 'certificate' | 'published';

/** The wind-down would be wrong to run (name mismatch, no name, another run): nothing was changed. */
export class WindDownRefusedError extends Error {}

export interface WindDownDeps {
  config: Config;
  /** Without statement timeouts: counting and clearing whole tables takes as long as it takes. */
  db: Db;
  now?: () => Date;
}

export interface WindDownOptions {
  /** Must equal the configured DEPLOYMENT_NAME exactly. */
  confirm: string;
  /** Who ran it, for the audit log and the certificate (default `cli:wind-down`). */
  actor?: string;
  /** Told after each step is done and recorded. */
  onStep?: (step: WindDownStep, note: string) => Promise<void> | void;
  /** Writes the certificate's files; the wind-down is complete only once this resolved. */
  publish: (signed: SignedCertificate, json: string) => Promise<void>;
  /** Wait after stopping registrations before destroying anything (default: graceMs(config)). */
  graceMs?: number;
}

export type WindDownOutcome =
  | { kind: 'done'; signed: SignedCertificate; json: string; resumed: boolean }
  | { kind: 'already'; signed: SignedCertificate | null; completedAt: Date };

/**
 * How long requests that passed the ended-flag check just before the end may still write: a server notices within
 * PROGRAMME_REFRESH_MS, a scan waits for its group commit at most RIDES_BATCH_QUEUE_MS, a login for the super-app
 * at most SUPERAPP_TIMEOUT_MS; a margin on top. Destroying only after that leaves no straggler behind.
 */
export function graceMs(config: Config): number {
  return PROGRAMME_REFRESH_MS + Math.max(config.rides.batchQueueMs, config.superApp.timeoutMs) + 2000;
}

/** The deployment's name when `confirm` repeats it exactly; otherwise WindDownRefusedError. */
export function checkWindDownConfirmation(config: Config, confirm: string): string {
  const name = config.deploymentName;
  if (!name) {
    throw new WindDownRefusedError(
      "DEPLOYMENT_NAME is not set: set it to this deployment's name first; nothing was changed",
    );
  }
  if (confirm !== name) {
    throw new WindDownRefusedError(
      "--confirm must repeat this deployment's name (DEPLOYMENT_NAME) exactly; nothing was changed",
    );
  }
  return name;
}

/**
 * Ends the programme: refuses new personal data on every server, destroys every key that protects personal data,
 * drops every ride partition, clears or deletes every personal-data column as WIND_DOWN_PLAN says, closes open cases,
 * appends an audit entry and signs a destruction certificate, which `publish` writes out. Each step is idempotent and
 * recorded in the `programme` row, so a run killed at any point completes when run again. Once complete, another
 * run changes nothing and says so.
 */
export async function windDown(deps: WindDownDeps, opts: WindDownOptions): Promise<WindDownOutcome> {
  const name = checkWindDownConfirmation(deps.config, opts.confirm);
  // One connection for the whole run: it holds the session lock that keeps a second wind-down out.
  return deps.db.connection().execute(async (db) => {
    if (!(await lockWithin(db, 5000)))
      throw new WindDownRefusedError('another wind-down is running on this database; nothing was changed');
    try {
      return await run(db, deps, name, opts);
    } finally {
      await repo.releaseWindDownLock(db).catch(() => undefined);
    }
  });
}

/** The wind-down lock, retried for a while: a run killed a moment ago may not have lost its connection yet. */
async function lockWithin(db: Db, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (await repo.tryWindDownLock(db)) return true;
    if (performance.now() >= until) return false;
    await sleep(250);
  }
}

async function run(
  db: Db,
  deps: WindDownDeps,
  name: string,
  opts: WindDownOptions,
): Promise<WindDownOutcome> {
  const now = deps.now ?? (() => new Date());
  const actor = opts.actor ?? 'cli:wind-down';
  const existing = await repo.findProgramme(db);
  if (existing?.completed_at) {
    return {
      kind: 'already',
      signed: existing.certificate ? (JSON.parse(existing.certificate) as SignedCertificate) : null,
      completedAt: existing.completed_at,
    };
  }
  if (existing && existing.deployment_name !== name) {
    throw new WindDownRefusedError(
      `the wind-down under way was started as "${existing.deployment_name}", not as the DEPLOYMENT_NAME now set`,
    );
  }
  const done = new Set(existing?.steps ?? []);
  const step = async (s: WindDownStep, note: string) => {
    if (!done.has(s)) {
      await repo.addStep(db, s);
      done.add(s);
    }
    await opts.onStep?.(s, note);
  };

  if (!existing)
    await repo.insertProgrammeIfMissing(db, { deployment_name: name, ended_at: now(), ended_by: actor });
  const programme = (await repo.findProgramme(db))!;
  const wait = programme.ended_at.getTime() + (opts.graceMs ?? graceMs(deps.config)) - now().getTime();
  await step(
    'stop',
    `registrations refused since ${programme.ended_at.toISOString()}` +
      (existing ? ' (by an earlier run)' : '') +
      (wait > 0 ? `; waiting ${Math.ceil(wait / 1000)} s for requests in flight` : ''),
  );
  if (wait > 0) await sleep(wait);

  // Counted once, before anything is destroyed: a resumed run keeps the first count.
  const counted = programme.census !== null;
  const before = counted ? (JSON.parse(programme.census!) as Census) : await takeCensus(db, now());
  if (!counted) await repo.saveCensus(db, JSON.stringify(before));
  await step(
    'census',
    `${before.tables.rides ?? 0} rides, ${before.passengerKeys} passenger keys` +
      (counted ? ' (counted by an earlier run)' : ' counted'),
  );

  if (!done.has('certificate')) {
    // Destroying is idempotent: a resumed run repeats these steps, which also catches any straggler.
    const systemKeys = (await repo.systemKeyNames(db)).filter((n) => !isKeptSystemKey(n));
    await db.transaction().execute((tx) => repo.destroyKeys(tx, systemKeys));
    await step(
      'keys',
      `day keys, passenger keys and system keys ${systemKeys.join(', ') || '(none left)'} destroyed`,
    );

    const partitions = await repo.ridePartitions(db);
    for (const p of partitions) await repo.dropPartition(db, p);
    await step('rides', `${partitions.length} ride partition(s) dropped`);

    await db.transaction().execute((tx) => clearRecords(tx, actor, now()));
    await step('records', 'personal data deleted or cleared, open cases closed');
  }

  const json = await db.transaction().execute(async (tx) => {
    const row = (await repo.findProgrammeForUpdate(tx))!;
    if (row.certificate) return row.certificate;
    const at = now();
    await appendAudit(tx, {
      actor,
      action: 'programme.wind_down',
      caseId: null,
      people: before.passengerKeys,
      requestId: null,
      by: { kind: 'system', name: 'wind-down', agency: null },
      facts: {
        deployment: name,
        dayKeys: before.dayKeys.length,
        passengerKeys: before.passengerKeys,
        systemKeys: before.systemKeys.filter((n) => !isKeptSystemKey(n)).join(','),
        ridePartitions: before.ridePartitions.length,
        rides: before.tables.rides ?? 0,
        casesClosed: before.openCases,
      },
    });
    const head = (await repo.auditHead(tx)) ?? { seq: 0, hash: GENESIS_HASH };
    const after = await takeCensus(tx, at);
    const certificate = certificateOf({ name, actor, stoppedAt: row.ended_at, at, before, after, head });
    const key = deps.config.audit.signingKey;
    const s = key
      ? signCertificate(certificate, key, 'audit-signing-key')
      : signCertificate(certificate, generateKeyPairSync('ed25519').privateKey, 'generated');
    const text = `${JSON.stringify(s, null, 2)}\n`;
    await repo.saveCertificate(tx, text);
    await repo.addStep(tx, 'certificate');
    return text;
  });
  const signed = JSON.parse(json) as SignedCertificate;
  done.add('certificate');
  await step(
    'certificate',
    `signed (key ${signed.signature.keyId}), audit head ${signed.certificate.auditHead.seq}`,
  );

  await opts.publish(signed, json);
  await db.transaction().execute(async (tx) => {
    await repo.markCompleted(tx, now());
    await repo.addStep(tx, 'published');
  });
  done.add('published');
  await opts.onStep?.('published', 'certificate written');
  return { kind: 'done', signed, json, resumed: existing !== undefined };
}

/** Deletes the rows, clears the columns and ends the states WIND_DOWN_PLAN names (in the caller's transaction). */
async function clearRecords(tx: Db, actor: string, at: Date): Promise<void> {
  for (const table of PLAN_TABLES) {
    const fate: TableFate<unknown> = WIND_DOWN_PLAN[table];
    if (fate.rows === 'delete') await repo.deleteAllRows(tx, table);
    if (fate.rows !== 'keep') continue;
    const columns = Object.entries(fate.columns as Record<string, ColumnFate>).filter(
      (c): c is [string, Exclude<ColumnFate, 'keep' | 'generated'>] =>
        c[1] !== 'keep' && c[1] !== 'generated',
    );
    await repo.clearColumns(tx, table, columns, at);
  }
  await repo.closeOpenCases(tx, actor, at);
  await repo.endRevealGrants(tx, at);
  await repo.disableOfficialClients(tx, at);
}

async function takeCensus(db: Db, at: Date): Promise<Census> {
  const tables: Record<string, number> = {};
  for (const t of PLAN_TABLES) tables[t] = await repo.countRows(db, t);
  const personalData: Record<string, number> = {};
  for (const [t, c, fate] of clearedColumns())
    personalData[`${t}.${c}`] = await repo.countHeld(db, t, c, fate);
  return {
    at: at.toISOString(),
    tables,
    personalData,
    ridePartitions: await repo.ridePartitions(db),
    dayKeys: await repo.dayKeyDays(db),
    systemKeys: await repo.systemKeyNames(db),
    passengerKeys: await repo.countPassengerKeys(db),
    masterKeyIds: await repo.masterKeyIdsInUse(db),
    openCases: await repo.countOpenCases(db),
    activeOfficials: await repo.countActiveOfficials(db),
  };
}

function certificateOf(f: {
  name: string;
  actor: string;
  stoppedAt: Date;
  at: Date;
  before: Census;
  after: Census;
  head: { seq: number; hash: string };
}): DestructionCertificate {
  const { before, after } = f;
  const tables: DestructionCertificate['tables'] = {};
  for (const t of PLAN_TABLES) {
    const rows = WIND_DOWN_PLAN[t].rows;
    tables[t] = {
      fate: rows === 'keep' ? 'kept' : rows === 'delete' ? 'deleted' : rows,
      before: before.tables[t] ?? 0,
      after: after.tables[t] ?? 0,
    };
  }
  const personalData: DestructionCertificate['personalData'] = {};
  for (const [column, n] of Object.entries(before.personalData))
    personalData[column] = { before: n, after: after.personalData[column] ?? 0 };
  return {
    kind: CERTIFICATE_KIND,
    version: 1,
    deployment: f.name,
    registrationsStoppedAt: f.stoppedAt.toISOString(),
    destroyedAt: f.at.toISOString(),
    by: f.actor,
    tables,
    personalData,
    keysDestroyed: {
      dayKeys: before.dayKeys,
      systemKeys: before.systemKeys.filter((n) => !isKeptSystemKey(n)),
      passengerDataKeys: before.passengerKeys,
    },
    keysKept: {
      systemKeys: before.systemKeys.filter(isKeptSystemKey),
      why: 'code-signing keys sign the vehicle codes on posters and protect no personal data',
    },
    ridePartitionsDropped: before.ridePartitions,
    casesClosed: before.openCases - after.openCases,
    accountsDisabled: {
      officials: before.activeOfficials.persons - after.activeOfficials.persons,
      officialClients: before.activeOfficials.clients - after.activeOfficials.clients,
    },
    auditHead: f.head,
    outsideTheDatabase: {
      masterKeyIds: before.masterKeyIds,
      note:
        'These master keys wrapped every key destroyed here. Copies of the database made before the wind-down ' +
        '(backups, replicas, dumps) still hold the wrapped keys and the sealed data: destroy those copies and the ' +
        'master keys to make them unreadable too.',
    },
  };
}
