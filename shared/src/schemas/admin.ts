import { Type, type Static } from '@sinclair/typebox';
import { ROLES, SCOPES } from './auth.js';
import { OperatorId } from './carriers.js';
import { DateTime, Strict } from './common.js';

export const OperatorSchema = Type.Object({ id: Type.String(), name: Type.String(), createdAt: DateTime() });
export type Operator = Static<typeof OperatorSchema>;

export const CreateOperatorBodySchema = Type.Object(
  { id: OperatorId, name: Type.String({ minLength: 1, maxLength: 80 }) },
  Strict,
);
export type CreateOperatorBody = Static<typeof CreateOperatorBodySchema>;

const ClientRole = Type.Union(ROLES.filter((r) => r !== 'passenger').map((r) => Type.Literal(r)));
const ScopeSchema = Type.Union(SCOPES.filter((s) => s !== 'passenger').map((s) => Type.Literal(s)));

export const ClientSchema = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  role: ClientRole,
  scopes: Type.Array(Type.String()),
  operatorId: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime(),
  disabledAt: Type.Union([DateTime(), Type.Null()]),
});
export type Client = Static<typeof ClientSchema>;

export const CreateClientBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    role: ClientRole,
    operatorId: Type.Optional(OperatorId),
    scopes: Type.Optional(
      Type.Array(ScopeSchema, { uniqueItems: true, description: "defaults to all of the role's scopes" }),
    ),
  },
  Strict,
);
export type CreateClientBody = Static<typeof CreateClientBodySchema>;

export const ClientWithSecretSchema = Type.Composite([
  ClientSchema,
  Type.Object({ clientSecret: Type.String({ description: 'shown once; only its hash is stored' }) }),
]);
export type ClientWithSecret = Static<typeof ClientWithSecretSchema>;

export const ClientIdParamsSchema = Type.Object(
  { clientId: Type.String({ minLength: 1, maxLength: 64 }) },
  Strict,
);
export type ClientIdParams = Static<typeof ClientIdParamsSchema>;
