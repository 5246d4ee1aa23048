import {
  OFFICIAL_ROLE_SCOPES,
  type CreateOfficialBody,
  type OfficialAccount,
  type OfficialEnrolment,
  type OfficialRole,
  type OfficialToken,
  type Scope,
} from '@ridetrace/shared';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Selectable } from 'kysely';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { openText, seal } from '../../crypto/aead.js';
import type { Official } from '../../actors.js';
import type { AppContext } from '../../context.js';
import type { OfficialsTable } from '../../db/tables.js';
import { AppError } from '../../errors.js';
import type { TokenClaims } from '../../tokens.js';
import { operatorExists } from '../admin/admin.service.js';
import { appendAudit, auditBy } from '../audit/audit.service.js';
import * as repo from './officials.repository.js';

/** Account changes are official actions too: the audit names who created, disabled or reset whom. */
async function auditAccountChange(
  ctx: AppContext,
  who: Official | null,
  change: 'create' | 'disable' | 'reset',
  account: { id: string; username: string },
) {
  await appendAudit(ctx.db, {
    ...(who ? auditBy(who) : { actor: 'cli', requestId: null }),
    action: 'officials.admin',
    caseId: null,
    people: 0,
    facts: { change, official: account.id, username: account.username },
  });
}

const TOTP_PERIOD = 30;
const ISSUER = 'RideTrace';

/** The scopes of a set of official roles, in the order of SCOPES. */
export function scopesOfRoles(roles: readonly string[]): Scope[] {
  const held = new Set(roles.flatMap((r) => OFFICIAL_ROLE_SCOPES[r as OfficialRole] ?? []));
  return [...held];
}

function toAccount(row: Selectable<OfficialsTable>): OfficialAccount {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    agency: row.agency,
    jurisdiction: row.jurisdiction,
    roles: row.roles as OfficialRole[],
    scopes: scopesOfRoles(row.roles),
    operatorId: row.operator_id,
    createdAt: row.created_at.toISOString(),
    disabledAt: row.disabled_at?.toISOString() ?? null,
  };
}

const totpAad = (id: string) => `officials/totp/${id}`;

const totpFor = (username: string, secret: OTPAuth.Secret) =>
  new OTPAuth.TOTP({ issuer: ISSUER, label: username, period: TOTP_PERIOD, secret });

function totpOf(ctx: AppContext, row: Pick<Selectable<OfficialsTable>, 'id' | 'username' | 'totp_sealed'>) {
  const sealed = openText(ctx.keyring.officialSecretKey(), row.totp_sealed, totpAad(row.id));
  return totpFor(row.username, OTPAuth.Secret.fromBase32(sealed));
}

/** A fresh password (shown once) and TOTP secret (sealed) for an account. */
async function newCredentials(ctx: AppContext, id: string, username: string) {
  const password = randomBytes(15).toString('base64url');
  const secret = new OTPAuth.Secret({ size: 20 });
  return {
    password,
    otpauthUri: totpFor(username, secret).toString(),
    columns: {
      password_hash: await argon2Hash(password),
      totp_sealed: seal(ctx.keyring.officialSecretKey(), secret.base32, totpAad(id)),
      totp_last_step: null,
    },
  };
}

/** Creates an official person; the initial password and the TOTP enrolment are returned once. */
export async function createOfficial(
  ctx: AppContext,
  who: Official | null,
  body: CreateOfficialBody,
): Promise<OfficialEnrolment> {
  const operatorId = body.operatorId ?? null;
  if (body.roles.includes('operator') !== (operatorId !== null)) {
    throw new AppError(
      'validation_failed',
      operatorId === null
        ? 'An operator account needs operatorId: the transport operator whose carriers it manages.'
        : 'operatorId belongs only to accounts with the operator role.',
    );
  }
  if (operatorId !== null && !(await operatorExists(ctx.db, operatorId)))
    throw new AppError('operator_not_found');
  const id = randomUUID();
  const username = body.username.toLowerCase();
  const creds = await newCredentials(ctx, id, username);
  const row = await repo.insertOfficial(ctx.db, {
    id,
    username,
    name: body.name.trim(),
    agency: body.agency.trim(),
    jurisdiction: [...new Set((body.jurisdiction ?? []).map((j) => j.trim()).filter(Boolean))],
    roles: body.roles,
    operator_id: operatorId,
    ...creds.columns,
  });
  if (!row) throw new AppError('username_taken');
  await auditAccountChange(ctx, who, 'create', row);
  return { official: toAccount(row), password: creds.password, otpauthUri: creds.otpauthUri };
}

