import { calendarDay } from '../rides/ride-days.js';
import {
  maskName,
  type HealthStatus,
  type Itinerary,
  type StatusToken,
  type VerifiedStatus,
} from '@ridetrace/shared';
import { open, seal } from '../../crypto/aead.js';
import type { Official, StaffClient } from '../../actors.js';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import { appendAudit, auditBy, auditByStaff } from '../audit/audit.service.js';
import { findPassengersByIds, findSubjectPassengers } from '../passengers/passengers.service.js';
import { openIdentity } from '../passengers/identity.js';
import { ridesOfPassenger } from '../rides/rides.service.js';
import * as repo from './status.repository.js';

/**
 * The health-code colour: red while the passenger is the subject of an open case; yellow while an uncleared
 * exposure mark is in force (until infectiousTo + observation days); green otherwise.
 */
export async function statusOf(ctx: AppContext, passengerId: string): Promise<HealthStatus> {
  const now = ctx.now();
  const cases = await repo.findOpenCasesOfSubject(ctx.db, passengerId);
  if (cases.length > 0) {
    return { colour: 'red', reason: 'case', since: cases[0]!.opened_at.toISOString(), validUntil: null };
  }
  const marks = await repo.findActiveMarks(ctx.db, passengerId, now);
  if (marks.length > 0) {
    const since = new Date(Math.min(...marks.map((m) => m.created_at.getTime())));
    return {
      colour: 'yellow',
      reason: 'exposure',
      since: since.toISOString(),
      validUntil: marks[0]!.observe_until.toISOString(),
    };
  }
  return { colour: 'green', reason: 'none', since: null, validUntil: null };
}

const TOKEN_PREFIX = 'RTS1.';
const aad = 'status-token';

/** A short-lived, sealed token for the status QR: opaque to anyone but the server. */
export async function issueStatusToken(ctx: AppContext, passengerId: string): Promise<StatusToken> {
  const status = await statusOf(ctx, passengerId);
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const exp = iat + ctx.config.statusTokenTtlSeconds;
  const sealed = seal(ctx.keyring.statusKey(), JSON.stringify({ p: passengerId, iat, exp }), aad);
  return {
    token: TOKEN_PREFIX + sealed.toString('base64url'),
    colour: status.colour,
    expiresAt: new Date(exp * 1000).toISOString(),
  };
}

/**
 * Staff check a status token: current colour and masked name only, never rides. A look-up of another person, so
 * each successful check is audited under the staff client (a refused token shows nothing and leaves no entry).
 */
export async function verifyStatusToken(
  ctx: AppContext,
  staff: StaffClient,
  token: string,
): Promise<VerifiedStatus> {
  if (!token.startsWith(TOKEN_PREFIX) || !/^[A-Za-z0-9_-]+$/.test(token.slice(TOKEN_PREFIX.length))) {
    throw new AppError('status_token_malformed');
  }
  const raw = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url');
  let claims: { p: string; iat: number; exp: number };
  try {
    claims = JSON.parse(open(ctx.keyring.statusKey(), raw, aad).toString('utf8')) as typeof claims;
  } catch {
    throw new AppError(raw.length < 29 ? 'status_token_malformed' : 'status_token_forged');
  }
  if (claims.exp * 1000 < ctx.now().getTime()) throw new AppError('status_token_expired');
  const [row] = await findPassengersByIds(ctx, [claims.p]);
  // The account was deleted since: the token vouches for nobody. Refused like an expired one, so the check does not
  // tell staff that the person deleted their account.
  if (!row || row.deleted_at !== null) throw new AppError('status_token_expired');
  const who = openIdentity(ctx.keyring, row);
  const status = await statusOf(ctx, claims.p);
  await appendAudit(ctx.db, {
    ...auditByStaff(staff),
    action: 'status.verify',
    caseId: null,
    people: 1,
    facts: { named: who !== null },
  });
  return {
    colour: status.colour,
    name: who ? maskName(who.name) : null,
    issuedAt: new Date(claims.iat * 1000).toISOString(),
    expiresAt: new Date(claims.exp * 1000).toISOString(),
  };
}

/** An official clears a person's yellow status (one case or all); every registration of the person. Audited. */
export async function clearPerson(
  ctx: AppContext,
  who: Official,
  body: { personId: string; caseId?: string | undefined; reason: string },
): Promise<HealthStatus> {
  const { subjects: registrations } = await findSubjectPassengers(ctx, { passengerId: body.personId });
  if (registrations.length === 0) throw new AppError('passenger_not_found');
  await ctx.db.transaction().execute(async (tx) => {
    const n = await repo.clearMarks(
      tx,
      registrations.map((r) => r.id),
      body.caseId,
      who.id,
      ctx.now(),
    );
    await appendAudit(tx, {
      ...auditBy(who),
      action: 'person.clear',
      caseId: body.caseId ?? null,
      people: 1,
      detail: `marks=${n}; ${body.reason}`,
    });
  });
  return statusOf(ctx, body.personId);
}

/** The "travel card": own rides of the last days grouped by day (newest first) and city. */
export async function itinerary(ctx: AppContext, passengerId: string, days: number): Promise<Itinerary> {
  const rides = await ridesOfPassenger(ctx, passengerId, days, 'traces');
  const byDay = new Map<string, Map<string, Itinerary['days'][number]['cities'][number]['rides']>>();
  for (const r of rides) {
    const day = calendarDay(Date.parse(r.boardedAt), ctx.config.timeZone);
    const cities = byDay.get(day) ?? new Map();
    const list = cities.get(r.carrier.city) ?? [];
    list.push({ id: r.id, boardedAt: r.boardedAt, carrier: r.carrier });
    cities.set(r.carrier.city, list);
    byDay.set(day, cities);
  }
  return {
    days: [...byDay.entries()].map(([day, cities]) => ({
      day,
      cities: [...cities.entries()].map(([city, list]) => ({ city, rides: list })),
    })),
  };
}
