import {
  EXPOSURE_CSV_COLUMNS,
  maskName,
  maskPhone,
  type Case,
  type CaseRides,
  type CreateCaseBody,
  type Exposure,
  type ExposureCsvColumn,
  type ExposurePage,
} from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import { openOfficialText, seal } from '../../crypto/aead.js';
import { agencyOf, type Official } from '../../actors.js';
import { perContext, type AppContext } from '../../context.js';
import type { Db } from '../../db/index.js';
import type { CasesTable } from '../../db/tables.js';
import type { Selectable } from 'kysely';
import { AppError } from '../../errors.js';
import { parseCursor } from '../../paging.js';
import { appendAudit, auditBy } from '../audit/audit.service.js';
import { findSealedIdentities, findSubjectPassengers } from '../passengers/passengers.service.js';
import { openIdentity } from '../passengers/identity.js';
import { recordDataAccess } from '../privacy/access-log.service.js';
import * as repo from './cases.repository.js';
import { revealGrant } from './reveal.service.js';
import { csvDocument, csvLine } from './csv.js';
import { Pacer } from './gate.js';
import { CaseFactsCache, type CaseFacts } from './case-facts.js';
import { traceCaseRides, traceExposures, type CityFilter, type TracedPerson } from './trace.js';

type CaseRow = Selectable<CasesTable>;

/** The facts of this process's recently used cases (fixed once opened), so traces skip the read of the case. */
export const caseFactsOf = perContext(() => new CaseFactsCache());

function reasonKey(ctx: AppContext): Buffer {
  return ctx.keyring.caseKey();
}

async function toCase(ctx: AppContext, row: CaseRow, reveal: boolean): Promise<Case> {
  const subjects = await findSealedIdentities(ctx, await repo.findCaseSubjects(ctx.db, row.id));
  const claims = await findSealedIdentities(ctx, await repo.findCaseClaims(ctx.db, row.id));
  const who =
    subjects.map((s) => openIdentity(ctx.keyring, s, { idNumber: false })).find((i) => i !== null) ?? null;
  const shown = (value: string | undefined, mask: (v: string) => string) =>
    value === undefined ? null : reveal ? value : mask(value);
  return {
    id: row.id,
    caseNumber: row.case_number,
    status: row.status,
    infectiousFrom: row.infectious_from.toISOString(),
    infectiousTo: row.infectious_to.toISOString(),
    reason: openOfficialText(reasonKey(ctx), row.reason_sealed, `cases/reason/${row.id}`),
    subject: {
      name: who ? (reveal ? who.name : maskName(who.name)) : null,
      phone: who ? (reveal ? who.phone : maskPhone(who.phone)) : null,
      passengers: subjects.length,
    },
    unverifiedClaims: claims.map((c) => {
      const claimed = openIdentity(ctx.keyring, c, { idNumber: false });
      return {
        passengerId: c.id,
        name: shown(claimed?.name, maskName),
        phone: shown(claimed?.phone, maskPhone),
      };
    }),
    openedBy: row.opened_by,
    openedAt: row.opened_at.toISOString(),
    closedAt: row.closed_at?.toISOString() ?? null,
  };
}

/** A case row that was found, or 404 `case_not_found`. */
function foundCase<T>(row: T | undefined): T {
  if (!row) throw new AppError('case_not_found');
  return row;
}

async function mustFindCase(db: Db, id: string): Promise<CaseRow> {
  return foundCase(await repo.findCase(db, id));
}

export async function openCase(ctx: AppContext, who: Official, body: CreateCaseBody): Promise<Case> {
  const from = new Date(body.infectiousFrom);
  const to = new Date(body.infectiousTo);
  const now = ctx.now();
  const maxMs = ctx.config.trace.maxWindowDays * 86_400_000;
  if (!(from <= to) || to.getTime() - from.getTime() > maxMs || to.getTime() > now.getTime() + 60_000) {
    throw new AppError('case_window_invalid');
  }
  const { subjects, claims } = await findSubjectPassengers(ctx, body.subject);
  if (subjects.length === 0 && claims.length === 0) throw new AppError('case_subject_unknown');
  const id = randomUUID();
  const row = await ctx.db.transaction().execute(async (tx) => {
    const c = await repo.insertCase(
      tx,
      {
        id,
        case_number: body.caseNumber,
        status: 'open',
        infectious_from: from,
        infectious_to: to,
        reason_sealed: seal(reasonKey(ctx), body.reason, `cases/reason/${id}`),
        opened_by: who.id,
      },
      subjects.map((s) => s.id),
      claims.map((s) => s.id),
    );
    await appendAudit(tx, {
      ...auditBy(who),
      action: 'case.open',
      caseId: id,
      people: 1,
      detail: body.caseNumber,
    });
    await recordDataAccess(tx, {
      passengerIds: [...subjects, ...claims].map((s) => s.id),
      agency: agencyOf(who),
      purpose: 'case_investigation',
      caseId: id,
      at: ctx.now(),
    });
    return c;
  });
  keepFacts(
    ctx,
    row,
    subjects.map((s) => s.id),
  );
  return toCase(ctx, row, false);
}

