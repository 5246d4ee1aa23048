import {
  extractCodeToken,
  POSTER_SHEET_MAX,
  type Carrier,
  type CarrierImportResult,
  type CarrierKind,
  type CarrierCode,
  type CarrierPage,
  type CreateCarrierBody,
  type ImportCarriersBody,
  type ListCarriersQuery,
  type PosterSheetQuery,
  type StaffAccountList,
  type StaffBindings,
  type UpdateCarrierBody,
} from '@ridetrace/shared';
import QRCode from 'qrcode';
import { codeTokenKeyId, signCodeToken, verifyCodeToken, type CodeClaims } from '../../crypto/code-token.js';
import type { OperatorScope } from '../../actors.js';
import type { AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import type { CarrierRow } from '../../db/tables.js';
import { AppError } from '../../errors.js';
import { parseCursor } from '../../paging.js';
import { isUniqueViolation } from '../../db/errors.js';
import { existingOperators, findClient, listStaffClients, operatorExists } from '../admin/admin.service.js';
import { checkCarrierRows, CsvFileError, parseCarriersCsv, type CarrierRecord } from './carriers-csv.js';
import * as repo from './carriers.repository.js';
import { A5, layoutPoster, SHEET, type Poster } from './posters/layout.js';
import { loadFonts, renderPdf } from './posters/pdf.js';

export function toCarrier(row: CarrierRow): Carrier {
  return {
    id: row.id,
    operatorId: row.operator_id,
    kind: row.kind,
    plate: row.plate,
    route: row.route,
    city: row.city,
    status: row.retired_at ? 'retired' : 'active',
    codeGeneration: row.code_generation,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    retiredAt: row.retired_at?.toISOString() ?? null,
  };
}

/** Another operator's carrier answers 404 like a missing one: ids of other operators are not disclosed. */
async function ownCarrier(ctx: AppContext, who: OperatorScope, id: number): Promise<CarrierRow> {
  const row = await repo.findCarrier(ctx.db, id);
  if (!row || (who.operatorId !== null && row.operator_id !== who.operatorId))
    throw new AppError('carrier_not_found');
  return row;
}

export async function createCarrier(
  ctx: AppContext,
  who: OperatorScope,
  body: CreateCarrierBody,
): Promise<Carrier> {
  const operatorId = who.operatorId ?? body.operatorId;
  if (!operatorId) throw new AppError('validation_failed', 'operatorId is required for admins');
  if (who.operatorId !== null && body.operatorId !== undefined && body.operatorId !== who.operatorId) {
    throw new AppError('forbidden', 'Operators create carriers only for their own operator.');
  }
  if (!(await operatorExists(ctx.db, operatorId))) throw new AppError('operator_not_found');
  try {
    const row = await repo.insertCarrier(ctx.db, {
      operator_id: operatorId,
      kind: body.kind,
      plate: body.plate.trim(),
      route: body.route?.trim() ?? null,
      city: body.city.trim(),
    });
    return toCarrier(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('carrier_plate_taken');
    throw err;
  }
}

export async function getCarrier(ctx: AppContext, who: OperatorScope, id: number): Promise<Carrier> {
  return toCarrier(await ownCarrier(ctx, who, id));
}

export async function listCarriers(
  ctx: AppContext,
  who: OperatorScope,
  q: ListCarriersQuery,
): Promise<CarrierPage> {
  const limit = q.limit ?? 50;
  const afterId = parseCursor(q.cursor);
  if (who.operatorId !== null && q.operatorId !== undefined && q.operatorId !== who.operatorId) {
    throw new AppError('forbidden', 'Operators list only their own carriers.');
  }
  const rows = await repo.listCarriers(ctx.db, {
    operatorId: who.operatorId ?? q.operatorId,
    kind: q.kind,
    route: q.route,
    city: q.city,
    status: q.status,
    plate: q.plate,
    afterId,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map(toCarrier),
    nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
  };
}

export async function updateCarrier(
  ctx: AppContext,
  who: OperatorScope,
  id: number,
  body: UpdateCarrierBody,
): Promise<Carrier> {
  const current = await ownCarrier(ctx, who, id);
  if (current.retired_at) throw new AppError('carrier_retired');
  try {
    const row = await repo.updateCarrier(ctx.db, id, {
      ...(body.plate !== undefined ? { plate: body.plate.trim() } : {}),
      ...(body.route !== undefined ? { route: body.route?.trim() ?? null } : {}),
      ...(body.city !== undefined ? { city: body.city.trim() } : {}),
    });
    return toCarrier(row!);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('carrier_plate_taken');
    throw err;
  }
}

/** Retiring keeps the carrier (rides refer to it) but its codes stop working. Idempotent. */
export async function retireCarrier(ctx: AppContext, who: OperatorScope, id: number): Promise<Carrier> {
  const current = await ownCarrier(ctx, who, id);
  if (current.retired_at) return toCarrier(current);
  return toCarrier((await repo.updateCarrier(ctx.db, id, { retired_at: new Date() }))!);
}

export function codeUrl(ctx: AppContext, token: string): string {
  return `${ctx.config.publicBaseUrl}/c/${token}`;
}

/**
 * The QR content. Upper-case when the base URL has no path, so that the whole URL is in QR
 * alphanumeric mode (scheme and host are case-insensitive; our `/C/` route accepts both cases).
 */
export function codeQrContent(ctx: AppContext, token: string): string {
  const base = new URL(ctx.config.publicBaseUrl);
  return base.pathname === '/' ? `${ctx.config.publicBaseUrl}/C/${token}`.toUpperCase() : codeUrl(ctx, token);
}

/**
 * A carrier's code is not stored: it is signed on demand with the active code key, so after a key rotation the
 * same generation gets a new code under the new key, and the poster printed under the old key keeps scanning until
 * that key retires. Call `readActiveCodeKey` first.
 */
function toCode(ctx: AppContext, row: CarrierRow): CarrierCode {
  const token = signCodeToken(ctx.keyring, { carrierId: row.id, generation: row.code_generation });
  return { carrierId: row.id, generation: row.code_generation, token, url: codeQrContent(ctx, token) };
}

/** Codes are signed with the key the database says is active, even right after another process rotated it. */
function readActiveCodeKey(ctx: AppContext): Promise<void> {
  return ctx.keyring.readCodeKeys(ctx.db, ctx.now());
}

/** A new generation: every poster printed before (of any key) answers 410 code_revoked at once. */
export async function issueCode(ctx: AppContext, who: OperatorScope, id: number): Promise<CarrierCode> {
  const current = await ownCarrier(ctx, who, id);
  if (current.retired_at) throw new AppError('carrier_retired');
  const row = await repo.bumpCodeGeneration(ctx.db, id);
  if (!row) throw new AppError('carrier_retired');
  await readActiveCodeKey(ctx);
  return toCode(ctx, row);
}

export async function currentCode(ctx: AppContext, who: OperatorScope, id: number): Promise<CarrierCode> {
  const row = await ownCarrier(ctx, who, id);
  if (row.retired_at) throw new AppError('carrier_retired');
  await readActiveCodeKey(ctx);
  return toCode(ctx, row);
}

const QR_OPTIONS = { errorCorrectionLevel: 'M' as const, margin: 4 };

export async function codeSvg(ctx: AppContext, who: OperatorScope, id: number): Promise<string> {
  const code = await currentCode(ctx, who, id);
  return QRCode.toString(code.url, { ...QR_OPTIONS, type: 'svg' });
}

export async function codePng(
  ctx: AppContext,
  who: OperatorScope,
  id: number,
  size: number,
): Promise<Buffer> {
  const code = await currentCode(ctx, who, id);
  return QRCode.toBuffer(code.url, { ...QR_OPTIONS, type: 'png', width: size });
}

export async function bindStaff(
  ctx: AppContext,
  who: OperatorScope,
  id: number,
  clientId: string,
): Promise<StaffBindings> {
  const carrier = await ownCarrier(ctx, who, id);
  const client = await findClient(ctx.db, clientId);
  if (!client || client.role !== 'staff' || client.operatorId !== carrier.operator_id) {
    throw new AppError('staff_client_invalid');
  }
  await repo.bindStaff(ctx.db, clientId, id);
  return { carrierId: id, staff: await repo.listStaffOfCarrier(ctx.db, id) };
}

export async function unbindStaff(
  ctx: AppContext,
  who: OperatorScope,
  id: number,
  clientId: string,
): Promise<StaffBindings> {
  await ownCarrier(ctx, who, id);
  await repo.unbindStaff(ctx.db, clientId, id);
  return { carrierId: id, staff: await repo.listStaffOfCarrier(ctx.db, id) };
}

export async function listStaff(ctx: AppContext, who: OperatorScope, id: number): Promise<StaffBindings> {
  await ownCarrier(ctx, who, id);
  return { carrierId: id, staff: await repo.listStaffOfCarrier(ctx.db, id) };
}

/** Carriers a staff account is bound to (for the staff mode of the mini-program). */
export async function carriersOfStaff(ctx: AppContext, clientId: string): Promise<Carrier[]> {
  return (await repo.listCarriersOfStaff(ctx.db, clientId)).map(toCarrier);
}

/**
 * Signature check of a scanned code, in memory: a database read only when this process's view of the code keys
 * is a minute old, or the code names a key newer than any it knows (see Keyring.syncCodeKeys).
 */
export async function verifyScannedCode(ctx: AppContext, scanned: string): Promise<CodeClaims> {
  const token = extractCodeToken(scanned);
  if (!token) throw new AppError('code_malformed');
  const now = ctx.now();
  await ctx.keyring.syncCodeKeys(ctx.db, now, codeTokenKeyId(token));
  const v = verifyCodeToken(ctx.keyring, token, now);
  if (!v.ok) throw new AppError(v.error);
  return { carrierId: v.carrierId, generation: v.generation };
}

/**
 * Why a ride on this carrier cannot be registered (unknown, retired, a code of an old generation), or null.
 * `generation` is the scanned code's; null for staff registration, which names the carrier directly.
 */
export async function rideRefusal(
  db: Db,
  carrierId: number,
  generation: number | null,
): Promise<AppError | null> {
  const carrier = await repo.findCarrier(db, carrierId);
  if (generation === null) {
    if (!carrier) return new AppError('carrier_not_found');
    if (carrier.retired_at) return new AppError('carrier_retired');
    return null;
  }
  if (!carrier) return new AppError('code_carrier_unknown');
  if (carrier.retired_at) return new AppError('code_carrier_retired');
  if (carrier.code_generation !== generation) return new AppError('code_revoked');
  return null;
}

/** The carrier of a valid, current code (where a read is needed anyway: previews). */
export async function carrierForCode(ctx: AppContext, code: CodeClaims): Promise<Carrier> {
  const err = await rideRefusal(ctx.db, code.carrierId, code.generation);
  if (err) throw err;
  return toCarrier((await repo.findCarrier(ctx.db, code.carrierId))!);
}

/** 403 `carrier_not_bound` unless the staff account is bound to the carrier. */
export async function assertStaffBound(
  ctx: AppContext,
  staffClientId: string,
  carrierId: number,
): Promise<void> {
  if (!(await repo.isStaffBound(ctx.db, staffClientId, carrierId))) throw new AppError('carrier_not_bound');
}

export type { CarrierRecord };

/** What an import did; each record counts in exactly one of them. */
export interface CarrierImportCounts {
  created: number;
  updated: number;
  unchanged: number;
}

/**
 * Fleet import: every record in one transaction (all or nothing), upserted by operator and plate, `batchSize`
 * records per statement, `onProgress` after each. Running the same file again changes nothing. `records` must
 * hold each (operator, plate) once, of existing operators (`existingOperators`).
 */
export async function importCarriers(
  ctx: AppContext,
  records: readonly CarrierRecord[],
  opts: {
    batchSize: number;
    onProgress?: ((done: number, total: number) => void) | undefined;
    /** Count what the import would do, then roll it back. */
    dryRun?: boolean | undefined;
  },
): Promise<CarrierImportCounts> {
  const counts = { created: 0, updated: 0, unchanged: 0 };
  if (records.length === 0) return counts;
  try {
    await upsertInOneTransaction(ctx, records, counts, opts);
  } catch (err) {
    if (!(err instanceof DryRunDone)) throw err;
  }
  return counts;
}

/** Thrown at the end of a dry run's transaction: it rolls the upserts back. */
class DryRunDone extends Error {}

async function upsertInOneTransaction(
  ctx: AppContext,
  records: readonly CarrierRecord[],
  counts: CarrierImportCounts,
  opts: Parameters<typeof importCarriers>[2],
): Promise<void> {
  await ctx.db.transaction().execute(async (tx) => {
    for (let i = 0; i < records.length; i += opts.batchSize) {
      const batch = records.slice(i, i + opts.batchSize);
      const changed = await repo.upsertCarriers(
        tx,
        batch.map((r) => ({
          operator_id: r.operatorId,
          kind: r.kind,
          plate: r.plate,
          route: r.route,
          city: r.city,
        })),
      );
      const created = changed.filter((r) => r.created).length;
      counts.created += created;
      counts.updated += changed.length - created;
      counts.unchanged += batch.length - changed.length;
      opts.onProgress?.(Math.min(i + opts.batchSize, records.length), records.length);
    }
    if (opts.dryRun) throw new DryRunDone();
  });
}

/** Carrier ids are Postgres integers. */
const MAX_CARRIER_ID = 2 ** 31 - 1;

/** Problems listed in a refusal; the reply says how many there are in all. */
const MAX_REPORTED_PROBLEMS = 200;

/**
 * POST /v1/carriers/import: every row of the file is checked, then rows `from`..`from + count` are upserted in one
 * transaction (none with `dryRun`). A bad row anywhere refuses the request, so a file is written slice by slice
 * only once it is clean; writing a slice again changes nothing.
 */
export async function importCarriersCsv(
  ctx: AppContext,
  who: OperatorScope,
  body: ImportCarriersBody,
): Promise<CarrierImportResult> {
  if (who.operatorId !== null && body.operatorId !== undefined && body.operatorId !== who.operatorId) {
    throw new AppError('forbidden', 'Operators import only their own carriers.');
  }
  const defaultOperator = who.operatorId ?? body.operatorId;
  if (defaultOperator !== undefined && !(await operatorExists(ctx.db, defaultOperator)))
    throw new AppError('operator_not_found');
  let csv;
  try {
    csv = parseCarriersCsv(body.csv, 'line');
  } catch (err) {
    if (err instanceof CsvFileError)
      throw new AppError('csv_invalid', `The file cannot be imported: ${err.message}`);
    throw err;
  }
  if (!csv.columns.has('operator') && defaultOperator === undefined) {
    throw new AppError('csv_invalid', 'The file has no operator column: add one, or give operatorId.');
  }
  const { rows, rejected } = await checkCarrierRows(csv, {
    defaultOperator,
    defaultOperatorHint: 'give operatorId',
    existingOperators: (ids) => existingOperators(ctx.db, ids),
    onlyOperator: who.operatorId ?? undefined,
  });
  if (rejected.length > 0) {
    const problems = rejected.flatMap((r) => r.problems);
    throw new AppError(
      'csv_rows_invalid',
      `${rejected.length} of ${csv.records.length} rows are not valid; nothing was imported.`,
    ).withProblems(problems, MAX_REPORTED_PROBLEMS);
  }
  const from = body.from ?? 0;
  if (from > 0 && from >= rows.length) {
    throw new AppError(
      'validation_failed',
      `from: the file has ${rows.length} rows (0 to ${rows.length - 1}).`,
    );
  }
  const slice = rows.slice(from, body.count === undefined ? undefined : from + body.count);
  const counts = await importCarriers(ctx, slice, { batchSize: 1000, dryRun: body.dryRun });
  return {
    rows: rows.length,
    from,
    count: slice.length,
    ...counts,
    written: !body.dryRun && slice.length > 0,
  };
}

/** One carrier's A5 poster (PDF): the QR of its current code, as `pnpm cli posters` prints it. */
export async function posterPdf(ctx: AppContext, who: OperatorScope, id: number): Promise<Buffer> {
  const row = await ownCarrier(ctx, who, id);
  if (row.retired_at) throw new AppError('carrier_retired');
  await readActiveCodeKey(ctx);
  const poster = layoutPoster({ ...toCarrier(row), url: toCode(ctx, row).url });
  return renderPdf([[poster]], A5, await loadFonts(), row.operator_id);
}

/**
 * Posters of chosen active carriers (`ids`) or of those a filter selects, two A5 to an A4 landscape sheet, at most
 * POSTER_SHEET_MAX in one file.
 */
export async function posterSheetsPdf(
  ctx: AppContext,
  who: OperatorScope,
  q: PosterSheetQuery,
): Promise<Buffer> {
  if (who.operatorId !== null && q.operatorId !== undefined && q.operatorId !== who.operatorId) {
    throw new AppError('forbidden', 'Operators print only their own carriers.');
  }
  const ids = q.ids === undefined ? undefined : [...new Set(q.ids.split(',').map(Number))];
  const rows = await repo.listCarriers(ctx.db, {
    operatorId: who.operatorId ?? q.operatorId,
    kind: q.kind,
    route: q.route,
    city: q.city,
    plate: q.plate,
    // Ids past the integer column's range name no carrier (and must not reach the query).
    ids: ids?.filter((id) => id <= MAX_CARRIER_ID),
    status: 'active',
    limit: POSTER_SHEET_MAX + 1,
  });
  if (ids) {
    const found = new Set(rows.map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0)
      throw new AppError(
        'carrier_not_found',
        `No active carrier of yours has id ${missing.slice(0, 5).join(', ')}.`,
      );
  }
  if (rows.length === 0)
    throw new AppError('carrier_not_found', 'No active carrier matches; nothing to print.');
  if (rows.length > POSTER_SHEET_MAX) {
    throw new AppError(
      'too_many_posters',
      `More than ${POSTER_SHEET_MAX} carriers match; narrow the filter or print the fleet with \`pnpm cli posters\`.`,
    );
  }
  await readActiveCodeKey(ctx);
  const sheets: Poster[][] = [];
  for (let i = 0; i < rows.length; i += 2) {
    sheets.push(rows.slice(i, i + 2).map((r) => layoutPoster({ ...toCarrier(r), url: toCode(ctx, r).url })));
  }
  const operators = [...new Set(rows.map((r) => r.operator_id))];
  return renderPdf(sheets, SHEET, await loadFonts(), operators.join(', '));
}

/** An operator's staff accounts with how many carriers each is bound to; admins may name any operator or none. */
export async function staffAccounts(
  ctx: AppContext,
  who: OperatorScope,
  operatorId: string | undefined,
): Promise<StaffAccountList> {
  if (who.operatorId !== null && operatorId !== undefined && operatorId !== who.operatorId) {
    throw new AppError('forbidden', 'Operators see only their own staff accounts.');
  }
  const clients = await listStaffClients(ctx.db, who.operatorId ?? operatorId ?? null);
  const bound = await repo.countStaffBindings(
    ctx.db,
    clients.map((c) => c.clientId),
  );
  return {
    items: clients.map((c) => ({
      clientId: c.clientId,
      name: c.name,
      operatorId: c.operatorId ?? '',
      disabled: c.disabledAt !== null,
      carriers: bound.get(c.clientId) ?? 0,
    })),
  };
}

/** An active carrier with its current code (what a poster prints: `code.url` is the QR content). */
export interface CarrierWithCode {
  carrier: Carrier;
  code: CarrierCode;
}

/** Every active carrier of an operator (optionally of one route and kind), in id order, with its current code. */
export async function activeCarriersWithCodes(
  ctx: AppContext,
  filter: { operatorId: string; route?: string | undefined; kind?: CarrierKind | undefined },
): Promise<CarrierWithCode[]> {
  const out: CarrierWithCode[] = [];
  const limit = 1000;
  await readActiveCodeKey(ctx);
  for (let afterId: number | undefined; ;) {
    const page = await repo.listCarriers(ctx.db, { ...filter, status: 'active', afterId, limit });
    for (const row of page) out.push({ carrier: toCarrier(row), code: toCode(ctx, row) });
    if (page.length < limit) return out;
    afterId = page[page.length - 1]!.id;
  }
}
