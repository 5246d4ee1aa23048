import {
  ConfirmBodySchema,
  ConfirmResultSchema,
  ConsentSchema,
  MyRidesQuerySchema,
  MyRidesSchema,
  PassengerProfileSchema,
} from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requireScope } from '../../plugins/auth.js';
import { signToken } from '../auth/auth.service.js';
import { ridesOfPassenger } from '../rides/rides.service.js';
import { consentText } from './consent.js';
import { confirm, profile } from './passengers.service.js';

export const passengerRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['passengers'], security: bearer };
  const passengerOnly = requireScope('passenger');

  app.get('/v1/consent', {
    schema: {
      tags: ['passengers'],
      summary: 'The current consent text and its version (public)',
      response: { 200: ConsentSchema },
    },
    handler: async () => consentText(ctx.config.consentVersion),
  });

  app.post('/v1/passengers/me/confirm', {
    onRequest: passengerOnly,
    config: {
      rateLimit: {
        max: 10,
        timeWindow: '1 minute',
        keyGenerator: (req: { user?: { sub?: string }; ip: string }) => `confirm:${req.user?.sub ?? req.ip}`,
        hook: 'preHandler',
      },
    },
    schema: {
      ...common,
      summary: 'First-time confirmation: identity and consent; registers the pending scan',
      body: ConfirmBodySchema,
      response: { 200: ConfirmResultSchema, ...errorReplies(400, 401, 403, 404, 409, 429) },
    },
    handler: async (req) => {
      const result = await confirm(ctx, req.user.sub, req.body);
      const ttl = ctx.config.passengerTokenTtlSeconds;
      const accessToken = signToken(
        app,
        { sub: req.user.sub, role: 'passenger', scope: 'passenger', cv: req.body.consentVersion },
        ttl,
      );
      return { accessToken, expiresIn: ttl, ...result };
    },
  });

  app.get('/v1/passengers/me', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'My profile (masked)',
      response: { 200: PassengerProfileSchema, ...errorReplies(401, 403, 404) },
    },
    handler: async (req) => profile(ctx, req.user.sub),
  });

  app.get('/v1/passengers/me/rides', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'My rides of the last days (default 14), newest first',
      querystring: MyRidesQuerySchema,
      response: { 200: MyRidesSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => ({
      items: await ridesOfPassenger(ctx, req.user.sub, req.query.days ?? ctx.config.rides.historyDays),
    }),
  });
};
