import {
  appendAudit,
  auditKeyId,
  auditPublicKeys,
  ConfigError,
  createDb,
  type Db,
  freePort,
  loadConfig,
  resolveAuditSigningKey,
  verifyAuditChain,
  verifyAuditCheckpoints,
  writeCheckpoint,
  type AuditCheckpoint,
} from '@ridetrace/server';
import { sql } from 'kysely';
import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup, useSharedDatabase } from '../support/fixtures.js';
import { runPnpm } from '../support/run-cli.js';
import { createTestDatabase, type TestDatabase } from '../support/test-app.js';

const cleanup = useCleanup();

interface TestKey {
  privateKey: KeyObject;
  /** PKCS#8 PEM, one accepted form of RIDETRACE_AUDIT_SIGNING_KEY. */
  pem: string;
  /** base64 of the 32-byte seed, the other. */
  seed: string;
  /** base64 of the raw 32-byte public key (RIDETRACE_AUDIT_PUBLIC_KEY). */
  publicRaw: string;
  publicKey: KeyObject;
}

function newKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privateKey,
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    seed: der.subarray(der.length - 32).toString('base64'),
    publicRaw: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64'),
    publicKey,
  };
}

const key = newKey();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-checkpoints-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  cleanup.add(() => database.drop());
  return database;
}

let appended = 0;
async function append(db: Db, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await appendAudit(db, {
      actor: 'official-1',
      action: 'exposures.read',
      caseId: null,
      people: ++appended,
      requestId: null,
      detail: `read ${appended}`,
    });
  }
}

/** Every checkpoint line in `dir`, in file and line order. */
async function checkpointLines(dir: string): Promise<(AuditCheckpoint & { file: string; line: number })[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.jsonl')).sort();
  const out: (AuditCheckpoint & { file: string; line: number })[] = [];
  for (const file of files) {
    const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n').filter(Boolean);
    lines.forEach((l, i) => out.push({ ...(JSON.parse(l) as AuditCheckpoint), file, line: i + 1 }));
  }
  return out;
}

async function hashAt(db: Db, seq: number): Promise<string> {
  const row = await db
    .selectFrom('audit_log')
    .select('hash')
    .where('seq', '=', seq)
    .executeTakeFirstOrThrow();
  return row.hash;
}

/** `pnpm audit:verify --dir` as an auditor runs it: the database and the public key only. */
function runAuditVerify(database: TestDatabase, dir: string) {
  return runPnpm(['audit:verify', '--dir', dir], {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    RIDETRACE_AUDIT_PUBLIC_KEY: key.publicRaw,
  });
}

/** As the database superuser: the append-only trigger off while `change` runs. */
async function behindTheTrigger(db: Db, change: () => Promise<unknown>): Promise<void> {
  await sql`alter table audit_log disable trigger audit_log_no_update`.execute(db);
  try {
    await change();
  } finally {
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(db);
  }
}

/** The documented entry hash (audit.service.ts), recomputed by an attacker who knows it. */
function entryHash(e: {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  case_id: string | null;
  people: number;
  request_id: string | null;
  detail: string | null;
  prev_hash: string;
}): string {
  const fields = [e.seq, e.at.toISOString(), e.actor, e.action, e.case_id, e.people, e.request_id, e.detail];
  return createHash('sha256')
    .update(JSON.stringify([...fields, e.prev_hash]))
    .digest('hex');
}

/** Changes the detail of entry `seq` and recomputes every hash from there on, so the chain alone verifies. */
async function rewriteChain(db: Db, seq: number, detail: string): Promise<void> {
  const rows = await db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
  await behindTheTrigger(db, async () => {
    let prev = rows[seq - 2]?.hash ?? '0'.repeat(64);
    for (const row of rows.slice(seq - 1)) {
      const changed = { ...row, detail: row.seq === seq ? detail : row.detail, prev_hash: prev };
      const hash = entryHash(changed);
      await db
        .updateTable('audit_log')
        .set({ detail: changed.detail, prev_hash: prev, hash })
        .where('seq', '=', row.seq)
        .execute();
      prev = hash;
    }
  });
}

