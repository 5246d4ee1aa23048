import { AuditPageSchema, AuditQuerySchema, AuditVerifySchema } from '@ridetrace/shared';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import { listAudit } from './audit.service.js';
import { AUDIT_VERIFY_MAX_ENTRIES, verifyAuditForConsole } from './verify.service.js';

export const auditRoutes: RoutePlugin = async (app, { ctx }) => {
  app.get('/v1/audit', {
    onRequest: requireScope('audit:read'),
    schema: {
      tags: ['audit'],
      security: bearer,
      summary: 'The hash-chained audit log of official actions (admins)',
      description:
        'Oldest first, a page at a time. Filters combine: caseId, actor (exactly: an official id, client id or ' +
        'system job), action, and the time range from (inclusive) to (exclusive).',
      querystring: AuditQuerySchema,
      response: { 200: AuditPageSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => listAudit(ctx.db, official(req), req.query),
  });

  app.get('/v1/audit/verify', {
    onRequest: requireScope('audit:read'),
    schema: {
      tags: ['audit'],
      security: bearer,
      summary: 'Recompute the audit chain and check the last signed checkpoint',
      description:
        'Checks the entries after the last signed checkpoint (verified by its signature and the hash of its ' +
        `entry), at most the newest ${AUDIT_VERIFY_MAX_ENTRIES} entries per call: \`anchor\` says whether the ` +
        'check began at the start of the chain, at the checkpoint, or at neither (older entries unchecked: run ' +
        '`pnpm audit:verify` for the whole chain and every checkpoint). The check is itself an audit entry.',
      response: { 200: AuditVerifySchema, ...errorReplies(401, 403) },
    },
    handler: async (req) => verifyAuditForConsole(ctx, official(req)),
  });
};
