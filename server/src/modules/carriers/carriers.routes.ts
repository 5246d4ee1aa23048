import {
  BindStaffBodySchema,
  CarrierCodeSchema,
  CarrierPageSchema,
  CarrierSchema,
  CodeImageQuerySchema,
  CreateCarrierBodySchema,
  CarrierImportResultSchema,
  IdParamsSchema,
  ImportCarriersBodySchema,
  ListCarriersQuerySchema,
  PosterSheetQuerySchema,
  POSTER_SHEET_MAX,
  StaffAccountListQuerySchema,
  StaffAccountListSchema,
  StaffBindingsSchema,
  UpdateCarrierBodySchema,
} from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import { errorReplies, type RoutePlugin } from '../../http.js';
import { bearer, operatorScope as who, requireScope } from '../../plugins/auth.js';
import * as carriers from './carriers.service.js';

export const carrierRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['carriers'], security: bearer };
  const operatorOnly = requireScope('carriers:write', 'admin');
  const Params = IdParamsSchema;

  app.post('/v1/carriers', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'Create a carrier (bus, taxi, metro car, ferry)',
      body: CreateCarrierBodySchema,
      response: { 201: CarrierSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await carriers.createCarrier(ctx, who(req), req.body)),
  });

  app.get('/v1/carriers', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'List carriers, paged, filtered by kind, route, city, status and plate prefix',
      querystring: ListCarriersQuerySchema,
      response: { 200: CarrierPageSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => carriers.listCarriers(ctx, who(req), req.query),
  });

  app.get('/v1/carriers/:id', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'One carrier',
      params: Params,
      response: { 200: CarrierSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => carriers.getCarrier(ctx, who(req), req.params.id),
  });

  app.patch('/v1/carriers/:id', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'Update plate, route or city',
      params: Params,
      body: UpdateCarrierBodySchema,
      response: { 200: CarrierSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req) => carriers.updateCarrier(ctx, who(req), req.params.id, req.body),
  });

  app.post('/v1/carriers/:id/retire', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'Retire a carrier: its codes stop working; rides are kept',
      params: Params,
      response: { 200: CarrierSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => carriers.retireCarrier(ctx, who(req), req.params.id),
  });

  app.post('/v1/carriers/:id/code', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'Issue a new code generation (posters of older generations stop working)',
      params: Params,
      response: { 201: CarrierCodeSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req, reply) =>
      reply.code(201).send(await carriers.issueCode(ctx, who(req), req.params.id)),
  });

  app.get('/v1/carriers/:id/code', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'The current code (token and QR content URL)',
      description:
        'Signed with the active code-signing key: after a key rotation (`pnpm cli keys rotate-code`) the same ' +
        'generation comes under the new key, and posters printed under the old key scan until that key retires ' +
        '(then 410 code_key_retired).',
      params: Params,
      response: { 200: CarrierCodeSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req) => carriers.currentCode(ctx, who(req), req.params.id),
  });

  app.get('/v1/carriers/:id/code.svg', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'The current code as an SVG QR image',
      params: Params,
      produces: ['image/svg+xml'],
      response: {
        200: Type.String({ description: 'SVG document' }),
        ...errorReplies(400, 401, 403, 404, 409),
      },
    },
    handler: async (req, reply) =>
      reply.type('image/svg+xml').send(await carriers.codeSvg(ctx, who(req), req.params.id)),
  });

  app.get('/v1/carriers/:id/code.png', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'The current code as a PNG QR image',
      params: Params,
      querystring: CodeImageQuerySchema,
      produces: ['image/png'],
      response: {
        200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
        ...errorReplies(400, 401, 403, 404, 409),
      },
    },
    handler: async (req, reply) =>
      reply
        .type('image/png')
        .send(await carriers.codePng(ctx, who(req), req.params.id, req.query.size ?? 512)),
  });

  app.post('/v1/carriers/import', {
    onRequest: operatorOnly,
    // A fleet file of tens of thousands of rows; the schema caps the CSV text itself.
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      ...common,
      summary: 'Import carriers from a CSV file (all rows checked; a slice written, or none with dryRun)',
      description:
        'The CSV of `pnpm cli carriers import`: header `kind,plate,route,city` and optionally `operator`. Every ' +
        'row is checked on every call; one bad row refuses the call with `csv_rows_invalid` and the first ' +
        'problems (file line, field, reason). Rows `from`..`from + count` are then upserted by operator and plate ' +
        'in one transaction (existing carriers keep their id, code and retirement), so a large file is written ' +
        'slice by slice and a slice written twice changes nothing. `dryRun` reports what would change.',
      body: ImportCarriersBodySchema,
      response: { 200: CarrierImportResultSchema, ...errorReplies(400, 401, 403, 404, 413) },
    },
    handler: async (req) => carriers.importCarriersCsv(ctx, who(req), req.body),
  });

  app.get('/v1/carriers/:id/poster.pdf', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: "The carrier's A5 poster (PDF): the QR of its current code, plate, route and instructions",
      params: Params,
      produces: ['application/pdf'],
      response: {
        200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
        ...errorReplies(400, 401, 403, 404, 409),
      },
    },
    handler: async (req, reply) =>
      reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="poster-${req.params.id}.pdf"`)
        .send(await carriers.posterPdf(ctx, who(req), req.params.id)),
  });

  app.get('/v1/carriers/posters.pdf', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: `Posters of active carriers, two A5 to an A4 landscape sheet (PDF; at most ${POSTER_SHEET_MAX})`,
      description: 'The chosen `ids`, or the active carriers a filter selects (operators: their own).',
      querystring: PosterSheetQuerySchema,
      produces: ['application/pdf'],
      response: {
        200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
        ...errorReplies(400, 401, 403, 404),
      },
    },
    handler: async (req, reply) =>
      reply
        .type('application/pdf')
        .header('content-disposition', 'attachment; filename="posters.pdf"')
        .send(await carriers.posterSheetsPdf(ctx, who(req), req.query)),
  });

  app.get('/v1/staff-accounts', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: "The operator's staff accounts (drivers', conductors' devices) that can be bound to carriers",
      querystring: StaffAccountListQuerySchema,
      response: { 200: StaffAccountListSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => carriers.staffAccounts(ctx, who(req), req.query.operatorId),
  });

  app.get('/v1/carriers/:id/staff', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'Staff accounts bound to the carrier',
      params: Params,
      response: { 200: StaffBindingsSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => carriers.listStaff(ctx, who(req), req.params.id),
  });

  app.post('/v1/carriers/:id/staff', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: "Bind one of the operator's staff accounts to the carrier",
      params: Params,
      body: BindStaffBodySchema,
      response: { 200: StaffBindingsSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => carriers.bindStaff(ctx, who(req), req.params.id, req.body.clientId),
  });

  app.delete('/v1/carriers/:id/staff/:clientId', {
    onRequest: operatorOnly,
    schema: {
      ...common,
      summary: 'Unbind a staff account',
      params: Type.Object(
        { id: Params.properties.id, clientId: Type.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false },
      ),
      response: { 200: StaffBindingsSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => carriers.unbindStaff(ctx, who(req), req.params.id, req.params.clientId),
  });

  app.get('/v1/staff/me/carriers', {
    onRequest: requireScope('staff'),
    schema: {
      tags: ['staff'],
      security: bearer,
      summary: 'Carriers this staff account is bound to',
      response: { 200: Type.Object({ items: Type.Array(CarrierSchema) }), ...errorReplies(401, 403) },
    },
    handler: async (req) => ({ items: await carriers.carriersOfStaff(ctx, req.user.sub) }),
  });
};
