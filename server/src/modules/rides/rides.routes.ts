import {
  IdParamsSchema,
  ManualRideBodySchema,
  ManualRideResultSchema,
  ScanBodySchema,
  ScanConfirmationRequiredSchema,
  ScanRegisteredSchema,
} from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requireScope } from '../../plugins/auth.js';
import { registerManualRide, scan } from './rides.service.js';

export const rideRoutes: RoutePlugin = async (app, { ctx }) => {
  const perPassenger = {
    max: ctx.config.rateLimit.perPassengerPerMinute,
    timeWindow: '1 minute',
    keyGenerator: (req: { user?: { sub?: string }; ip: string }) => `sub:${req.user?.sub ?? req.ip}`,
    hook: 'preHandler' as const,
  };

  app.post('/v1/rides', {
    onRequest: requireScope('passenger'),
    config: { rateLimit: perPassenger },
    schema: {
      tags: ['rides'],
      security: bearer,
      summary: 'Register a ride by scanning a carrier code (one tap after the first confirmation)',
      description:
        '201: registered. 200: the same clientRideId was registered before (idempotent retry). ' +
        '202: the passenger must confirm identity and consent first; the scan is kept and registered on confirmation.',
      body: ScanBodySchema,
      response: {
        201: ScanRegisteredSchema,
        200: ScanRegisteredSchema,
        202: ScanConfirmationRequiredSchema,
        ...errorReplies(400, 401, 403, 404, 409, 410, 429, 503),
      },
    },
    handler: async (req, reply) => {
      const outcome = await scan(ctx, { id: req.user.sub, consentVersion: req.user.cv }, req.body);
      return reply.code(outcome.status).send(outcome.body);
    },
  });

  app.post('/v1/carriers/:id/manual-rides', {
    onRequest: requireScope('staff'),
    schema: {
      tags: ['staff'],
      security: bearer,
      summary: 'Staff registers a rider who cannot scan (ID card or phone number)',
      params: IdParamsSchema,
      body: ManualRideBodySchema,
      response: {
        201: ManualRideResultSchema,
        200: ManualRideResultSchema,
        ...errorReplies(400, 401, 403, 404, 409, 429),
      },
    },
    handler: async (req, reply) => {
      const outcome = await registerManualRide(ctx, req.user.sub, req.params.id, req.body);
      return reply.code(outcome.status).send(outcome.body);
    },
  });
};
