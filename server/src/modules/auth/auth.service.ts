import type { ClientToken, PassengerToken, Role } from '@ridetrace/shared';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import type { TokenClaims } from '../../tokens.js';
import { authenticateClient } from '../admin/admin.service.js';
import { passengerOfSuperAppUser } from '../passengers/passengers.service.js';
import { assertProgrammeRunning } from '../programme/programme.service.js';

/**
 * A passenger token; `confirmed` passengers carry the consent version they confirmed, and every passenger their
 * sealed ride link (`linkClaim`, from the passengers service), so that a scan reads nothing to index the ride.
 */
export function passengerToken(
  ctx: AppContext,
  passengerId: string,
  consentVersion: string | null,
  linkClaim: string,
) {
  const ttl = ctx.config.passengerTokenTtlSeconds;
  const claims: TokenClaims = { sub: passengerId, role: 'passenger', scope: 'passenger', lk: linkClaim };
  if (consentVersion !== null) claims.cv = consentVersion;
  return { accessToken: ctx.tokens.sign(claims, ttl), expiresIn: ttl };
}

/** Passenger login: the super-app login code is exchanged for the user's id, then for our pseudonym's token. */
export async function passengerLogin(ctx: AppContext, loginCode: string): Promise<PassengerToken> {
  await assertProgrammeRunning(ctx);
  const { openId } = await ctx.superApp.exchange(loginCode);
  const { linkClaim, ...passenger } = await passengerOfSuperAppUser(ctx, ctx.superApp.provider, openId);
  const cv = passenger.confirmed ? ctx.config.consentVersion : null;
  const token = passengerToken(ctx, passenger.id, cv, linkClaim);
  return { ...token, tokenType: 'Bearer', passenger };
}

/** OAuth2-style client credentials: a short-lived token holding the requested subset of the client's scopes. */
export async function clientToken(
  ctx: AppContext,
  body: { clientId: string; clientSecret: string; scope?: string | undefined },
): Promise<ClientToken> {
  const client = await authenticateClient(ctx.db, body.clientId, body.clientSecret);
  let scopes = client.scopes;
  if (body.scope !== undefined) {
    const wanted = body.scope.split(' ').filter(Boolean);
    const extra = wanted.filter((s) => !client.scopes.includes(s));
    if (extra.length || wanted.length === 0) {
      throw new AppError('forbidden', `This client may not request scope(s): ${extra.join(' ') || '(none)'}`);
    }
    scopes = wanted;
  }
  const scope = scopes.join(' ');
  const claims: TokenClaims = { sub: client.clientId, role: client.role as Role, scope, nm: client.name };
  if (client.operatorId) claims.op = client.operatorId;
  const ttl = ctx.config.clientTokenTtlSeconds;
  return { accessToken: ctx.tokens.sign(claims, ttl), tokenType: 'Bearer', expiresIn: ttl, scope };
}
