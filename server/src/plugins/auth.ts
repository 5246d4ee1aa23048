import fastifyJwt from '@fastify/jwt';
import type { Role, Scope } from '@ridetrace/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

/** Claims of every RideTrace access token. */
export interface TokenClaims {
  /** Passenger id (pseudonym) or client id. */
  sub: string;
  role: Role;
  /** Space-separated scopes. */
  scope: string;
  /** Operator of a staff or operator client. */
  op?: string;
  /** Passengers: the consent version they confirmed (absent before confirmation). */
  cv?: string;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: TokenClaims & { iat: number; exp: number };
  }
}

export const ISSUER = 'ridetrace';

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { secret: Buffer }) => {
    await app.register(fastifyJwt, {
      secret: opts.secret,
      sign: { algorithm: 'HS256', iss: ISSUER },
      verify: { algorithms: ['HS256'], allowedIss: ISSUER, requiredClaims: ['iss', 'sub', 'iat', 'exp'] },
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
