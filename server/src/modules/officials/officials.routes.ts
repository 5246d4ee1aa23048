import {
  CaseIdParamsSchema,
  CreateOfficialBodySchema,
  CSRF_HEADER,
  OFFICIAL_COOKIES,
  OfficialAccountSchema,
  OfficialEnrolmentSchema,
  OfficialListSchema,
  OfficialRefreshBodySchema,
  OfficialSessionSchema,
  OfficialSignInBodySchema,
  OfficialTokenSchema,
  type OfficialSession,
} from '@ridetrace/shared';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
import { errorReplies, type RoutePlugin } from '../../http.js';
import {
  bearer,
  checkCsrf,
  official,
  requireOfficialPerson,
  requireScope,
  viaSessionCookie,
} from '../../plugins/auth.js';
import * as officials from './officials.service.js';

const SESSION_REFRESH_PATH = '/v1/auth/official/session/refresh';

/**
 * The console session's cookies: the access token for every API path, the refresh token for its route only
 * (httpOnly both), the CSRF token for the console's script; SameSite=Strict keeps them off other sites' requests.
 */
function sessionCookies(ctx: AppContext) {
  const common = { sameSite: 'strict', secure: ctx.config.officials.cookieSecure } as const;
  return {
    access: { ...common, httpOnly: true, path: '/v1' },
    refresh: { ...common, httpOnly: true, path: SESSION_REFRESH_PATH },
    csrf: { ...common, httpOnly: false, path: '/' },
  } satisfies Record<keyof typeof OFFICIAL_COOKIES, CookieSerializeOptions>;
}

/** Puts a sign-in's tokens in the session cookies; the reply body never holds them. */
function startCookieSession(
  ctx: AppContext,
  reply: FastifyReply,
  { sessionId, token }: officials.IssuedTokens,
): OfficialSession {
  const opts = sessionCookies(ctx);
  const csrfToken = reply.server.csrfTokenOf(sessionId);
  const sessionSeconds = Math.max(
    0,
    Math.floor((Date.parse(token.refreshExpiresAt) - ctx.now().getTime()) / 1000),
  );
  reply.setCookie(OFFICIAL_COOKIES.access, token.accessToken, { ...opts.access, maxAge: token.expiresIn });
  reply.setCookie(OFFICIAL_COOKIES.refresh, token.refreshToken, { ...opts.refresh, maxAge: sessionSeconds });
  reply.setCookie(OFFICIAL_COOKIES.csrf, csrfToken, { ...opts.csrf, maxAge: sessionSeconds });
  return {
    csrfToken,
    expiresIn: token.expiresIn,
    refreshExpiresAt: token.refreshExpiresAt,
    official: token.official,
  };
}

function clearCookieSession(ctx: AppContext, reply: FastifyReply): void {
  const opts = sessionCookies(ctx);
  for (const name of ['access', 'refresh', 'csrf'] as const)
    reply.clearCookie(OFFICIAL_COOKIES[name], opts[name]);
}

