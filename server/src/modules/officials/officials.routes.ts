import {
  CaseIdParamsSchema,
  CreateOfficialBodySchema,
  OfficialAccountSchema,
  OfficialEnrolmentSchema,
  OfficialListSchema,
  OfficialRefreshBodySchema,
  OfficialSignInBodySchema,
  OfficialTokenSchema,
} from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, official, requireOfficialPerson, requireScope } from '../../plugins/auth.js';
import * as officials from './officials.service.js';

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
    handler: async (req) => officials.signIn(ctx, req.body),
  });

  app.post('/v1/auth/official/refresh', {
    schema: {
      tags: ['auth'],
      summary: 'A new access token for a live sign-in; the refresh token is replaced (single use)',
      body: OfficialRefreshBodySchema,
      response: { 200: OfficialTokenSchema, ...errorReplies(400, 401, 429) },
    },
    config: signInLimit,
    handler: async (req) => officials.refreshSession(ctx, req.body.refreshToken),
  });

  const person = requireOfficialPerson();

  app.post('/v1/auth/official/logout', {
    onRequest: person,
    schema: {
      tags: ['auth'],
      security: bearer,
      summary: 'Sign out: the session ends, its access and refresh tokens stop working at once',
      response: { 204: { type: 'null' }, ...errorReplies(401, 403) },
    },
    handler: async (req, reply) => {
      await officials.signOut(ctx, req.user.sid!);
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
      response: { 201: OfficialEnrolmentSchema, ...errorReplies(400, 401, 403, 409) },
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