describe('audit checkpoints', () => {
  it('are signed chain heads, one per new head, that verify (also with `pnpm audit:verify` and the public key alone)', async () => {
    const database = await freshDatabase();
    const dir = await tempDir();
    const ctx = { db: database.db, dir, signingKey: key.privateKey };

    const genesis = await writeCheckpoint(ctx);
    expect(genesis).toMatchObject({ seq: 0, hash: '0'.repeat(64) });
    await append(database.db, 3);
    expect(await writeCheckpoint(ctx)).toMatchObject({ seq: 3 });
    expect(await writeCheckpoint(ctx)).toBeNull(); // nothing new
    await append(database.db, 2);
    const third = await writeCheckpoint(ctx);
    expect(third).toMatchObject({ seq: 5, hash: await hashAt(database.db, 5) });

    const lines = await checkpointLines(dir);
    expect(lines.map((c) => c.seq)).toEqual([0, 3, 5]);
    const month = new Date().toISOString().slice(0, 7);
    for (const c of lines) {
      expect(c.file).toBe(`checkpoints-${month}.jsonl`);
      expect(Object.keys(c).sort()).toEqual(['at', 'file', 'hash', 'keyId', 'line', 'seq', 'signature']);
      expect(c.keyId).toBe(auditKeyId(key.publicKey));
      expect(c.keyId).toMatch(/^[0-9a-f]{16}$/);
      // The documented message, checked without the module: Ed25519 over the JSON of [seq, hash, at].
      const message = Buffer.from(JSON.stringify([c.seq, c.hash, c.at]));
      expect(verify(null, message, key.publicKey, Buffer.from(c.signature, 'base64'))).toBe(true);
      if (c.seq > 0) expect(c.hash).toBe(await hashAt(database.db, c.seq));
    }

    const report = await verifyAuditCheckpoints(database.db, { dir, publicKeys: [key.publicKey] });
    expect(report).toMatchObject({
      ok: true,
      entries: 5,
      checkpoints: 3,
      firstBroken: null,
      last: { seq: 5, at: third!.at },
      chain: { ok: true, entries: 5, firstBroken: null },
    });
    const cli = await runAuditVerify(database, dir);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('audit chain intact: 5 entries');
    expect(cli.stdout).toContain('audit checkpoints verified: 3 checkpoints');
  }, 60_000);

  it('find a chain a superuser rewrote and rehashed: the first checkpoint after the change, hash_mismatch; the CLI exits 1', async () => {
    const database = await freshDatabase();
    const dir = await tempDir();
    const ctx = { db: database.db, dir, signingKey: key.privateKey };
    await append(database.db, 4);
    await writeCheckpoint(ctx); // seq 4
    await append(database.db, 4);
    await writeCheckpoint(ctx); // seq 8
    await append(database.db, 2);

    await rewriteChain(database.db, 6, 'nothing to see');
    // The chain alone cannot tell: every hash was recomputed.
    expect(await verifyAuditChain(database.db)).toEqual({ ok: true, entries: 10, firstBroken: null });
    const report = await verifyAuditCheckpoints(database.db, { dir, publicKeys: [key.publicKey] });
    const file = `checkpoints-${new Date().toISOString().slice(0, 7)}.jsonl`;
    expect(report).toMatchObject({
      ok: false,
      checkpoints: 1,
      firstBroken: { seq: 8, file, line: 2, reason: 'hash_mismatch' },
      chain: { ok: true },
    });

    const cli = await runAuditVerify(database, dir);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`audit checkpoint BROKEN at seq=8 (${file}:2): hash_mismatch`);
    expect(cli.stdout).not.toContain('audit checkpoints verified');

    // A rewrite of an entry no checkpoint covers yet is not caught by the checkpoints (the next one signs it).
    const untouched = await freshDatabase();
    const ctx2 = { db: untouched.db, dir: await tempDir(), signingKey: key.privateKey };
    await append(untouched.db, 3);
    await writeCheckpoint(ctx2);
    await append(untouched.db, 2);
    await rewriteChain(untouched.db, 5, 'after the last checkpoint');
    const report2 = await verifyAuditCheckpoints(untouched.db, {
      dir: ctx2.dir,
      publicKeys: [key.publicKey],
    });
    expect(report2.ok).toBe(true);
  }, 60_000);

  it('find a cut tail: missing_entry', async () => {
    const database = await freshDatabase();
    const dir = await tempDir();
    const ctx = { db: database.db, dir, signingKey: key.privateKey };
    await append(database.db, 3);
    await writeCheckpoint(ctx);
    await append(database.db, 3);
    await writeCheckpoint(ctx);
    await behindTheTrigger(database.db, () =>
      database.db.deleteFrom('audit_log').where('seq', '>', 4).execute(),
    );
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
    const report = await verifyAuditCheckpoints(database.db, { dir, publicKeys: [key.publicKey] });
    expect(report.firstBroken).toMatchObject({ seq: 6, line: 2, reason: 'missing_entry' });
    expect(report.ok).toBe(false);
  });

  it('report an edited line, a line signed by another key and a torn line: signature', async () => {
    const database = await freshDatabase();
    const dir = await tempDir();
    const ctx = { db: database.db, dir, signingKey: key.privateKey };
    for (let i = 0; i < 3; i++) {
      await append(database.db, 2);
      await writeCheckpoint(ctx);
    }
    const [c1, c2, c3] = await checkpointLines(dir);
    const file = path.join(dir, c1!.file);
    const original = await readFile(file, 'utf8');
    const check = () => verifyAuditCheckpoints(database.db, { dir, publicKeys: [key.publicKey] });
    expect((await check()).ok).toBe(true);

    // An edited hash (the one the entry now has after a rewrite, say): the signature no longer matches.
    const edited = original.replace(c2!.hash, c1!.hash);
    await writeFile(file, edited);
    expect(await check()).toMatchObject({
      ok: false,
      checkpoints: 1,
      firstBroken: { seq: c2!.seq, file: c1!.file, line: 2, reason: 'signature' },
    });

    // A line signed by a key not given to the verifier (a forger's own key).
    const forger = { ...ctx, dir: await tempDir(), signingKey: newKey().privateKey };
    const forged = await writeCheckpoint({ ...forger });
    await writeFile(file, original + JSON.stringify(forged) + '\n');
    expect((await check()).firstBroken).toMatchObject({ seq: c3!.seq, line: 4, reason: 'signature' });

    // Not a checkpoint at all (a write torn by a crash).
    await writeFile(file, original + '{"seq":7,"ha\n');
    expect((await check()).firstBroken).toMatchObject({ seq: null, line: 4, reason: 'signature' });
    // The next checkpoint starts on its own line after a torn one.
    await writeFile(file, original + '{"seq":7,"ha');
    await append(database.db, 1);
    await writeCheckpoint(ctx);
    const after = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(after).toHaveLength(5);
    expect(JSON.parse(after[4]!)).toMatchObject({ seq: 7 });

    // A rotated key: checkpoints of both keys verify when both public keys are given.
    await writeFile(file, original);
    const next = newKey();
    await append(database.db, 1);
    await writeCheckpoint({ ...ctx, signingKey: next.privateKey });
    expect((await check()).firstBroken).toMatchObject({ line: 4, reason: 'signature' });
    const both = await verifyAuditCheckpoints(database.db, {
      dir,
      publicKeys: [key.publicKey, next.publicKey],
    });
    expect(both).toMatchObject({ ok: true, checkpoints: 4 });
  });

  it('are also POSTed to the witness; a witness that is down is logged, never fatal', async () => {
    const database = await freshDatabase();
    const received: unknown[] = [];
    const witness = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ type: req.headers['content-type'], body: JSON.parse(body) as unknown });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => witness.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise((resolve) => witness.close(resolve)));
    const port = (witness.address() as { port: number }).port;
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg?: string) => warnings.push(msg ?? ''), error: () => undefined };
    const ctx = { db: database.db, dir: await tempDir(), signingKey: key.privateKey, log };

    await append(database.db, 1);
    const c = await writeCheckpoint({ ...ctx, witnessUrl: `http://127.0.0.1:${port}/checkpoints` });
    expect(received).toEqual([{ type: 'application/json', body: c }]);
    expect(warnings).toEqual([]);

    await append(database.db, 1);
    const down = await writeCheckpoint({ ...ctx, witnessUrl: `http://127.0.0.1:${await freePort()}/` });
    expect(down).toMatchObject({ seq: 2 });
    expect(warnings).toEqual(['audit witness unreachable']);
    expect((await checkpointLines(ctx.dir)).map((x) => x.seq)).toEqual([1, 2]);
  });
});