export async function assertCaseExists(ctx: AppContext, id: string): Promise<void> {
  await mustFindCase(ctx.db, id);
}

/** People a case shows: its subject (as one person) and every unverified claim. */
const peopleOf = (c: Case) => (c.subject.passengers > 0 ? 1 : 0) + c.unverifiedClaims.length;

export async function getCase(ctx: AppContext, who: Official, id: string, reveal?: boolean): Promise<Case> {
  const row = await mustFindCase(ctx.db, id);
  const grant = await revealGrant(ctx, who, id, reveal);
  const c = await toCase(ctx, row, grant !== null);
  await appendAudit(ctx.db, {
    ...auditBy(who),
    action: 'case.read',
    caseId: id,
    people: peopleOf(c),
    facts: { revealed: grant !== null, grant, unverifiedClaims: c.unverifiedClaims.length },
  });
  return c;
}

export async function listCases(
  ctx: AppContext,
  who: Official,
  q: {
    status?: 'open' | 'closed' | undefined;
    caseNumber?: string | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  },
) {
  const limit = q.limit ?? 50;
  const offset = parseCursor(q.cursor) ?? 0;
  const rows = await repo.listCases(ctx.db, {
    status: q.status,
    caseNumberPrefix: q.caseNumber,
    offset,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  // Always masked: unmasking is granted per case, never for a list.
  const items = await Promise.all(page.map((r) => toCase(ctx, r, false)));
  await appendAudit(ctx.db, {
    ...auditBy(who),
    action: 'case.list',
    caseId: null,
    people: items.reduce((n, c) => n + peopleOf(c), 0),
    // The searched number is the officials' own reference, not anyone's identity: kept as asked.
    facts: { status: q.status ?? null, caseNumber: q.caseNumber ?? null, offset, cases: items.length },
  });
  return { items, nextCursor: rows.length > limit ? String(offset + limit) : null };
}

export async function closeCase(ctx: AppContext, who: Official, id: string, reason?: string): Promise<Case> {
  const row = await ctx.db.transaction().execute(async (tx) => {
    const current = await mustFindCase(tx, id);
    if (current.status === 'closed') throw new AppError('case_closed');
    const closed = await repo.closeCase(tx, id, who.id, ctx.now());
    if (!closed) throw new AppError('case_closed');
    await appendAudit(tx, {
      ...auditBy(who),
      action: 'case.close',
      caseId: id,
      people: 1,
      detail: reason ?? null,
    });
    return closed;
  });
  return toCase(ctx, row, false);
}

/** Keeps a case's subjects and window in this process (they never change once the case is opened). */
function keepFacts(ctx: AppContext, row: CaseRow, subjectIds: string[]): CaseFacts {
  const facts: CaseFacts = {
    id: row.id,
    subjectIds,
    infectiousFrom: row.infectious_from,
    infectiousTo: row.infectious_to,
  };
  caseFactsOf(ctx).set(facts);
  return facts;
}

/** The case read now with its subjects (404 `case_not_found`); its facts are kept for later traces. */
async function readCase(
  ctx: AppContext,
  caseId: string,
): Promise<{ facts: CaseFacts; status: CaseRow['status'] }> {
  const { subject_ids, ...row } = foundCase(await repo.findCaseWithSubjects(ctx.db, caseId));
  return { facts: keepFacts(ctx, row, subject_ids), status: row.status };
}

/** The facts of an open case, read now: the status is the one fact that changes (409 `case_closed`). */
export async function openCaseFacts(ctx: AppContext, caseId: string): Promise<CaseFacts> {
  const { facts, status } = await readCase(ctx, caseId);
  if (status !== 'open') throw new AppError('case_closed');
  return facts;
}

/** The facts of a case: this process's copy when it has one, else one read (404 `case_not_found`). */
async function factsOf(ctx: AppContext, caseId: string): Promise<CaseFacts> {
  return caseFactsOf(ctx).get(caseId) ?? (await readCase(ctx, caseId)).facts;
}

/**
 * The exposures of a case (all pages), for the API page, the CSV export and notification; with `cities`, only on
 * carriers of those cities.
 */
export async function caseExposures(
  ctx: AppContext,
  c: CaseFacts | string,
  degree: 1 | 2,
  cities: CityFilter = null,
) {
  const facts = typeof c === 'string' ? await factsOf(ctx, c) : c;
  const result = await traceExposures(
    ctx,
    facts.subjectIds,
    facts.infectiousFrom,
    facts.infectiousTo,
    degree,
    cities,
  );
  return { case: facts, ...result };
}

/** An official person's jurisdiction as a trace applies it: null (every city) for an empty one and for systems. */
function citiesOf(who: Official): CityFilter {
  return who.jurisdiction.length > 0 ? new Set(who.jurisdiction) : null;
}

/** The jurisdiction a reply names and its audit entry records (facts hold scalars only: the list as JSON). */
function appliedJurisdiction(who: Official): { reply: string[] | null; fact: string | null } {
  if (who.jurisdiction.length === 0) return { reply: null, fact: null };
  return { reply: [...who.jurisdiction], fact: JSON.stringify(who.jurisdiction) };
}

/** The audit entry of a read and the access-log entries of the passengers it returns, written together. */
async function auditedRead(
  ctx: AppContext,
  who: Official,
  caseId: string,
  read: { passengerIds: string[]; purpose: 'contact_tracing' | 'case_investigation' },
  entry: Parameters<typeof appendAudit>[1],
): Promise<void> {
  await Promise.all([
    appendAudit(ctx.db, entry),
    recordDataAccess(ctx.db, {
      passengerIds: read.passengerIds,
      agency: agencyOf(who),
      purpose: read.purpose,
      caseId,
      at: ctx.now(),
    }),
  ]);
}

/** The co-passengers an exposures read returns, for their access log. */
const tracedPeople = (persons: TracedPerson[]) => ({
  passengerIds: persons.flatMap((p) => p.passengerIds),
  purpose: 'contact_tracing' as const,
});

/**
 * The people as the API shows them, decrypted (and masked unless revealed) while `audit` — already sent — commits:
 * its commit waits for the WAL flush, the decryption for the CPU. Both must succeed.
 */
async function exposuresWhile(
  ctx: AppContext,
  persons: TracedPerson[],
  reveal: boolean,
  audit: Promise<void>,
): Promise<Exposure[]> {
  // One turn of the event loop: the pool hands out the audit's connection and writes its statement in the
  // microtasks and ticks before it.
  // An export decrypts thousands of people: the event loop is given back every few ms meanwhile.
  const decrypted = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
    const pacer = new Pacer();
    const exposures: Exposure[] = [];
    for (const p of persons) {
      if (pacer.due()) await pacer.pause();
      exposures.push(toExposure(ctx, p, reveal));
    }
    return exposures;
  });
  const [exposures] = await Promise.all([decrypted, audit]);
  return exposures;
}

