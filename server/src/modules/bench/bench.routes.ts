import { ScanBodySchema, ScanConfirmationRequiredSchema, ScanRegisteredSchema } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import { seal } from '../../crypto/aead.js';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { requirePassengerToken } from '../../plugins/auth.js';
import { rideLinkOfToken } from '../passengers/passengers.service.js';
import { rideKey } from '../rides/ride-key.js';
import { boardingTime } from '../rides/ride-time.js';
import { verifyScannedCode } from '../carriers/carriers.service.js';
import { sendScanResult } from '../registration/registration.routes.js';
import { scan } from '../registration/registration.service.js';

/**
 * Baselines for `pnpm bench`, only with BENCH_ROUTES=on outside production, hidden from the API docs:
 * - nodb: the scan route's work without the database (JWT, schema, code check, day key, encryption);
 * - insert1: the full scan with one INSERT per request (no group commit), the naive design.
 */
export const benchRoutes: RoutePlugin = async (app, { ctx }) => {
  const schema = {
    hide: true,
    body: ScanBodySchema,
    response: {
      201: ScanRegisteredSchema,
      200: ScanRegisteredSchema,
      202: ScanConfirmationRequiredSchema,
      ...errorReplies(400, 401, 403, 404, 409, 410),
    },
  };

  app.post('/v1/bench/nodb', {
    onRequest: requirePassengerToken(),
    schema,
    config: { rateLimit: false },
    handler: async (req, reply) => {
      const code = await verifyScannedCode(ctx, req.body.code);
      const now = ctx.now();
      const time = boardingTime(ctx.config.rides, now, req.body.scannedAt);
      const day = ctx.rideDays.of(time.boardedAt);
      const key = await ctx.keyring.dayKey(ctx.db, day);
      const id = randomUUID();
      rideKey(key, await rideLinkOfToken(ctx, req.user.sub, req.user.lk));
      seal(key.seal, req.user.sub, `rides/passenger/${id}`);
      ctx.keyring.blindIndex('ride-request', `${req.user.sub}:${req.body.clientRideId}`);
      return reply.code(201).send({
        result: 'registered' as const,
        ride: {
          id,
          carrier: { id: code.carrierId, kind: 'bus' as const, plate: '-', route: null, city: '-' },
          boardedAt: time.boardedAt.toISOString(),
          receivedAt: now.toISOString(),
          source: time.source,
          late: time.late,
        },
      });
    },
  });

  app.post('/v1/bench/insert1', {
    onRequest: requirePassengerToken(),
    schema,
    config: { rateLimit: false },
    handler: async (req, reply) =>
      sendScanResult(
        reply,
        await scan(ctx, { id: req.user.sub, consentVersion: req.user.cv, link: req.user.lk }, req.body, {
          groupCommit: false,
        }),
      ),
  });
};
