import fastifyJwt from '@fastify/jwt';
import { OFFICIAL_ROLE_SCOPES, type Scope } from '@ridetrace/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Official, OfficialPerson, OperatorScope } from '../actors.js';
import { AppError } from '../errors.js';
import { TOKEN_ALGORITHM, TOKEN_ISSUER, type TokenClaims } from '../tokens.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The live person behind a session token, or null when the session ended (see authPlugin's options). */
    officialSession: (sessionId: string) => Promise<OfficialPerson | null>;
  }
  interface FastifyRequest {
    officialPerson: OfficialPerson | null;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: TokenClaims & { iat: number; exp: number };
  }
}

export const authPlugin = fp(
  async (
    app: FastifyInstance,
    opts: { secret: Buffer; officialSession: (sessionId: string) => Promise<OfficialPerson | null> },
  ) => {
    app.decorate('officialSession', opts.officialSession);
    app.decorateRequest('officialPerson', null);
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
    // An official person's token lives only as long as the sign-in: sign-out or a disabled account end it at once.
    if (req.user.sid !== undefined) {
      const person = await req.server.officialSession(req.user.sid);
      if (!person || person.id !== req.user.sub)
        throw new AppError('token_invalid', 'This sign-in has ended; sign in again.');
      req.officialPerson = person;
    }
  };
}

/** onRequest hook: a signed-in official person (a session token), whatever their roles. */
export function requireOfficialPerson(): (req: FastifyRequest) => Promise<void> {
  const anyScope = requireScope(...OFFICIAL_SCOPES);
  return async function (req: FastifyRequest) {
    await anyScope(req);
    if (!req.officialPerson) throw new AppError('forbidden', 'Only a signed-in official person may do this.');
  };
}

const OFFICIAL_SCOPES = [...new Set(Object.values(OFFICIAL_ROLE_SCOPES).flat())] as Scope[];

/** OpenAPI security requirement for bearer-protected routes. */
export const bearer = [{ bearerAuth: [] }];

/** The acting official of a request (a person or a system): unmasked data only with trace:reveal. */
export function official(req: FastifyRequest): Official {
  const person = req.officialPerson;
  return {
    id: req.user.sub,
    kind: person ? 'person' : 'system',
    name: person?.name ?? req.user.nm ?? req.user.sub,
    agency: person?.agency ?? null,
    jurisdiction: person?.jurisdiction ?? [],
    reveal: scopesOf(req).has('trace:reveal'),
    requestId: req.id,
  };
}

/** The carriers an operator or admin request may manage (an operator token without an operator manages none). */
export function operatorScope(req: FastifyRequest): OperatorScope {
  return { operatorId: req.user.role === 'admin' ? null : (req.user.op ?? '\u0000none') };
}
