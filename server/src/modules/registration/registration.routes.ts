import {
  ConfirmBodySchema,
  ConfirmResultSchema,
  IdParamsSchema,
  ManualRideBodySchema,
  ManualRideResultSchema,
  ScanBodySchema,
  ScanConfirmationRequiredSchema,
  ScanRegisteredSchema,
} from '@ridetrace/shared';
import type { FastifyReply } from 'fastify';
import { staffClientOf } from '../../actors.js';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requirePassengerToken, requireScope } from '../../plugins/auth.js';
import { passengerToken } from '../auth/auth.service.js';
import { metricsOf, type ScanOutcome } from '../metrics/metrics.service.js';
import { confirm, registerManualRide, scan, type ScanResult } from './registration.service.js';

/**
 * 201 registered, 200 registered before (same clientRideId, or a repeat scan), 202 waiting for the passenger's
 * confirmation.
 */
export function sendScanResult(reply: FastifyReply, r: ScanResult) {
  if (r.kind === 'confirmation_required')
    return reply.code(202).send({ result: 'confirmation_required', preview: r.preview });
  if (r.repeat) return reply.code(200).send({ result: 'registered', ride: r.ride, repeat: true });
  return reply.code(r.created ? 201 : 200).send({ result: 'registered', ride: r.ride });
}

/** What a scan's result counts as in the metrics. */
function scanOutcome(r: ScanResult): ScanOutcome {
  if (r.kind === 'confirmation_required') return 'confirmation_required';
  return r.repeat ? 'repeat' : r.created ? 'created' : 'retried';
}

export const registrationRoutes: RoutePlugin = async (app, { ctx }) => {
  const metrics = metricsOf(ctx);
  const perPassenger = {
    max: ctx.config.rateLimit.perPassengerPerMinute,
    timeWindow: '1 minute',
    keyGenerator: (req: { user?: { sub?: string }; ip: string }) => `sub:${req.user?.sub ?? req.ip}`,
    hook: 'preHandler' as const,
  };

  app.post('/v1/rides', {
    // Not requireScope: its account read would double the scan's round trips; insert_rides refuses a deleted account.
    onRequest: requirePassengerToken(),
    config: { rateLimit: perPassenger },
    schema: {
      tags: ['rides'],
      security: bearer,
      summary: 'Register a ride by scanning a carrier code (one tap after the first confirmation)',
      description:
        '201: registered. 200: the same clientRideId was registered before (idempotent retry), or, with ' +
        '`repeat: true`, the passenger scanned this carrier within RIDES_REPEAT_MINUTES and the earlier ride is ' +
        'returned instead of a second one. ' +
        '202: the passenger must confirm identity and consent first; the scan is kept and registered on confirmation.',
      body: ScanBodySchema,
      response: {
        201: ScanRegisteredSchema,
        200: ScanRegisteredSchema,
        202: ScanConfirmationRequiredSchema,
        ...errorReplies(400, 401, 403, 404, 409, 410, 429, 503),
      },
    },
    // Refusals at any step (token, rate limit, validation, the scan itself), by the code the reply carries.
    onError: (_req, _reply, err, done) => {
      metrics.scanRefused(err);
      done();
    },
    handler: async (req, reply) => {
      const r = await scan(
        ctx,
        { id: req.user.sub, consentVersion: req.user.cv, link: req.user.lk },
        req.body,
      );
      metrics.scanned(scanOutcome(r));
      return sendScanResult(reply, r);
    },
  });

  app.post('/v1/passengers/me/confirm', {
    onRequest: requireScope('passenger'),
    config: {
      rateLimit: {
        max: 10,
        timeWindow: '1 minute',
        keyGenerator: (req: { user?: { sub?: string }; ip: string }) => `confirm:${req.user?.sub ?? req.ip}`,
        hook: 'preHandler',
      },
    },
    schema: {
      tags: ['passengers'],
      security: bearer,
      summary: 'First-time confirmation: identity and consent; registers the pending scan',
      body: ConfirmBodySchema,
      response: { 200: ConfirmResultSchema, ...errorReplies(400, 401, 403, 404, 409, 429) },
    },
    handler: async (req) => {
      const { linkClaim, ...result } = await confirm(ctx, req.user.sub, req.body);
      return { ...passengerToken(ctx, req.user.sub, req.body.consentVersion, linkClaim), ...result };
    },
  });

  app.post('/v1/carriers/:id/manual-rides', {
    onRequest: requireScope('staff'),
    schema: {
      tags: ['staff'],
      security: bearer,
      summary: 'Staff registers a rider who cannot scan (ID card or phone number); the look-up is audited',
      params: IdParamsSchema,
      body: ManualRideBodySchema,
      response: {
        201: ManualRideResultSchema,
        200: ManualRideResultSchema,
        ...errorReplies(400, 401, 403, 404, 409, 429),
      },
    },
    handler: async (req, reply) => {
      const r = await registerManualRide(ctx, staffClientOf(req.user, req.id), req.params.id, req.body);
      return reply.code(r.created ? 201 : 200).send(r.result);
    },
  });
};
