import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './common.js';

export const ROLES = ['passenger', 'staff', 'operator', 'official', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Scopes a token may carry; each matches one power. Passenger tokens carry only `passenger`.
 * - `case:write`: open and close cases (turns the subject red, then green again)
 * - `trace:read`: read cases, exposures (masked) and notification lists
 * - `trace:reveal`: ask for unmasked identities of a case's contacts (needs a reveal grant)
 * - `trace:notify`: notify a case's contacts (turns them yellow)
 * - `status:clear`: set a person's health colour back to green
 * - `reveal:approve`: approve or refuse other officials' reveal requests
 * - `audit:read`: read the audit log
 * - `officials:admin`: manage official accounts
 * - `carriers:write`: manage one operator's carriers, codes, posters and staff bindings
 * - `admin`: operators, machine clients and every operator's carriers
 */
export const SCOPES = [
  'passenger',
  'staff',
  'carriers:write',
  'case:write',
  'trace:read',
  'trace:reveal',
  'trace:notify',
  'status:clear',
  'reveal:approve',
  'audit:read',
  'officials:admin',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Which scopes a machine client of each role may hold (least privilege). */
export const ROLE_SCOPES: Record<Exclude<Role, 'passenger'>, readonly Scope[]> = {
  staff: ['staff'],
  operator: ['carriers:write'],
  official: ['case:write', 'trace:read', 'trace:reveal', 'trace:notify', 'status:clear'],
  admin: ['admin', 'audit:read', 'officials:admin'],
};

/** Roles of official persons (console users); each bundles the scopes of one job. */
export const OFFICIAL_ROLES = ['tracer', 'notifier', 'supervisor', 'auditor', 'admin', 'operator'] as const;
export type OfficialRole = (typeof OFFICIAL_ROLES)[number];

export const OFFICIAL_ROLE_SCOPES: Record<OfficialRole, readonly Scope[]> = {
  tracer: ['case:write', 'trace:read', 'trace:reveal'],
  notifier: ['trace:read', 'trace:notify'],
  supervisor: ['case:write', 'trace:read', 'trace:reveal', 'trace:notify', 'status:clear', 'reveal:approve'],
  auditor: ['audit:read'],
  admin: ['officials:admin', 'admin'],
  // A transport company's fleet manager: the account names the operator whose carriers they manage.
  operator: ['carriers:write'],
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
