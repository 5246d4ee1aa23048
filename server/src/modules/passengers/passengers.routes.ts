import { ConsentSchema, PassengerProfileSchema } from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requireScope } from '../../plugins/auth.js';
import { consentText } from './consent.js';
import { profile } from './passengers.service.js';

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

  app.get('/v1/passengers/me', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'My profile (masked)',
      response: { 200: PassengerProfileSchema, ...errorReplies(401, 403, 404) },
    },
    handler: async (req) => profile(ctx, req.user.sub),
  });
};