export async function listOfficials(ctx: AppContext): Promise<OfficialAccount[]> {
  return (await repo.listOfficials(ctx.db)).map(toAccount);
}

async function officialByIdOrUsername(ctx: AppContext, who: string) {
  const row = /^[0-9a-f-]{36}$/i.test(who)
    ? await repo.findOfficial(ctx.db, who)
    : await repo.findOfficialByUsername(ctx.db, who.toLowerCase());
  if (!row) throw new AppError('official_not_found');
  return row;
}

/** Disables an account and ends its sessions at once. */
export async function disableOfficial(
  ctx: AppContext,
  who: Official | null,
  target: string,
): Promise<OfficialAccount> {
  const row = await officialByIdOrUsername(ctx, target);
  const now = ctx.now();
  const updated = await repo.updateOfficial(ctx.db, row.id, { disabled_at: row.disabled_at ?? now });
  await repo.revokeSessionsOf(ctx.db, row.id, now);
  await auditAccountChange(ctx, who, 'disable', row);
  return toAccount(updated!);
}

/**
 * A new password and TOTP secret (a lost phone or password), re-enabling a disabled account; every session of the
 * old credentials ends.
 */
export async function resetOfficial(
  ctx: AppContext,
  who: Official | null,
  target: string,
): Promise<OfficialEnrolment> {
  const row = await officialByIdOrUsername(ctx, target);
  const creds = await newCredentials(ctx, row.id, row.username);
  const updated = await repo.updateOfficial(ctx.db, row.id, {
    ...creds.columns,
    failed_attempts: 0,
    locked_until: null,
    disabled_at: null,
  });
  await repo.revokeSessionsOf(ctx.db, row.id, ctx.now());
  await auditAccountChange(ctx, who, 'reset', row);
  return { official: toAccount(updated!), password: creds.password, otpauthUri: creds.otpauthUri };
}

/** An argon2id hash of nothing anyone knows: unknown usernames cost the same as wrong passwords. */
let dummyHash: Promise<string> | undefined;

const refreshHash = (token: string) => createHash('sha256').update(token).digest();

/** A sign-in's tokens and their session (the console's cookie mode binds its CSRF token to the session id). */
export interface IssuedTokens {
  sessionId: string;
  token: OfficialToken;
}

async function issueTokens(
  ctx: AppContext,
  row: Selectable<OfficialsTable>,
  sessionId: string,
  refreshToken: string,
  refreshExpiresAt: Date,
): Promise<IssuedTokens> {
  const account = toAccount(row);
  const claims: TokenClaims = {
    sub: row.id,
    role: 'official',
    scope: account.scopes.join(' '),
    sid: sessionId,
    ...(row.operator_id !== null ? { op: row.operator_id } : {}),
  };
  const ttl = ctx.config.officials.tokenTtlSeconds;
  const token: OfficialToken = {
    accessToken: ctx.tokens.sign(claims, ttl),
    tokenType: 'Bearer',
    expiresIn: ttl,
    refreshToken,
    refreshExpiresAt: refreshExpiresAt.toISOString(),
    official: account,
  };
  return { sessionId, token };
}

/**
 * Sign-in with username, password and a TOTP code. Unknown users, disabled accounts, wrong passwords and wrong
 * codes all answer the same 401 after the same argon2 work; a locked account answers 429 with Retry-After.
 */
