import {
  CaseIdParamsSchema,
  CaseNotificationsSchema,
  MyNotificationSchema,
  NotifyBodySchema,
  NotifyResultSchema,
} from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import { errorReplies, optionalBody, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import { caseNotifications, myNotifications, notifyCase } from './notifications.service.js';

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
};
