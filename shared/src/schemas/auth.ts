import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './common.js';

export const ROLES = ['passenger', 'staff', 'operator', 'official', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Scopes a client token may carry. Passenger tokens carry only `passenger`. */
export const SCOPES = [
  'passenger',
  'staff',
  'carriers:write',
  'trace:read',
  'trace:reveal',
  'trace:notify',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Which scopes a client of each role may hold (least privilege). */
export const ROLE_SCOPES: Record<Exclude<Role, 'passenger'>, readonly Scope[]> = {
  staff: ['staff'],
  operator: ['carriers:write'],
  official: ['trace:read', 'trace:reveal', 'trace:notify'],
  admin: ['admin'],
};

export const PassengerLoginBodySchema = Type.Object(
  { loginCode: Type.String({ minLength: 1, maxLength: 128, description: 'code from the super-app login' }) },
  Strict,
);
export type PassengerLoginBody = Static<typeof PassengerLoginBodySchema>;

/** The fields of every token reply. */
const BearerToken = {
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds' }),
};

export const PassengerTokenSchema = Type.Object({
  ...BearerToken,
  passenger: Type.Object({ id: Type.String(), confirmed: Type.Boolean() }),
});
export type PassengerToken = Static<typeof PassengerTokenSchema>;

export const ClientTokenBodySchema = Type.Object(
  {
    grantType: Type.Literal('client_credentials'),
    clientId: Type.String({ minLength: 1, maxLength: 64 }),
    clientSecret: Type.String({ minLength: 1, maxLength: 256 }),
    scope: Type.Optional(
      Type.String({ maxLength: 200, description: 'space-separated subset of the client scopes' }),
    ),
  },
  Strict,
);
export type ClientTokenBody = Static<typeof ClientTokenBodySchema>;

export const ClientTokenSchema = Type.Object({
  ...BearerToken,
  scope: Type.String(),
});
export type ClientToken = Static<typeof ClientTokenSchema>;
