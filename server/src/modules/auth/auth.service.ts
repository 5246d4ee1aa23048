import type { ClientToken, Role } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { hashSecret, verifySecret } from '../../crypto/secrets.js';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import type { TokenClaims } from '../../plugins/auth.js';
import { findClient } from '../admin/admin.repository.js';
import * as passengers from '../passengers/passengers.repository.js';
import { newPassengerKey } from '../passengers/identity.js';
import { rememberOpenId } from '../passengers/passengers.service.js';

// Compared against when the client id is unknown, so both failures take the same time.
const dummyHash = hashSecret('dummy-secret-for-constant-time');

/** The passenger pseudonym of a super-app user, created on first login. */
export async function passengerForLogin(ctx: AppContext, loginCode: string) {
  const { openId } = await ctx.superApp.exchange(loginCode);
  const subject = ctx.keyring.blindIndex('subject', `${ctx.superApp.provider}:${openId}`);
  let row = await passengers.findPassengerBySubject(ctx.db, subject);
  if (!row) {
    const id = randomUUID();
    const key = newPassengerKey(ctx.keyring, id);
    await passengers.insertPassengerIfMissing(ctx.db, {
      id,
      kind: 'app',
      subject_index: subject,
      ...key.columns,
    });
    row = await passengers.findPassengerBySubject(ctx.db, subject);
    if (!row) throw new Error('passenger vanished after insert');
  }
  await rememberOpenId(ctx, row, openId);
  return {
    id: row.id,
    confirmed: row.name_sealed !== null && row.consent_version === ctx.config.consentVersion,
  };
}

export function signToken(app: FastifyInstance, claims: TokenClaims, ttlSeconds: number): string {
  return app.jwt.sign(claims, { expiresIn: ttlSeconds });
}

/** OAuth2-style client credentials: a short-lived token holding the requested subset of the client's scopes. */
export async function clientToken(
  app: FastifyInstance,
  ctx: AppContext,
  body: { clientId: string; clientSecret: string; scope?: string | undefined },
): Promise<ClientToken> {
  const client = await findClient(ctx.db, body.clientId);
  const ok = await verifySecret(body.clientSecret, client?.secret_hash ?? (await dummyHash));
  if (!client || !ok || client.disabled_at) throw new AppError('invalid_client');
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
  const claims: TokenClaims = { sub: client.client_id, role: client.role as Role, scope };
  if (client.operator_id) claims.op = client.operator_id;
  const ttl = ctx.config.clientTokenTtlSeconds;
  return { accessToken: signToken(app, claims, ttl), tokenType: 'Bearer', expiresIn: ttl, scope };
}