export async function signIn(
  ctx: AppContext,
  body: { username: string; password: string; totp: string },
): Promise<IssuedTokens> {
  const row = await repo.findOfficialByUsername(ctx.db, body.username.trim().toLowerCase());
  const now = ctx.now();
  if (row?.locked_until && row.locked_until > now) {
    throw lockedError(row.locked_until, now);
  }
  dummyHash ??= argon2Hash(randomBytes(16).toString('hex'));
  const passwordOk = await argon2Verify(row?.password_hash ?? (await dummyHash), body.password).catch(
    () => false,
  );
  const step = row ? totpStep(ctx, row, body.totp, now) : null;
  if (!row || !passwordOk || step === null || row.disabled_at) {
    if (row && !row.disabled_at) {
      const { maxFailedSignIns, lockMinutes } = ctx.config.officials;
      const counted = await repo.countFailedSignIn(
        ctx.db,
        row.id,
        maxFailedSignIns,
        new Date(now.getTime() + lockMinutes * 60_000),
      );
      if (counted?.locked_until && counted.locked_until > now) throw lockedError(counted.locked_until, now);
    }
    throw new AppError('sign_in_failed');
  }
  // The same code twice (a replay, or a second sign-in within its 30 s) is refused.
  if (!(await repo.recordSignIn(ctx.db, row.id, step))) throw new AppError('sign_in_failed');
  const sessionId = randomUUID();
  const refreshToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ctx.config.officials.sessionHours * 3600_000);
  await repo.insertSession(ctx.db, {
    id: sessionId,
    official_id: row.id,
    refresh_hash: refreshHash(refreshToken),
    expires_at: expiresAt,
  });
  return issueTokens(ctx, row, sessionId, refreshToken, expiresAt);
}

/** The TOTP time step the code belongs to (one step of clock drift either way), or null when it is wrong. */
function totpStep(ctx: AppContext, row: Selectable<OfficialsTable>, code: string, now: Date): number | null {
  const delta = totpOf(ctx, row).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD) + delta;
}

function lockedError(until: Date, now: Date): AppError {
  return new AppError('sign_in_locked').retryAfter((until.getTime() - now.getTime()) / 1000);
}

/**
 * A new access token for a live session; the refresh token is single use (a new one comes back). `check` sees the
 * session id before the refresh token is used up, and may refuse (the console's CSRF check): the token then stays.
 */
export async function refreshSession(
  ctx: AppContext,
  refreshToken: string,
  check?: (sessionId: string) => void,
): Promise<IssuedTokens> {
  const now = ctx.now();
  if (check) {
    const held = await repo.findLiveSessionByRefresh(ctx.db, refreshHash(refreshToken), now);
    if (!held) throw new AppError('refresh_invalid');
    check(held.id);
  }
  const next = randomBytes(32).toString('base64url');
  const session = await repo.rotateRefresh(ctx.db, refreshHash(refreshToken), refreshHash(next), now);
  if (!session) throw new AppError('refresh_invalid');
  const row = await repo.findOfficial(ctx.db, session.official_id);
  if (!row || row.disabled_at) throw new AppError('refresh_invalid');
  return issueTokens(ctx, row, session.id, next, session.expires_at);
}

export async function signOut(ctx: AppContext, sessionId: string): Promise<void> {
  await repo.revokeSession(ctx.db, sessionId, ctx.now());
}

/** Who acts through a session token: null when the session ended or the account was disabled. */
export async function sessionActor(ctx: AppContext, sessionId: string) {
  const row = await repo.findActiveSession(ctx.db, sessionId, ctx.now());
  if (!row) return null;
  return { id: row.id, name: row.name, agency: row.agency, jurisdiction: row.jurisdiction };
}

export async function officialAccount(ctx: AppContext, id: string): Promise<OfficialAccount> {
  const row = await repo.findOfficial(ctx.db, id);
  if (!row) throw new AppError('official_not_found');
  return toAccount(row);
}
