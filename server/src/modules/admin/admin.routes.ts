import {
  ClientIdParamsSchema,
  ClientSchema,
  ClientWithSecretSchema,
  CreateClientBodySchema,
  CreateOperatorBodySchema,
  OperatorSchema,
} from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import * as admin from './admin.service.js';

export const adminRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['admin'], security: bearer };
  app.addHook('onRequest', requireScope('admin'));

  app.post('/v1/admin/operators', {
    schema: {
      ...common,
      summary: 'Create an operator (transport company)',
      body: CreateOperatorBodySchema,
      response: { 201: OperatorSchema, ...errorReplies(400, 401, 403, 409) },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await admin.createOperator(ctx.db, req.body.id, req.body.name, official(req))),
  });

  app.get('/v1/admin/operators', {
    schema: {
      ...common,
      summary: 'List operators',
      response: { 200: Type.Object({ items: Type.Array(OperatorSchema) }), ...errorReplies(401, 403) },
    },
    handler: async () => ({ items: await admin.listOperators(ctx.db) }),
  });

  app.post('/v1/admin/clients', {
    schema: {
      ...common,
      summary: 'Create an integration client (staff, operator, official, admin); the secret is shown once',
      body: CreateClientBodySchema,
      response: { 201: ClientWithSecretSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await admin.createClient(ctx.db, req.body, official(req))),
  });

  app.get('/v1/admin/clients', {
    schema: {
      ...common,
      summary: 'List clients',
      response: { 200: Type.Object({ items: Type.Array(ClientSchema) }), ...errorReplies(401, 403) },
    },
    handler: async () => ({ items: await admin.listClients(ctx.db) }),
  });

  app.post('/v1/admin/clients/:clientId/disable', {
    schema: {
      ...common,
      summary: 'Disable a client: it can no longer obtain tokens',
      params: ClientIdParamsSchema,
      response: { 200: ClientSchema, ...errorReplies(401, 403, 404) },
    },
    handler: async (req) => admin.disableClient(ctx.db, req.params.clientId, official(req)),
  });

  app.post('/v1/admin/clients/:clientId/secret', {
    schema: {
      ...common,
      summary: 'Rotate a client secret; the new secret is shown once',
      params: ClientIdParamsSchema,
      response: { 200: ClientWithSecretSchema, ...errorReplies(401, 403, 404) },
    },
    handler: async (req) => admin.rotateClientSecret(ctx.db, req.params.clientId, official(req)),
  });
};
