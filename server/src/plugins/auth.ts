import fastifyCookie from '@fastify/cookie';
import fastifyJwt from '@fastify/jwt';
import { CSRF_HEADER, OFFICIAL_COOKIES, OFFICIAL_ROLE_SCOPES, type Scope } from '@ridetrace/shared';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Official, OfficialPerson, OperatorScope } from '../actors.js';
import { constantTimeEqual, deriveKey, hmac } from '../crypto/aead.js';
import { AppError } from '../errors.js';
import { TOKEN_ALGORITHM, TOKEN_ISSUER, type TokenClaims } from '../tokens.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The live person behind a session token, or null when the session ended (see authPlugin's options). */
    officialSession: (sessionId: string) => Promise<OfficialPerson | null>;
    /** The CSRF token of an official person's session, for the console's cookie sign-in. */
    csrfTokenOf: (sessionId: string) => string;
    /** Whether a passenger's account exists and was not deleted (see authPlugin's options). */
    passengerAccountLive: (passengerId: string) => Promise<boolean>;
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
    opts: {
      secret: Buffer;
      officialSession: (sessionId: string) => Promise<OfficialPerson | null>;
      passengerAccountLive: (passengerId: string) => Promise<boolean>;
    },
  ) => {
    app.decorate('officialSession', opts.officialSession);
    app.decorate('passengerAccountLive', opts.passengerAccountLive);
    app.decorateRequest('officialPerson', null);
    // CSRF token = HMAC(session id): stateless, one per sign-in (@fastify/csrf-protection needs a secret cookie).
    const csrfKey = deriveKey(opts.secret, 'official-csrf');
    app.decorate('csrfTokenOf', (sessionId: string) => hmac(csrfKey, sessionId).toString('base64url'));
    await app.register(fastifyCookie);
    app.addHook('onRoute', declareSessionCookie);
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

/**
 * True when the console's session cookie authenticates the request: only without an Authorization header (a
 * request with both uses the header).
 */
export function viaSessionCookie(req: FastifyRequest): boolean {
  return req.headers.authorization === undefined && !!req.cookies[OFFICIAL_COOKIES.access];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** 403 csrf_invalid unless the request carries the CSRF token of `sessionId`. */
export function checkCsrf(req: FastifyRequest, sessionId: string): void {
  const given = req.headers[CSRF_HEADER];
  const expected = req.server.csrfTokenOf(sessionId);
  if (typeof given !== 'string' || !constantTimeEqual(Buffer.from(given), Buffer.from(expected)))
    throw new AppError('csrf_invalid');
}

/** A verified cookie token: an official person's session token; unsafe methods need its CSRF token. */
function checkSessionCookie(req: FastifyRequest): void {
  // The server puts nothing else in the cookie.
  if (req.user.role !== 'official' || req.user.sid === undefined) throw new AppError('token_invalid');
  if (!SAFE_METHODS.has(req.method)) checkCsrf(req, req.user.sid);
}

function mapJwtError(err: unknown): AppError {
  const code = (err as { code?: string }).code;
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') return new AppError('auth_required');
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' || code === 'FAST_JWT_EXPIRED')
    return new AppError('token_expired');
  return new AppError('token_invalid');
}

export function scopesOf(req: FastifyRequest): Set<string> {
  return new Set(req.user.scope.split(' ').filter(Boolean));
}

/**
 * onRequest hook: a valid token holding at least one of `scopes` (401 without a valid token, 403 otherwise). A
 * passenger token is valid only while its account is live: deleting the account ends it at once.
 */
export function requireScope(...scopes: Scope[]): (req: FastifyRequest) => Promise<void> {
  return guard(scopes, true);
}

/**
 * onRequest hook of the scan: a passenger token, without requireScope's read of the account. Only for a route whose
 * single statement refuses a deleted account itself (insert_rides): the hot path stays one round trip.
 */
export function requirePassengerToken(): (req: FastifyRequest) => Promise<void> {
  return guard(['passenger'], false);
}

function guard(scopes: Scope[], checkPassenger: boolean): (req: FastifyRequest) => Promise<void> {
  const hook = async function (req: FastifyRequest) {
    // The cookie is read here, not by @fastify/jwt's `cookie` option: that one falls back to the cookie behind
    // an Authorization header that is not Bearer, and the CSRF check must know which one counted.
    const cookie = viaSessionCookie(req);
    try {
      if (cookie) req.user = req.server.jwt.verify(req.cookies[OFFICIAL_COOKIES.access]!);
      else await req.jwtVerify();
    } catch (err) {
      throw mapJwtError(err);
    }
    if (cookie) checkSessionCookie(req);
    const held = scopesOf(req);
    if (!scopes.some((s) => held.has(s))) throw new AppError('forbidden');
    if (checkPassenger && req.user.role === 'passenger') await checkPassengerAccount(req);
    // An official person's token lives only as long as the sign-in: sign-out or a disabled account end it at once.
    if (req.user.sid !== undefined) {
      const person = await req.server.officialSession(req.user.sid);
      if (!person || person.id !== req.user.sub)
        throw new AppError('token_invalid', 'This sign-in has ended; sign in again.');
      req.officialPerson = person;
    }
  };
  if (scopes.some((s) => OFFICIAL_SCOPES.includes(s))) sessionGuards.add(hook);
  return hook;
}

/** 401 token_invalid once the passenger's account is deleted: the token dies with it, unexpired or not. */
async function checkPassengerAccount(req: FastifyRequest): Promise<void> {
  if (!(await req.server.passengerAccountLive(req.user.sub)))
    throw new AppError('token_invalid', 'This account was deleted; sign in again.');
}

/** onRequest hook: a signed-in official person (a session token), whatever their roles. */
export function requireOfficialPerson(): (req: FastifyRequest) => Promise<void> {
  const anyScope = requireScope(...OFFICIAL_SCOPES);
  const hook = async function (req: FastifyRequest) {
    await anyScope(req);
    if (!req.officialPerson) throw new AppError('forbidden', 'Only a signed-in official person may do this.');
  };
  sessionGuards.add(hook);
  return hook;
}

const OFFICIAL_SCOPES = [...new Set(Object.values(OFFICIAL_ROLE_SCOPES).flat())] as Scope[];

/** The onRequest hooks that an official person's session cookie can pass. */
const sessionGuards = new WeakSet<object>();

/** OpenAPI security requirement for bearer-protected routes. */
export const bearer = [{ bearerAuth: [] }];

/** OpenAPI security requirement of the console's session cookie (as an alternative to `bearer`). */
const sessionCookie: { [scheme: string]: readonly string[] } = { officialSession: [] };

/** onRoute hook: a route guarded for official scopes names the session cookie in its OpenAPI security too. */
function declareSessionCookie(route: RouteOptions): void {
  const security = route.schema?.security;
  const hooks = [route.onRequest ?? []].flat();
  if (!security || security.includes(sessionCookie) || !hooks.some((h) => sessionGuards.has(h))) return;
  route.schema = { ...route.schema, security: [...security, sessionCookie] };
}

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

/**
 * The carriers a request may manage: every operator's with the `admin` scope, otherwise only the token's operator
 * (a token without one manages none).
 */
export function operatorScope(req: FastifyRequest): OperatorScope {
  return { operatorId: scopesOf(req).has('admin') ? null : (req.user.op ?? '\u0000none') };
}
