import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Page, PageQuery, Strict, Uuid } from './common.js';

export const REVEAL_REQUEST_STATES = ['pending', 'approved', 'refused', 'expired'] as const;
export type RevealRequestState = (typeof REVEAL_REQUEST_STATES)[number];
const RevealRequestStateSchema = Type.Union(REVEAL_REQUEST_STATES.map((s) => Type.Literal(s)));

export const CreateRevealRequestBodySchema = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'why unmasked identities are needed for this case (shown to the approver, audited)',
    }),
  },
  Strict,
);
export type CreateRevealRequestBody = Static<typeof CreateRevealRequestBodySchema>;

export const DecideRevealRequestBodySchema = Type.Object(
  { note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) },
  Strict,
);
export type DecideRevealRequestBody = Static<typeof DecideRevealRequestBodySchema>;

const ActorSchema = Type.Object({
  id: Type.String({ description: 'official id or client id' }),
  kind: Type.Union([Type.Literal('person'), Type.Literal('system')]),
  name: Type.String(),
  agency: Type.Union([Type.String(), Type.Null()]),
});

export const RevealRequestSchema = Type.Object({
  id: Uuid(),
  caseId: Uuid(),
  caseNumber: Type.String(),
  requestedBy: ActorSchema,
  reason: Type.String(),
  requestedAt: DateTime(),
  state: RevealRequestStateSchema,
  selfGranted: Type.Boolean({ description: 'granted by the requester alone (REVEAL_APPROVAL=single)' }),
  decidedBy: Type.Union([ActorSchema, Type.Null()]),
  decidedAt: Type.Union([DateTime(), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()], { description: "the decider's note" }),
  expiresAt: DateTime('pending: when the request lapses; approved: when the grant ends'),
});
export type RevealRequest = Static<typeof RevealRequestSchema>;

export const RevealRequestIdParamsSchema = Type.Object({ id: Uuid() }, Strict);

export const ListRevealRequestsQuerySchema = Type.Object(
  {
    state: Type.Optional(RevealRequestStateSchema),
    caseId: Type.Optional(Uuid()),
    ...PageQuery,
  },
  Strict,
);
export type ListRevealRequestsQuery = Static<typeof ListRevealRequestsQuerySchema>;
export const RevealRequestPageSchema = Page(RevealRequestSchema);
export type RevealRequestPage = Static<typeof RevealRequestPageSchema>;

/** `?reveal=true` on case and exposure reads: unmasked identities, with a live grant for the case. */
export const RevealQuery = {
  reveal: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'unmask names, phones and ID numbers: needs trace:reveal and a live reveal grant for this case (403 reveal_grant_required)',
    }),
  ),
};
