import fastifyJwt from '@fastify/jwt';
import type { Scope } from '@ridetrace/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Official, OperatorScope } from '../actors.js';
import { AppError } from '../errors.js';
import { TOKEN_ALGORITHM, TOKEN_ISSUER, type TokenClaims } from '../tokens.js';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: TokenClaims & { iat: number; exp: number };
  }
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { secret: Buffer }) => {
    await app.register(fastifyJwt, {
      secret: opts.secret,
      // Tokens are signed by ctx.tokens (services); this plugin only verifies.
      verify: {
        algorithms: [TOKEN_ALGORITHM],
        allowedIss: TOKEN_ISSUER,
        requiredClaims: ['iss', 'sub', 'iat', 'exp'],
      },
    });
  },
  { name: 'auth' },
);

function mapJwtError(err: unknown): AppError {
  const code = (err as { code?: string }).code;
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') return new AppError('auth_required');
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') return new AppError('token_expired');
  return new AppError('token_invalid');
}

export function scopesOf(req: FastifyRequest): Set<string> {
  return new Set(req.user.scope.split(' ').filter(Boolean));
}

/**
 * onRequest hook: a valid token holding at least one of `scopes` (401 without a valid token, 403 otherwise).
 */
export function requireScope(...scopes: Scope[]): (req: FastifyRequest) => Promise<void> {
  return async function (req: FastifyRequest) {
    try {
      await req.jwtVerify();
    } catch (err) {
      throw mapJwtError(err);
    }
    const held = scopesOf(req);
    if (!scopes.some((s) => held.has(s))) throw new AppError('forbidden');
  };
}

/** OpenAPI security requirement for bearer-protected routes. */
export const bearer = [{ bearerAuth: [] }];

/** The acting official of a request: unmasked data only with trace:reveal. */
export function official(req: FastifyRequest): Official {
  return { id: req.user.sub, reveal: scopesOf(req).has('trace:reveal'), requestId: req.id };
}

/** The carriers an operator or admin request may manage (an operator token without an operator manages none). */
export function operatorScope(req: FastifyRequest): OperatorScope {
  return { operatorId: req.user.role === 'admin' ? null : (req.user.op ?? '\u0000none') };
}
