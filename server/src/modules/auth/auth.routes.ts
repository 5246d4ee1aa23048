import {
  ClientTokenBodySchema,
  ClientTokenSchema,
  PassengerLoginBodySchema,
  PassengerTokenSchema,
} from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { clientToken, passengerLogin } from './auth.service.js';

export const authRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post('/v1/auth/passenger', {
    schema: {
      tags: ['auth'],
      summary: 'Passenger login: exchange a super-app login code for a short-lived passenger token',
      body: PassengerLoginBodySchema,
      response: { 200: PassengerTokenSchema, ...errorReplies(400, 401, 429, 502) },
    },
    config: { rateLimit: { max: ctx.config.rateLimit.loginPerMinute, timeWindow: '1 minute' } },
    handler: async (req) => passengerLogin(ctx, req.body.loginCode),
  });

  app.post('/v1/auth/token', {
    schema: {
      tags: ['auth'],
      summary: 'Integration clients (staff, operator, official, admin): client-credentials token',
      body: ClientTokenBodySchema,
      response: { 200: ClientTokenSchema, ...errorReplies(400, 401, 403, 429) },
    },
    config: { rateLimit: { max: ctx.config.rateLimit.loginPerMinute, timeWindow: '1 minute' } },
    handler: async (req) => clientToken(ctx, req.body),
  });
};