/** One exposed person as the API shows it; identity decrypted here (from its registration row), for returned rows only. */
function toExposure(ctx: AppContext, p: TracedPerson, reveal: boolean): Exposure {
  const who = openIdentity(ctx.keyring, p.registration, { idNumber: reveal });
  return {
    personId: p.personId,
    name: who ? (reveal ? who.name : maskName(who.name)) : null,
    phone: who ? (reveal ? who.phone : maskPhone(who.phone)) : null,
    idNumber: who?.idNumber && reveal ? who.idNumber : null,
    idType: who?.idNumber && reveal ? (who.idType ?? null) : null,
    registration: p.registration.kind,
    level: p.level,
    degree: p.degree,
    firstContactAt: p.firstContactAt.toISOString(),
    contacts: p.contacts.map((c) => ({
      carrier: c.carrier,
      caseBoardedAt: c.caseBoardedAt.toISOString(),
      contactBoardedAt: c.contactBoardedAt.toISOString(),
      gapMinutes: c.gapMinutes,
      level: c.level,
      degree: c.degree,
      via: c.via,
      flags: c.flags,
    })),
  };
}

export async function exposurePage(
  ctx: AppContext,
  who: Official,
  caseId: string,
  q: {
    degree?: 1 | 2 | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
    reveal?: boolean | undefined;
  },
): Promise<ExposurePage> {
  const degree = q.degree ?? 1;
  const limit = q.limit ?? 50;
  const offset = parseCursor(q.cursor) ?? 0;
  const grant = await revealGrant(ctx, who, caseId, q.reveal);
  const reveal = grant !== null;
  const jurisdiction = appliedJurisdiction(who);
  const traced = await caseExposures(ctx, caseId, degree, citiesOf(who));
  const page = traced.persons.slice(offset, offset + limit);
  const audit = auditedRead(ctx, who, caseId, tracedPeople(page), {
    ...auditBy(who),
    action: reveal ? 'exposures.reveal' : 'exposures.read',
    caseId,
    people: page.length,
    facts: {
      grant,
      degree,
      offset,
      returned: page.length,
      total: traced.persons.length,
      jurisdiction: jurisdiction.fact,
    },
  });
  const items = await exposuresWhile(ctx, page, reveal, audit);
  return {
    caseId,
    degree,
    revealed: reveal,
    jurisdiction: jurisdiction.reply,
    caseRides: traced.caseRides,
    total: traced.persons.length,
    unlinkable: traced.unlinkable,
    items,
    nextCursor: offset + limit < traced.persons.length ? String(offset + limit) : null,
  };
}

