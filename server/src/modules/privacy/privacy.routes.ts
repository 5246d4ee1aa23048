import { AccessLogPageSchema, AccessLogQuerySchema, PassengerExportSchema } from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, requireScope } from '../../plugins/auth.js';
import { myAccessLog } from './access-log.service.js';
import { deleteAccount, exportMyData } from './privacy.service.js';

export const privacyRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['passengers'], security: bearer };

  app.get('/v1/passengers/me/export', {
    onRequest: requireScope('passenger'),
    schema: {
      ...common,
      summary: 'Everything held about me, decrypted for me alone',
      description:
        'Identity, consent, retained rides, status, exposure notifications and the whole access log (the entries ' +
        'of GET /v1/passengers/me/access-log, newest first).',
      response: { 200: PassengerExportSchema, ...errorReplies(401, 403, 404) },
    },
    handler: async (req) => exportMyData(ctx, req.user.sub),
  });

  app.get('/v1/passengers/me/access-log', {
    onRequest: requireScope('passenger'),
    schema: {
      ...common,
      summary:
        'When the health authority read my data, which agency and why (newest first); never the official or the case',
      querystring: AccessLogQuerySchema,
      response: { 200: AccessLogPageSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => myAccessLog(ctx.db, req.user.sub, req.query),
  });

  app.delete('/v1/passengers/me', {
    onRequest: requireScope('passenger'),
    schema: {
      ...common,
      summary:
        'Delete my account: my key is destroyed, consent withdrawn; my rides can no longer be linked to me',
      response: { 204: Type.Null(), ...errorReplies(401, 403, 404) },
    },
    handler: async (req, reply) => {
      await deleteAccount(ctx, req.user.sub);
      return reply.code(204).send(null);
    },
  });
};
