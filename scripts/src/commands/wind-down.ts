import {
  auditKeyId,
  auditPublicKeys,
  canonicalJson,
  checkWindDownConfirmation,
  ConfigError,
  createDb,
  loadConfig,
  parseAuditPublicKeys,
  verifyCertificate,
  windDown,
  type Config,
  type DestructionCertificate,
  type SignedCertificate,
  type WindDownStep,
} from '@ridetrace/server';
import { Option, type Command } from 'commander';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { withConfiguredDatabase } from '../db.js';
import { loadFonts, type Fonts } from '@ridetrace/server';

const STEPS: readonly WindDownStep[] = [
  'stop',
  'census',
  'keys',
  'rides',
  'records',
  'certificate',
  'published',
];
const BASE_NAME = 'destruction-certificate';

/** The certificate's three files in `dir`. */
export function certificateFiles(dir: string): { json: string; pdf: string; publicKey: string } {
  return {
    json: path.join(dir, `${BASE_NAME}.json`),
    pdf: path.join(dir, `${BASE_NAME}.pdf`),
    publicKey: path.join(dir, `${BASE_NAME}.pub.pem`),
  };
}

/** A path as the user typed it: relative to where `pnpm cli` was run (pnpm runs the script in scripts/). */
function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** Written whole or not at all: a run killed mid-write leaves the old file (or none), and the rerun writes it. */
async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function publicKeyPem(signed: SignedCertificate): string {
  const x = Buffer.from(signed.signature.publicKey, 'base64').toString('base64url');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

async function writeCertificate(dir: string, signed: SignedCertificate, json: string): Promise<void> {
  const files = certificateFiles(dir);
  await mkdir(dir, { recursive: true });
  await writeAtomically(files.json, json);
  await writeAtomically(files.publicKey, publicKeyPem(signed));
  await writeAtomically(files.pdf, await renderCertificatePdf(signed, await loadFonts()));
}

// ---------------------------------------------------------------- PDF

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 50;

/** A range of day keys or partitions, short: "2026-11-01 … 2026-11-28 (28)". */
function span(items: readonly string[]): string {
  if (items.length === 0) return '—';
  if (items.length <= 3) return items.join(', ');
  return `${items[0]} … ${items.at(-1)} (${items.length})`;
}

/**
 * The certificate's facts for people to read, bilingual (Chinese and English, Noto Sans SC embedded). The JSON file
 * and its signature are the certificate; the PDF says so.
 */
export async function renderCertificatePdf(signed: SignedCertificate, fonts: Fonts): Promise<Buffer> {
  const c: DestructionCertificate = signed.certificate;
  const s = signed.signature;
  const doc = new PDFDocument({
    size: A4,
    margin: MARGIN,
    info: {
      Title: `数据销毁证明 / Destruction certificate: ${c.deployment}`,
      Author: c.by,
      Creator: 'RideTrace',
      CreationDate: new Date(c.destroyedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('regular', fonts.regular);
  doc.registerFont('bold', fonts.bold);
  const width = A4[0] - 2 * MARGIN;

  const heading = (zh: string, en: string) => {
    if (doc.y > A4[1] - MARGIN - 80) doc.addPage();
    doc.moveDown(0.8).font('bold').fontSize(12).fillColor('#000000').text(`${zh}  ${en}`, MARGIN);
    doc.moveDown(0.3);
  };
  const fact = (label: string, value: string) => {
    doc.font('bold').fontSize(9).text(`${label}: `, MARGIN, undefined, { continued: true, width });
    doc.font('regular').text(value, { width });
  };
  /** One table row; `cols` are the x offsets of the columns after the first. */
  const row = (cells: string[], cols: number[], bold = false) => {
    if (doc.y > A4[1] - MARGIN - 20) doc.addPage();
    const y = doc.y;
    doc.font(bold ? 'bold' : 'regular').fontSize(8.5);
    const xs = [0, ...cols];
    let bottom = y;
    cells.forEach((cell, i) => {
      const w = (xs[i + 1] ?? width) - xs[i]! - 6;
      doc.text(cell, MARGIN + xs[i]!, y, { width: w });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = MARGIN;
    doc.y = bottom + 1;
  };

  doc.font('bold').fontSize(18).text('数据销毁证明', { align: 'center' });
  doc.font('regular').fontSize(13).text('Destruction certificate', { align: 'center' });
  doc.moveDown(0.5);
  doc
    .fontSize(9)
    .fillColor('#333333')
    .text(
      '乘车登记项目已结束：停止登记新的个人信息，销毁了保护个人信息的全部密钥，删除或清空了全部个人信息字段。',
      { width },
    )
    .moveDown(0.3)
    .text(
      'The ride registration programme has ended: no new personal data is accepted, every key that protected ' +
        'personal data was destroyed, and every personal-data column was deleted or cleared.',
      { width },
    )
    .fillColor('#000000');

  heading('概况', 'Summary');
  fact('部署 Deployment', c.deployment);
  fact('停止登记 Registrations stopped', c.registrationsStoppedAt);
  fact('销毁完成 Destroyed at', c.destroyedAt);
  fact('执行者 By', c.by);
  fact('已结案 Cases closed', String(c.casesClosed));
  fact(
    '已停用账号 Accounts disabled',
    `${c.accountsDisabled.officials} official(s), ${c.accountsDisabled.officialClients} health-system client(s)`,
  );
  fact('审计链 Audit chain head', `seq ${c.auditHead.seq}, hash ${c.auditHead.hash}`);

  heading('已销毁密钥', 'Keys destroyed');
  fact('按日乘车密钥 Day keys', span(c.keysDestroyed.dayKeys));
  fact('乘客数据密钥 Passenger data keys', String(c.keysDestroyed.passengerDataKeys));
  fact('系统密钥 System keys', c.keysDestroyed.systemKeys.join(', ') || '—');
  fact('保留 Kept', `${c.keysKept.systemKeys.join(', ') || '—'} (${c.keysKept.why})`);
  fact('已删除乘车分区 Ride partitions dropped', span(c.ridePartitionsDropped));

  heading('数据表（行数）', 'Tables (rows)');
  const tableCols = [190, 290, 380];
  row(['表 Table', '处理 Fate', '之前 Before', '之后 After'], tableCols, true);
  for (const [table, t] of Object.entries(c.tables)) {
    row([table, t.fate, String(t.before), String(t.after)], tableCols);
  }

  heading('个人信息字段（有值的行数）', 'Personal-data columns (rows holding a value)');
  const columnCols = [290, 380];
  row(['字段 Column', '之前 Before', '之后 After'], columnCols, true);
  for (const [column, n] of Object.entries(c.personalData)) {
    row([column, String(n.before), String(n.after)], columnCols);
  }

  heading('数据库之外', 'Outside the database');
  fact('主密钥 Master keys', c.outsideTheDatabase.masterKeyIds.join(', ') || '—');
  doc.font('regular').fontSize(9).text(c.outsideTheDatabase.note, MARGIN, undefined, { width });
  doc.text('请销毁上述主密钥以及项目结束前的全部数据库备份、副本和导出文件。', { width });

  heading('签名', 'Signature');
  fact('算法 Algorithm', s.algorithm);
  fact(
    '密钥 Key id',
    `${s.keyId} (${s.key === 'generated' ? 'generated for this certificate' : 'audit signing key'})`,
  );
  fact('公钥 Public key (raw, base64)', s.publicKey);
  fact('签名 Signature (base64)', s.value);
  fact('内容摘要 SHA-256 of the signed facts', createHash('sha256').update(canonicalJson(c)).digest('hex'));
  doc.moveDown(0.5);
  doc
    .font('regular')
    .fontSize(9)
    .text(
      '本 PDF 仅供阅读；以 JSON 文件及其签名为准。验证 / To verify (the JSON file and its signature are the ' +
        `certificate; this PDF only shows its facts): pnpm cli wind-down verify ${BASE_NAME}.json ` +
        '[--public-key audit-public.pem]',
      MARGIN,
      undefined,
      { width },
    );
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------- verify

/** Keys to check a certificate with: the file given, else the configured audit keys for an audit-key signature. */
async function verificationKeys(
  publicKeyFile: string | undefined,
  signed: SignedCertificate,
): Promise<KeyObject[]> {
  if (publicKeyFile) {
    const file = userPath(publicKeyFile);
    return parseAuditPublicKeys(await readFile(file, 'utf8'), file);
  }
  if (signed.signature?.key !== 'audit-signing-key') return [];
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return [];
    throw err;
  }
  return auditPublicKeys(config);
}

async function verifyCommand(file: string, opts: { publicKey?: string }): Promise<void> {
  const certFile = userPath(file);
  let doc: SignedCertificate;
  try {
    doc = JSON.parse(await readFile(certFile, 'utf8')) as SignedCertificate;
  } catch (err) {
    console.error(`error: cannot read ${certFile}: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const keys = await verificationKeys(opts.publicKey, doc);
  const check = verifyCertificate(doc, keys);
  if (!check.ok) {
    const why = {
      malformed: 'the file is not a signed destruction certificate',
      unknown_key: `no public key given (--public-key, or the configured audit keys) has the signature's key id ${check.keyId}`,
      signature: 'the signature does not match the certificate: it was changed after signing',
    }[check.problem ?? 'malformed'];
    console.error(`INVALID: ${why}`);
    process.exitCode = 1;
    return;
  }
  const c = doc.certificate;
  console.log(`valid: signed by key ${check.keyId} (${doc.signature.key})`);
  if (!check.trustedKey) {
    console.log(
      '  checked with the public key the certificate carries: this proves it is unchanged since signing; compare the ' +
        'key id with one you trust (or pass --public-key)',
    );
    const sibling = certificateFiles(path.dirname(certFile)).publicKey;
    if (existsSync(sibling)) {
      const ids = parseAuditPublicKeys(await readFile(sibling, 'utf8'), sibling).map(auditKeyId);
      console.log(`  ${path.basename(sibling)}: key id ${ids.join(', ')}`);
    }
  }
  console.log(`deployment:   ${c.deployment}`);
  console.log(`stopped:      ${c.registrationsStoppedAt}`);
  console.log(`destroyed:    ${c.destroyedAt}`);
  console.log(`audit head:   seq ${c.auditHead.seq} ${c.auditHead.hash}`);
  console.log(
    `keys:         ${c.keysDestroyed.dayKeys.length} day, ${c.keysDestroyed.passengerDataKeys} passenger, ` +
      `system ${c.keysDestroyed.systemKeys.join(',') || '-'}`,
  );
  const held = Object.values(c.personalData).reduce((n, v) => n + v.after, 0);
  console.log(`personal data left in cleared columns: ${held}`);
}

// ---------------------------------------------------------------- wind-down

/** `wind-down --confirm NAME [--out DIR]`, `wind-down verify FILE`. */
export function registerWindDownCommands(program: Command): void {
  const cmd = program
    .command('wind-down')
    .description(
      'end the programme: refuse new registrations on every server, destroy every key and all personal data, ' +
        'close open cases, write a signed destruction certificate (JSON, PDF, public key); resumable, audited',
    )
    .option('--confirm <name>', "this deployment's name (DEPLOYMENT_NAME), exactly")
    .option('--out <dir>', 'directory of the certificate files (default: the data directory, .data/)')
    .addOption(
      new Option('--pause-after <step>', 'test hook: after this step, wait until killed')
        .choices(STEPS)
        .hideHelp(),
    )
    .action((opts: { confirm?: string; out?: string; pauseAfter?: WindDownStep }) => runWindDown(opts));
  cmd
    .command('verify')
    .description("check a destruction certificate's signature (no database needed)")
    .argument('<certificate.json>', 'the certificate file')
    .option(
      '--public-key <file>',
      'Ed25519 public key(s) to trust (PEM or base64), e.g. the audit public key',
    )
    .action((file: string, opts: { publicKey?: string }) =>
      verifyCommand(file, opts).catch((err: unknown) => {
        console.error(`error: ${(err as Error).message}`);
        process.exitCode = 1;
      }),
    );
  cmd.addHelpText(
    'after',
    `
Example:
  pnpm cli wind-down --confirm "深圳公交乘车登记" --out /secure/ridetrace-end
  pnpm cli wind-down verify /secure/ridetrace-end/destruction-certificate.json --public-key audit-public.pem`,
  );
}

async function runWindDown(opts: { confirm?: string; out?: string; pauseAfter?: WindDownStep }) {
  if (opts.confirm === undefined) {
    console.error('error: --confirm "<this deployment\'s name>" is required (DEPLOYMENT_NAME, exactly)');
    process.exitCode = 1;
    return;
  }
  // Refused before the database is even opened: a wrong phrase changes nothing.
  try {
    checkWindDownConfirmation(loadConfig(), opts.confirm);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  await withConfiguredDatabase(async (config, database) => {
    const out = opts.out ? userPath(opts.out) : config.dataDir;
    // Its own pool without statement timeouts: whole tables are counted and cleared.
    const db = createDb({ connectionString: database.url, max: 1, statementTimeoutMillis: 0 });
    try {
      const outcome = await windDown(
        { config, db },
        {
          confirm: opts.confirm!,
          onStep: async (step, note) => {
            console.log(`✓ ${step}: ${note}`);
            if (step === opts.pauseAfter) {
              console.log(`paused after ${step}`);
              await new Promise(() => setInterval(() => undefined, 1 << 30));
            }
          },
          publish: (signed, json) => writeCertificate(out, signed, json),
        },
      );
      if (outcome.kind === 'already') {
        console.log(
          `The programme of "${config.deploymentName}" already ended: wound down at ` +
            `${outcome.completedAt.toISOString()}. Nothing was changed.`,
        );
        if (outcome.signed)
          console.log(
            `Its certificate: audit head seq ${outcome.signed.certificate.auditHead.seq}, key ${outcome.signed.signature.keyId}.`,
          );
        return;
      }
      const files = certificateFiles(out);
      const c = outcome.signed.certificate;
      console.log(`${outcome.resumed ? 'Resumed and completed' : 'Completed'}: the programme has ended.`);
      console.log(`certificate: ${files.json}`);
      console.log(`             ${files.pdf}`);
      console.log(`public key:  ${files.publicKey} (key id ${outcome.signed.signature.keyId})`);
      console.log(`audit head:  seq ${c.auditHead.seq} ${c.auditHead.hash}`);
      console.log(
        `Next: stop every server, then destroy the master key(s) ${c.outsideTheDatabase.masterKeyIds.join(', ') || '(none)'} ` +
          `and every backup, replica or dump made before ${c.registrationsStoppedAt}.`,
      );
    } finally {
      await db.destroy();
    }
  });
}
