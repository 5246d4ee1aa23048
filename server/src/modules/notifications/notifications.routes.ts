import {
  CaseIdParamsSchema,
  CaseNotificationsSchema,
  MyNotificationSchema,
  NotifyResultSchema,
} from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import { caseNotifications, myNotifications, notifyCase } from './notifications.service.js';

export const notificationRoutes: RoutePlugin = async (app, { ctx }) => {
  app.post('/v1/cases/:id/notify', {
    onRequest: requireScope('trace:notify'),
    schema: {
      tags: ['cases'],
      security: bearer,
      summary: 'Notify every exposed person once (super-app message, SMS fallback) and turn them yellow',
      params: CaseIdParamsSchema,
      response: { 200: NotifyResultSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req) => notifyCase(ctx, official(req), req.params.id),
  });

  app.get('/v1/cases/:id/notifications', {
    onRequest: requireScope('trace:read', 'trace:notify'),
    schema: {
      tags: ['cases'],
      security: bearer,
      summary: 'Delivery state per exposed person',
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