describe('audit checkpoints in the server', () => {
  const shared = useSharedDatabase();

  function serverEnv(dir: string, seconds: number): Record<string, string> {
    return {
      AUDIT_CHECKPOINT_DIR: dir,
      AUDIT_CHECKPOINT_SECONDS: String(seconds),
      RIDETRACE_AUDIT_SIGNING_KEY: key.pem,
    };
  }

  it('two processes on one database checkpoint each new head once (advisory lock)', async () => {
    // Two pools, as two processes have, writing at the same moment, round after round.
    const dir = await tempDir();
    const pools = [1, 2].map(() => createDb({ connectionString: shared.database.url, max: 2 }));
    try {
      for (let round = 0; round < 5; round++) {
        await append(shared.database.db, 1);
        const results = await Promise.all(
          pools.map((db) => writeCheckpoint({ db, dir, signingKey: key.privateKey })),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    } finally {
      await Promise.all(pools.map((p) => p.destroy()));
    }
    const lines = await checkpointLines(dir);
    expect(lines).toHaveLength(5);
    expect(new Set(lines.map((c) => c.seq)).size).toBe(5);

    // Two servers ticking every second on one directory: one checkpoint per new head, none repeated.
    const serverDir = await tempDir();
    await shared.server(serverEnv(serverDir, 1));
    await shared.server(serverEnv(serverDir, 1));
    for (let i = 0; i < 2; i++) {
      await append(shared.database.db, 2);
      await new Promise((resolve) => setTimeout(resolve, 2500));
    }
    const seqs = (await checkpointLines(serverDir)).map((c) => c.seq);
    const head = (await verifyAuditChain(shared.database.db)).entries;
    expect(seqs.at(-1)).toBe(head);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBeLessThanOrEqual(3);
  }, 30_000);

  it('a server writes a checkpoint when it closes, if anything is new', async () => {
    const dir = await tempDir();
    const first = await shared.server(serverEnv(dir, 3600));
    const second = await shared.server(serverEnv(dir, 3600));
    await append(shared.database.db, 3);
    await first.close();
    const head = (await verifyAuditChain(shared.database.db)).entries;
    const lines = await checkpointLines(dir);
    expect(lines.map((c) => c.seq)).toEqual([head]);
    expect(lines[0]!.hash).toBe(await hashAt(shared.database.db, head));
    await second.close();
    expect(await checkpointLines(dir)).toHaveLength(1);
    const report = await verifyAuditCheckpoints(shared.database.db, { dir, publicKeys: [key.publicKey] });
    expect(report).toMatchObject({ ok: true, checkpoints: 1 });
  });
});

describe('audit checkpoint configuration', () => {
  const production = {
    NODE_ENV: 'production',
    RIDETRACE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
    DATABASE_URL: 'postgres://db/rt',
    PUBLIC_BASE_URL: 'https://rt.example.cn',
    SUPERAPP_BASE_URL: 'https://superapp.example.cn',
    SUPERAPP_APP_ID: 'wx',
    SUPERAPP_APP_SECRET: 's',
    SMS_BASE_URL: 'https://sms.example.cn',
    SMS_API_KEY: 'k',
    CONSENT_CONTROLLER: '深圳市交通运输局',
    CONSENT_CONTACT: 'privacy@rt.example.cn',
  };

  it('production refuses to start without a signing key and a directory, unless checkpoints are off', () => {
    expect(() => loadConfig(production)).toThrow(ConfigError);
    expect(() => loadConfig(production)).toThrow(/RIDETRACE_AUDIT_SIGNING_KEY.*AUDIT_CHECKPOINT_DIR/);
    expect(() => loadConfig({ ...production, RIDETRACE_AUDIT_SIGNING_KEY: key.seed })).toThrow(
      /AUDIT_CHECKPOINT_DIR/,
    );
    const on = loadConfig({
      ...production,
      RIDETRACE_AUDIT_SIGNING_KEY: key.seed,
      AUDIT_CHECKPOINT_DIR: '/x',
    });
    expect(on.audit).toMatchObject({ checkpointSeconds: 300, checkpointDir: '/x' });
    expect(() =>
      resolveAuditSigningKey({ ...on, audit: { ...on.audit, signingKey: undefined } }, () => {}),
    ).toThrow();
    expect(loadConfig({ ...production, AUDIT_CHECKPOINT_SECONDS: '0' }).audit.checkpointSeconds).toBe(0);
  });

  it('test mode checkpoints only into an explicit directory; development on the embedded database under .data', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).audit.checkpointDir).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test', AUDIT_CHECKPOINT_DIR: '/tmp/cp' }).audit.checkpointDir).toBe(
      '/tmp/cp',
    );
    const dev = loadConfig({ NODE_ENV: 'development', RIDETRACE_ROOT: '/srv/rt' });
    expect(dev.audit.checkpointDir).toBe('/srv/rt/.data/audit-checkpoints');
    // The default belongs to the embedded dev database, not to any DATABASE_URL (benchmarks, reliability runs).
    const other = loadConfig({
      NODE_ENV: 'development',
      RIDETRACE_ROOT: '/srv/rt',
      DATABASE_URL: 'postgres://x/y',
    });
    expect(other.audit.checkpointDir).toBeUndefined();
  });

  it('reads the key as PEM or as the base64 seed, from the environment or a file; refuses anything else', async () => {
    const id = auditKeyId(key.publicKey);
    expect(auditKeyId(loadConfig({ RIDETRACE_AUDIT_SIGNING_KEY: key.pem }).audit.signingKey!)).toBe(id);
    expect(auditKeyId(loadConfig({ RIDETRACE_AUDIT_SIGNING_KEY: key.seed }).audit.signingKey!)).toBe(id);
    const file = path.join(await tempDir(), 'audit.pem');
    await writeFile(file, key.pem, { mode: 0o600 });
    expect(auditKeyId(loadConfig({ RIDETRACE_AUDIT_SIGNING_KEY_FILE: file }).audit.signingKey!)).toBe(id);
    expect(() => loadConfig({ RIDETRACE_AUDIT_SIGNING_KEY_FILE: `${file}.missing` })).toThrow(
      /does not exist/,
    );

    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    for (const bad of [
      'short',
      Buffer.alloc(31).toString('base64'),
      rsa.export({ format: 'pem', type: 'pkcs8' }),
    ])
      expect(() => loadConfig({ RIDETRACE_AUDIT_SIGNING_KEY: bad.toString() })).toThrow(ConfigError);

    // Public keys for the auditor: raw base64 and PEM, several (rotation).
    const spki = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const other = newKey();
    const both = loadConfig({ RIDETRACE_AUDIT_PUBLIC_KEY: `${spki}\n${other.publicRaw}` });
    expect(auditPublicKeys(both).map(auditKeyId)).toEqual([id, auditKeyId(other.publicKey)]);
    expect(() => loadConfig({ RIDETRACE_AUDIT_PUBLIC_KEY: 'nope' })).toThrow(ConfigError);
    expect(() => loadConfig({ AUDIT_WITNESS_URL: 'ftp://x' })).toThrow(/AUDIT_WITNESS_URL/);
  });

  it('development generates a signing key once (mode 0600) and reuses it', async () => {
    const root = await tempDir();
    const config = loadConfig({ NODE_ENV: 'development', RIDETRACE_ROOT: root });
    expect(auditPublicKeys(config)).toEqual([]);
    const warnings: string[] = [];
    const first = resolveAuditSigningKey(config, (m) => warnings.push(m));
    const file = path.join(root, '.data/audit-signing-key.pem');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    const again = resolveAuditSigningKey(config, (m) => warnings.push(m));
    expect(auditKeyId(again)).toBe(auditKeyId(first));
    expect(warnings).toHaveLength(1);
    expect(auditPublicKeys(config).map(auditKeyId)).toEqual([auditKeyId(createPublicKey(first))]);
  });
});
