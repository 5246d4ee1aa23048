import { AuditPageSchema, AuditQuerySchema } from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import { listAudit } from './audit.service.js';

export const auditRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/v1/audit', {
    onRequest: requireScope('audit:read'),
    schema: {
      tags: ['audit'],
      security: bearer,
      summary: 'The hash-chained audit log of official actions (admins)',
      querystring: AuditQuerySchema,
      response: { 200: AuditPageSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => listAudit(ctx.db, official(req), req.query),
  });
};