/** All exposures of a case as CSV, one line per contact; same masking, reveal rule and audit as the API. */
export async function exportCsv(
  ctx: AppContext,
  who: Official,
  caseId: string,
  degree: 1 | 2,
  asked?: boolean,
): Promise<string> {
  const grant = await revealGrant(ctx, who, caseId, asked);
  const reveal = grant !== null;
  const jurisdiction = appliedJurisdiction(who);
  const traced = await caseExposures(ctx, caseId, degree, citiesOf(who));
  const audit = auditedRead(ctx, who, caseId, tracedPeople(traced.persons), {
    ...auditBy(who),
    action: 'exposures.export',
    caseId,
    people: traced.persons.length,
    facts: {
      degree,
      revealed: reveal,
      grant,
      returned: traced.persons.length,
      jurisdiction: jurisdiction.fact,
    },
  });
  const exposures = await exposuresWhile(ctx, traced.persons, reveal, audit);
  const lines: string[] = [];
  const pacer = new Pacer();
  for (const e of exposures) {
    if (pacer.due()) await pacer.pause();
    for (const c of e.contacts) {
      const line: Record<ExposureCsvColumn, string | number | null> = {
        person_id: e.personId,
        name: e.name,
        phone: e.phone,
        id_number: e.idNumber,
        registration: e.registration,
        person_level: e.level,
        degree: c.degree,
        via: c.via,
        carrier_kind: c.carrier.kind,
        plate: c.carrier.plate,
        route: c.carrier.route,
        city: c.carrier.city,
        case_boarded_at: c.caseBoardedAt,
        contact_boarded_at: c.contactBoardedAt,
        gap_minutes: c.gapMinutes,
        contact_level: c.level,
        carrier_switch: String(c.flags.carrierSwitch),
        late_offline: String(c.flags.lateOffline),
        manual: String(c.flags.manual),
      };
      lines.push(csvLine(EXPOSURE_CSV_COLUMNS.map((column) => line[column])));
    }
  }
  return csvDocument(EXPOSURE_CSV_COLUMNS, lines);
}

/**
 * The rides of the case's subject in the infectious window (within the official person's jurisdiction), oldest
 * first, with their flags: what the exposures are traced from. Audited, and in the subject's access log.
 */
export async function caseRides(ctx: AppContext, who: Official, caseId: string): Promise<CaseRides> {
  const facts = await factsOf(ctx, caseId);
  const jurisdiction = appliedJurisdiction(who);
  const rides = await traceCaseRides(
    ctx,
    facts.subjectIds,
    facts.infectiousFrom,
    facts.infectiousTo,
    citiesOf(who),
  );
  // Written before the rides go out, as for exposures.
  await auditedRead(
    ctx,
    who,
    caseId,
    { passengerIds: [...facts.subjectIds], purpose: 'case_investigation' },
    {
      ...auditBy(who),
      action: 'case.rides',
      caseId,
      people: facts.subjectIds.length > 0 ? 1 : 0,
      facts: { returned: rides.length, jurisdiction: jurisdiction.fact },
    },
  );
  return {
    caseId,
    jurisdiction: jurisdiction.reply,
    items: rides.map((r) => ({
      id: r.id,
      carrier: r.carrier,
      boardedAt: r.boardedAt.toISOString(),
      source: r.source,
      flags: r.flags,
    })),
  };
}
