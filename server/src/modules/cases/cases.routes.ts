import {
  CaseIdParamsSchema,
  CaseReadQuerySchema,
  CasePageSchema,
  CaseRidesSchema,
  CaseSchema,
  CloseCaseBodySchema,
  CreateCaseBodySchema,
  EXPOSURE_CSV_COLUMNS,
  ExposurePageSchema,
  ExposuresQuerySchema,
  ListCasesQuerySchema,
} from '@ridetrace/shared';
import { Type } from '@sinclair/typebox';
import { errorReplies, optionalBody, type RoutePlugin } from '../../http.js';
import { bearer, official, requireScope } from '../../plugins/auth.js';
import * as cases from './cases.service.js';

export const caseRoutes: RoutePlugin = async (app, { ctx }) => {
  const common = { tags: ['cases'], security: bearer };
  const traceRead = requireScope('trace:read');
  const caseWrite = requireScope('case:write');

  app.post('/v1/cases', {
    onRequest: caseWrite,
    schema: {
      ...common,
      summary:
        'Open a case: subject by phone, ID number or passenger id, infectious window, case number, reason',
      body: CreateCaseBodySchema,
      response: { 201: CaseSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req, reply) => reply.code(201).send(await cases.openCase(ctx, official(req), req.body)),
  });

  app.get('/v1/cases', {
    onRequest: traceRead,
    schema: {
      ...common,
      summary:
        'List cases (newest first), e.g. status=open; caseNumber=SZ-2026 finds numbers starting with it',
      querystring: ListCasesQuerySchema,
      response: { 200: CasePageSchema, ...errorReplies(400, 401, 403) },
    },
    handler: async (req) => cases.listCases(ctx, official(req), req.query),
  });

  app.get('/v1/cases/:id', {
    onRequest: traceRead,
    schema: {
      ...common,
      summary: 'One case; the subject unmasked with ?reveal=true and a reveal grant',
      params: CaseIdParamsSchema,
      querystring: CaseReadQuerySchema,
      response: { 200: CaseSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => cases.getCase(ctx, official(req), req.params.id, req.query.reveal),
  });

  app.get('/v1/cases/:id/rides', {
    onRequest: traceRead,
    schema: {
      ...common,
      summary: "The case subject's rides in the infectious window, with their flags; audited",
      description:
        'Every ride of the registrations verified for the subject, oldest first: the rides the exposures are traced ' +
        'from. An official person with a jurisdiction sees only rides on carriers in their cities (`jurisdiction`).',
      params: CaseIdParamsSchema,
      response: { 200: CaseRidesSchema, ...errorReplies(400, 401, 403, 404) },
    },
    handler: async (req) => cases.caseRides(ctx, official(req), req.params.id),
  });

  app.post('/v1/cases/:id/close', {
    onRequest: caseWrite,
    schema: {
      ...common,
      summary: 'Close a case (the subject is no longer red)',
      params: CaseIdParamsSchema,
      body: optionalBody(CloseCaseBodySchema),
      response: { 200: CaseSchema, ...errorReplies(400, 401, 403, 404, 409) },
    },
    handler: async (req) => cases.closeCase(ctx, official(req), req.params.id, req.body?.reason),
  });

  app.get('/v1/cases/:id/exposures', {
    onRequest: traceRead,
    schema: {
      ...common,
      summary:
        'Co-passengers of the case (degree 1, or 1 and 2), paged; masked unless ?reveal=true with a reveal grant',
      description:
        "Each contact carries the flags of the exposed person's ride. An official person with a jurisdiction sees " +
        "only rides on carriers in their cities, the case's and the contacts' (`jurisdiction`). Degree-2 reads " +
        'run a few at a time per server process (`TRACE_DEGREE2_CONCURRENCY`); the others wait their turn.',
      params: CaseIdParamsSchema,
      querystring: ExposuresQuerySchema,
      response: { 200: ExposurePageSchema, ...errorReplies(400, 401, 403, 404, 422) },
    },
    handler: async (req) => cases.exposurePage(ctx, official(req), req.params.id, req.query),
  });

  app.get('/v1/cases/:id/exposures.csv', {
    onRequest: traceRead,
    schema: {
      ...common,
      summary: 'The exposures as CSV (UTF-8 with BOM, formula-injection safe); same masking and audit',
      description:
        `One line per contact, with the columns ${EXPOSURE_CSV_COLUMNS.join(', ')} (flags as true/false); ` +
        'limited to the jurisdiction of an official person as the JSON exposures are.',
      params: CaseIdParamsSchema,
      querystring: Type.Object(
        { degree: ExposuresQuerySchema.properties.degree, reveal: ExposuresQuerySchema.properties.reveal },
        { additionalProperties: false },
      ),
      produces: ['text/csv'],
      response: { 200: Type.String(), ...errorReplies(400, 401, 403, 404, 422) },
    },
    handler: async (req, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="case-${req.params.id}-exposures.csv"`)
        .send(
          await cases.exportCsv(ctx, official(req), req.params.id, req.query.degree ?? 1, req.query.reveal),
        ),
  });
};
