import {
  CaseIdParamsSchema,
  CaseNotificationsSchema,
  DeliveryReceiptChannelParamsSchema,
  DeliveryReceiptsBodySchema,
  DeliveryReceiptsResultSchema,
  MyNotificationSchema,
  NotifyBodySchema,
  NotifyResultSchema,
} from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../errors.js';
import { errorReplies, optionalBody, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import {
  applyDeliveryReceipts,
  caseNotifications,
  myNotifications,
  notifyCase,
} from './notifications.service.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * onRequest guard of the receipt route: 404 route_not_found while DELIVERY_RECEIPT_TOKEN is unset (as if the route
 * did not exist), else the bearer token must equal it. Hashes are compared, so neither the time taken nor the
 * answer depends on how much of the token, or its length, a caller got right; missing and wrong answer alike.
 */
function receiptTokenGuard(token: string | undefined) {
  const expected = token === undefined ? null : sha256(token);
  return async (req: FastifyRequest): Promise<void> => {
    if (!expected) throw new AppError('route_not_found');
    const given = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(sha256(given), expected))
      throw new AppError('token_invalid', 'The delivery-receipt token is missing or wrong.');
  };
}

export const notificationRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post('/v1/cases/:id/notify', {
    onRequest: requireScope('trace:notify'),
    schema: {
      tags: ['cases'],
      security: bearer,
      summary: 'Notify every exposed person once (super-app message, SMS fallback) and turn them yellow',
      description:
        'The body is optional. `degree: 2` also notifies the secondary contacts (degree 2 of GET exposures) with ' +
        'their own message; their colour follows NOTIFY_DEGREE2_STATUS (`notice`: unchanged, `yellow`). Each person ' +
        'is notified at most once per degree and case; a secondary contact already told as a degree-1 contact is ' +
        'not told again, and one told as a secondary contact who later turns out degree 1 also gets the degree-1 ' +
        'notice. 422 `too_many_contacts` as for a degree-2 trace.',
      params: CaseIdParamsSchema,
      body: optionalBody(NotifyBodySchema),
      response: { 200: NotifyResultSchema, ...errorReplies(400, 401, 403, 404, 409, 422) },
    },
    handler: async (req) => notifyCase(ctx, official(req), req.params.id, req.body?.degree ?? 1),
  });

  app.get('/v1/cases/:id/notifications', {
    onRequest: requireScope('trace:read', 'trace:notify'),
    schema: {
      tags: ['cases'],
      security: bearer,
      summary: 'Delivery state per exposed person and degree',
      params: CaseIdParamsSchema,
      response: { 200: CaseNotificationsSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => caseNotifications(ctx, official(req), req.params.id),
  });

  app.get('/v1/passengers/me/notifications', {
    onRequest: requireScope('passenger'),
    schema: {
      tags: ['passengers'],
      security: bearer,
      summary: 'My exposure notifications with what to do',
      response: { 200: Type.Object({ items: Type.Array(MyNotificationSchema) }), ...errorReplies(401, 403) },
    },
    handler: async (req) => ({ items: await myNotifications(ctx, req.user.sub) }),
  });

  const { receiptToken, messageBaseUrl, smsBaseUrl } = ctx.config.notify;
  if (ctx.config.mode === 'production' && !receiptToken && (messageBaseUrl || smsBaseUrl))
    app.log.warn(
      'DELIVERY_RECEIPT_TOKEN is not set: gateways cannot report delivery, so notifications stay `sent`, never ' +
        '`delivered`, and a super-app message the user never receives does not fall back to SMS',
    );
  app.post('/v1/delivery-receipts/:channel', {
    onRequest: receiptTokenGuard(receiptToken),
    // 1000 receipts with long reasons; every other route keeps BODY_LIMIT_BYTES.
    bodyLimit: 1024 * 1024,
    schema: {
      tags: ['notifications'],
      security: [{ deliveryReceiptToken: [] }],
      summary: "A gateway's delivery receipts: sent messages reached the phone, or never will",
      description:
        'For message gateways and the bridges in front of them, not for people: the bearer token is ' +
        'DELIVERY_RECEIPT_TOKEN (not a JWT); a missing or wrong one is 401 `token_invalid`. While that setting is ' +
        'unset the route answers 404 `route_not_found`. `messageId` is what the provider named the message by when ' +
        'it accepted it (`app`: WeChat `msgid`; `sms`: Tencent `SerialNo` or the generic gateway `messageId`). ' +
        '`delivered` turns a `sent` notification `delivered`; `failed` sends a super-app message again as SMS, and ' +
        'fails an SMS with the reason in `lastError`. Receipts for unknown ids, repeats, and notifications no ' +
        'longer `sent` change nothing and count as `ignored`: resending a batch is safe.',
      params: DeliveryReceiptChannelParamsSchema,
      body: DeliveryReceiptsBodySchema,
      response: { 200: DeliveryReceiptsResultSchema, ...errorReplies(400, 401, 404, 413, 429) },
    },
    handler: async (req) => applyDeliveryReceipts(ctx, req.params.channel, req.body.receipts),
  });
};
