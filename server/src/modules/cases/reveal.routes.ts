import {
  CaseIdParamsSchema,
  CreateRevealRequestBodySchema,
  DecideRevealRequestBodySchema,
  ListRevealRequestsQuerySchema,
  RevealRequestIdParamsSchema,
  RevealRequestPageSchema,
  RevealRequestSchema,
} from '@ridetrace/shared';
import type { FastifyRequest } from 'fastify';
import { errorReplies, optionalBody, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope, scopesOf } from '../../plugins/auth.js';
import * as reveals from './reveal.service.js';

const canApprove = (req: FastifyRequest) => scopesOf(req).has('reveal:approve');

/** Four-eyes reveal: requests by officials with trace:reveal, decisions by another official with reveal:approve. */
export const revealRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['reveal'], security: bearer };
  const requester = requireScope('trace:reveal');
  const approver = requireScope('reveal:approve');
  const anyone = requireScope('trace:reveal', 'reveal:approve');

  app.post('/v1/cases/:id/reveal-requests', {
    onRequest: requester,
    schema: {
      ...common,
      summary: "Ask for unmasked identities of a case's subject and contacts",
      description:
        'With REVEAL_APPROVAL=dual (production default) the request waits for another official holding reveal:approve; ' +
        'with single it is granted at once. 201 for a new request, 200 with the live grant or pending request when ' +
        'there is one. Reads unmask with `?reveal=true` while the grant lasts (REVEAL_GRANT_HOURS).',
      params: CaseIdParamsSchema,
      body: CreateRevealRequestBodySchema,
      response: {
        200: RevealRequestSchema,
        201: RevealRequestSchema,
        ...errorReplies(400, 401, 403, 404, 409),
      },
    },
    handler: async (req, reply) => {
      const { created, request } = await reveals.requestReveal(ctx, official(req), req.params.id, req.body);
      return reply.code(created ? 201 : 200).send(request);
    },
  });

  app.get('/v1/reveal-requests', {
    onRequest: anyone,
    schema: {
      ...common,
      summary:
        'Reveal requests, newest first: every request for approvers (the inbox: state=pending), else your own',
      querystring: ListRevealRequestsQuerySchema,
      response: { 200: RevealRequestPageSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => reveals.listRevealRequests(ctx, official(req), req.query, canApprove(req)),
  });

  app.get('/v1/reveal-requests/:id', {
    onRequest: anyone,
    schema: {
      ...common,
      summary: 'One reveal request',
      params: RevealRequestIdParamsSchema,
      response: { 200: RevealRequestSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => reveals.getRevealRequest(ctx, official(req), req.params.id, canApprove(req)),
  });

  for (const decision of ['approve', 'refuse'] as const) {
    app.post(`/v1/reveal-requests/:id/${decision}`, {
      onRequest: approver,
      schema: {
        ...common,
        summary:
          decision === 'approve'
            ? 'Approve a pending reveal request of another official (the grant starts now)'
            : 'Refuse a pending reveal request of another official',
        params: RevealRequestIdParamsSchema,
        body: optionalBody(DecideRevealRequestBodySchema),
        response: { 200: RevealRequestSchema, ...errorReplies(400, 401, 403, 404, 409) },
      },
      handler: async (req) =>
        reveals.decideReveal(
          ctx,
          official(req),
          (req.params as { id: string }).id,
          decision,
          (req.body as { note?: string } | undefined)?.note,
        ),
    });
  }
};
