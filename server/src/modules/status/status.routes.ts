import {
  ClearPersonBodySchema,
  HealthStatusSchema,
  ItineraryQuerySchema,
  ItinerarySchema,
  StatusTokenSchema,
  VerifiedStatusSchema,
  VerifyStatusBodySchema,
} from '@ridetrace/shared';
import { staffClientOf } from '../../actors.js';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import { clearPerson, issueStatusToken, itinerary, statusOf, verifyStatusToken } from './status.service.js';

export const statusRoutes: RoutePlugin = async (app, { ctx }) => {
  const passengerOnly = requireScope('passenger');
  const common = { tags: ['status'], security: bearer };

  app.get('/v1/passengers/me/status', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'My health-code colour, reason and validity',
      response: { 200: HealthStatusSchema, ...errorReplies(401, 403) },
    },
    handler: async (req) => statusOf(ctx, req.user.sub),
  });

  app.post('/v1/passengers/me/status-token', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'A signed status token valid 60 s, shown as a QR code',
      response: { 200: StatusTokenSchema, ...errorReplies(401, 403) },
    },
    handler: async (req) => issueStatusToken(ctx, req.user.sub),
  });

  app.post('/v1/status/verify', {
    onRequest: requireScope('staff'),
    schema: {
      ...common,
      summary: "Staff verify a passenger's status token: colour and masked name only (audited)",
      body: VerifyStatusBodySchema,
      response: { 200: VerifiedStatusSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => verifyStatusToken(ctx, staffClientOf(req.user, req.id), req.body.token),
  });

  app.post('/v1/status/clear', {
    onRequest: requireScope('status:clear'),
    schema: {
      ...common,
      summary: "An official clears a person's yellow status (audited)",
      body: ClearPersonBodySchema,
      response: { 200: HealthStatusSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => clearPerson(ctx, official(req), req.body),
  });

  app.get('/v1/passengers/me/itinerary', {
    onRequest: passengerOnly,
    schema: {
      ...common,
      summary: 'My rides of the last days grouped by day and city (the travel card)',
      querystring: ItineraryQuerySchema,
      response: { 200: ItinerarySchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => itinerary(ctx, req.user.sub, req.query.days ?? 14),
  });
};
