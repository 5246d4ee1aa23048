import { ErrorBodySchema } from '@ridetrace/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from './context.js';

/** A route module: a Fastify plugin that receives the app context. */
export type RoutePlugin = FastifyPluginAsyncTypebox<{ ctx: AppContext }>;

/** Declares error replies for OpenAPI and serialisation: errorReplies(400, 401) → { 400: ErrorBody, … }. */
export function errorReplies<S extends number>(...statuses: S[]): Record<S, typeof ErrorBodySchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBodySchema])) as Record<S, typeof ErrorBodySchema>;
}

/** Marks a body schema as optional: a request without a body passes; a body, when sent, must match. */
export function optionalBody<T extends object>(schema: T): T {
  return { ...schema, [OPTIONAL_BODY]: true };
}
export const OPTIONAL_BODY = 'x-optional-body';
