import {
  ClientTokenBodySchema,
  ClientTokenSchema,
  PassengerLoginBodySchema,
  PassengerTokenSchema,
} from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { clientToken, passengerForLogin, signToken } from './auth.service.js';

export const authRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post('/v1/auth/passenger', {
    schema: {
      tags: ['auth'],
      summary: 'Passenger login: exchange a super-app login code for a short-lived passenger token',
      body: PassengerLoginBodySchema,
      response: { 200: PassengerTokenSchema, ...errorReplies(400, 401, 429, 502) },
    },
    config: { rateLimit: { max: ctx.config.rateLimit.loginPerMinute, timeWindow: '1 minute' } },
    handler: async (req) => {
      const passenger = await passengerForLogin(ctx, req.body.loginCode);
      const ttl = ctx.config.passengerTokenTtlSeconds;
      const accessToken = signToken(
        app,
        {
          sub: passenger.id,
          role: 'passenger',
          scope: 'passenger',
          ...(passenger.confirmed ? { cv: ctx.config.consentVersion } : {}),
        },
        ttl,
      );
      return { accessToken, tokenType: 'Bearer' as const, expiresIn: ttl, passenger };
    },
  });

  app.post('/v1/auth/token', {
    schema: {
      tags: ['auth'],
      summary: 'Integration clients (staff, operator, official, admin): client-credentials token',
      body: ClientTokenBodySchema,
      response: { 200: ClientTokenSchema, ...errorReplies(400, 401, 403, 429) },
    },
    config: { rateLimit: { max: ctx.config.rateLimit.loginPerMinute, timeWindow: '1 minute' } },
    handler: async (req) => clientToken(app, ctx, req.body),
  });
};
