import { Type, type Static } from '@sinclair/typebox';
import { OFFICIAL_ROLES, SCOPES } from './auth.js';
import { OperatorId } from './carriers.js';
import { DateTime, Strict } from './common.js';

const OfficialRoleSchema = Type.Union(OFFICIAL_ROLES.map((r) => Type.Literal(r)));
const Username = Type.String({
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{2,63}$',
  description: '3–64 letters, digits, dot, underscore or hyphen; case-insensitive',
});

export const OfficialSignInBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    totp: Type.String({ pattern: '^[0-9]{6}$', description: 'the 6-digit code of the authenticator app' }),
  },
  Strict,
);
export type OfficialSignInBody = Static<typeof OfficialSignInBodySchema>;

export const OfficialRefreshBodySchema = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
  Strict,
);
export type OfficialRefreshBody = Static<typeof OfficialRefreshBodySchema>;

export const OfficialAccountSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  name: Type.String(),
  agency: Type.String(),
  jurisdiction: Type.Array(Type.String(), {
    description: 'cities whose carriers they may trace; empty: all',
  }),
  roles: Type.Array(OfficialRoleSchema),
  scopes: Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s)))),
  operatorId: Type.Union([Type.String(), Type.Null()], {
    description: 'the transport operator whose carriers an `operator` account manages; null for other roles',
  }),
  createdAt: DateTime(),
  disabledAt: Type.Union([DateTime(), Type.Null()]),
});
export type OfficialAccount = Static<typeof OfficialAccountSchema>;

export const OfficialTokenSchema = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds (at most 15 minutes)' }),
  refreshToken: Type.String({ description: 'single use: each refresh answers a new one' }),
  refreshExpiresAt: DateTime(),
  official: OfficialAccountSchema,
});
export type OfficialToken = Static<typeof OfficialTokenSchema>;

/** Header carrying a console session's CSRF token on every unsafe request made with the session cookie. */
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Cookies of a console session: the access token (httpOnly, every API path), the refresh token (httpOnly, its
 * refresh route only) and the CSRF token (readable by the console's script, which has lost it after a reload).
 */
export const OFFICIAL_COOKIES = {
  access: 'rt_official',
  refresh: 'rt_official_refresh',
  csrf: 'rt_official_csrf',
} as const;

/** The console's cookie sign-in: the tokens stay in httpOnly cookies, never in the body. */
export const OfficialSessionSchema = Type.Object({
  csrfToken: Type.String({
    description: `send it as ${CSRF_HEADER} on every POST, PATCH or DELETE; the same for the whole session`,
  }),
  expiresIn: Type.Integer({ description: 'seconds until the access cookie lapses (then refresh)' }),
  refreshExpiresAt: DateTime(),
  official: OfficialAccountSchema,
});
export type OfficialSession = Static<typeof OfficialSessionSchema>;

export const CreateOfficialBodySchema = Type.Object(
  {
    username: Username,
    name: Type.String({ minLength: 1, maxLength: 64 }),
    agency: Type.String({ minLength: 1, maxLength: 128 }),
    jurisdiction: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 })),
    roles: Type.Array(OfficialRoleSchema, { minItems: 1, uniqueItems: true }),
    operatorId: Type.Optional(
      Type.String({ ...OperatorId, description: 'required with the `operator` role, refused without it' }),
    ),
  },
  Strict,
);
export type CreateOfficialBody = Static<typeof CreateOfficialBodySchema>;

/** A new or reset account: the initial password and the TOTP enrolment, shown once. */
export const OfficialEnrolmentSchema = Type.Object({
  official: OfficialAccountSchema,
  password: Type.String({ description: 'initial password, shown once' }),
  otpauthUri: Type.String({ description: 'otpauth:// URI for the authenticator app (also as a QR)' }),
});
export type OfficialEnrolment = Static<typeof OfficialEnrolmentSchema>;

export const OfficialListSchema = Type.Object({ items: Type.Array(OfficialAccountSchema) });
export type OfficialList = Static<typeof OfficialListSchema>;