export const officialRoutes: RoutePlugin = async (app, { ctx }) => {
  const signInLimit = { rateLimit: { max: ctx.config.rateLimit.loginPerMinute, timeWindow: '1 minute' } };

  app.post('/v1/auth/official', {
    schema: {
      tags: ['auth'],
      summary: 'Official person sign-in: username, password and the 6-digit TOTP code',
      description:
        'Answers a short-lived access token and a single-use refresh token. Wrong username, password or code: ' +
        '401 sign_in_failed (the same for unknown users); after repeated failures 429 sign_in_locked with ' +
        'Retry-After.',
      body: OfficialSignInBodySchema,
      response: { 200: OfficialTokenSchema, ...errorReplies(400, 401, 429) },
    },
    config: signInLimit,
    handler: async (req) => (await officials.signIn(ctx, req.body)).token,
  });

  app.post('/v1/auth/official/refresh', {
    schema: {
      tags: ['auth'],
      summary: 'A new access token for a live sign-in; the refresh token is replaced (single use)',
      body: OfficialRefreshBodySchema,
      response: { 200: OfficialTokenSchema, ...errorReplies(400, 401, 429) },
    },
    config: signInLimit,
    handler: async (req) => (await officials.refreshSession(ctx, req.body.refreshToken)).token,
  });

  app.post('/v1/auth/official/session', {
    schema: {
      tags: ['auth'],
      summary: "Official person sign-in for the officials' console: the session lives in httpOnly cookies",
      description:
        'The same check as POST /v1/auth/official, but the tokens go into cookies (SameSite=Strict; Secure with ' +
        `COOKIE_SECURE, always in production): ${OFFICIAL_COOKIES.access} (access token, httpOnly, Path=/v1, ` +
        `lapses with the token), ${OFFICIAL_COOKIES.refresh} (refresh token, httpOnly, Path=${SESSION_REFRESH_PATH}) ` +
        `and ${OFFICIAL_COOKIES.csrf} (the CSRF token, readable by the console's script). The body holds the ` +
        `official and the CSRF token, never a token: send it as ${CSRF_HEADER} on every POST, PATCH and DELETE.`,
      body: OfficialSignInBodySchema,
      response: { 200: OfficialSessionSchema, ...errorReplies(400, 401, 429) },
    },
    config: signInLimit,
    handler: async (req, reply) => startCookieSession(ctx, reply, await officials.signIn(ctx, req.body)),
  });

  app.post(SESSION_REFRESH_PATH, {
    schema: {
      tags: ['auth'],
      summary: 'Console session: new cookies for a live session (the refresh cookie is single use)',
      description:
        `Reads the ${OFFICIAL_COOKIES.refresh} cookie (400 without it, 401 refresh_invalid when used or ended) ` +
        `and needs the session's ${CSRF_HEADER} header (403 csrf_invalid without it, the refresh cookie still ` +
        'good). Sets new access and refresh cookies; the CSRF token stays the same for the whole session.',
      response: { 200: OfficialSessionSchema, ...errorReplies(400, 401, 403, 429) },
    },
    config: signInLimit,
    handler: async (req, reply) => {
      const refreshToken = req.cookies[OFFICIAL_COOKIES.refresh];
      // Like a refresh body without its token; a browser without the cookie has no session left.
      if (!refreshToken)
        throw new AppError(
          'validation_failed',
          `The ${OFFICIAL_COOKIES.refresh} cookie is missing; sign in again.`,
        );
      const issued = await officials.refreshSession(ctx, refreshToken, (sid) => checkCsrf(req, sid));
      return startCookieSession(ctx, reply, issued);
    },
  });

  const person = requireOfficialPerson();

  app.post('/v1/auth/official/logout', {
    onRequest: person,
    schema: {
      tags: ['auth'],
      security: bearer,
      summary: 'Sign out: the session ends, its access and refresh tokens stop working at once',
      description: 'With the console session cookie (and its CSRF header) the cookies are cleared too.',
      response: { 204: { type: 'null' }, ...errorReplies(401, 403) },
    },
    handler: async (req, reply) => {
      await officials.signOut(ctx, req.user.sid!);
      if (viaSessionCookie(req)) clearCookieSession(ctx, reply);
      return reply.code(204).send();
    },
  });

  app.get('/v1/officials/me', {
    onRequest: person,
    schema: {
      tags: ['officials'],
      security: bearer,
      summary: 'The signed-in official: name, agency, jurisdiction, roles and scopes',
      response: { 200: OfficialAccountSchema, ...errorReplies(401, 403) },
    },
    handler: async (req) => officials.officialAccount(ctx, req.user.sub),
  });

  const admin = { onRequest: requireScope('officials:admin') };
  const common = { tags: ['officials'], security: bearer };

  app.get('/v1/admin/officials', {
    ...admin,
    schema: {
      ...common,
      summary: 'Official accounts',
      response: { 200: OfficialListSchema, ...errorReplies(401, 403) },
    },
    handler: async () => ({ items: await officials.listOfficials(ctx) }),
  });

  app.post('/v1/admin/officials', {
    ...admin,
    schema: {
      ...common,
      summary: 'Create an official account: the initial password and TOTP enrolment URI are shown once',
      body: CreateOfficialBodySchema,
      response: { 201: OfficialEnrolmentSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await officials.createOfficial(ctx, official(req), req.body)),
  });

  app.post('/v1/admin/officials/:id/disable', {
    ...admin,
    schema: {
      ...common,
      summary: 'Disable an official account; its sessions end at once',
      params: CaseIdParamsSchema,
      response: { 200: OfficialAccountSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => officials.disableOfficial(ctx, official(req), req.params.id),
  });

  app.post('/v1/admin/officials/:id/reset', {
    ...admin,
    schema: {
      ...common,
      summary: 'New password and TOTP secret (shown once); re-enables the account and ends its sessions',
      params: CaseIdParamsSchema,
      response: { 200: OfficialEnrolmentSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => officials.resetOfficial(ctx, official(req), req.params.id),
  });
};
