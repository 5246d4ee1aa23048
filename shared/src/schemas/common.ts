import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ERROR_CODES } from '../errors.js';

/** Objects reject unknown fields everywhere in the contract. */
export const Strict = { additionalProperties: false } as const;

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
      problems: Type.Optional(
        Type.Array(Type.Object({ line: Type.Integer(), field: Type.String(), message: Type.String() }), {
          description: 'csv_rows_invalid: the first problems found (file line, field, reason)',
        }),
      ),
      problemCount: Type.Optional(Type.Integer({ description: 'csv_rows_invalid: problems in all' })),
    }),
  },
  { description: 'Every error reply: a stable code and a human message.' },
);

export const DateTime = (description?: string) =>
  Type.String({ format: 'date-time', ...(description ? { description } : {}) });

export const Uuid = (description?: string) =>
  Type.String({ format: 'uuid', ...(description ? { description } : {}) });

export const IdParamsSchema = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, Strict);
export type IdParams = Static<typeof IdParamsSchema>;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: 'nextCursor of the previous page' })),
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
  });

export const OkSchema = Type.Object({ ok: Type.Literal(true) });
