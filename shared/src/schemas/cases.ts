import { Type, type Static } from '@sinclair/typebox';
import { CarrierKindSchema } from './carriers.js';
import { DateTime, Page, PageQuery, Strict } from './common.js';
import { IdNumber, IdTypeField, IdTypeOutput, Phone, RideSchema } from './rides.js';

export const CaseSubjectSchema = Type.Union([
  Type.Object({ phone: Phone }, Strict),
  Type.Object({ idType: IdTypeField, idNumber: IdNumber }, Strict),
  Type.Object({ passengerId: Type.String({ format: 'uuid' }) }, Strict),
]);
export type CaseSubject = Static<typeof CaseSubjectSchema>;

export const CreateCaseBodySchema = Type.Object(
  {
    subject: CaseSubjectSchema,
    infectiousFrom: DateTime('start of the infectious window'),
    infectiousTo: DateTime('end of the infectious window (≤ 30 days after the start, not in the future)'),
    caseNumber: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\p{L}\\p{N}_./:-]+$' }),
    reason: Type.String({ minLength: 1, maxLength: 500, description: 'why the trace is needed (audited)' }),
  },
  Strict,
);
export type CreateCaseBody = Static<typeof CreateCaseBodySchema>;

export const CASE_STATUSES = ['open', 'closed'] as const;

export const CaseSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  caseNumber: Type.String(),
  status: Type.Union(CASE_STATUSES.map((s) => Type.Literal(s))),
  infectiousFrom: DateTime(),
  infectiousTo: DateTime(),
  reason: Type.String(),
  subject: Type.Object({
    name: Type.Union([Type.String(), Type.Null()], {
      description: 'masked unless the token holds trace:reveal',
    }),
    phone: Type.Union([Type.String(), Type.Null()], {
      description: 'masked unless the token holds trace:reveal',
    }),
    passengers: Type.Integer({
      description: 'registrations verified for the subject (app user, manual rider), all traced',
    }),
  }),
  unverifiedClaims: Type.Array(
    Type.Object({
      passengerId: Type.String(),
      name: Type.Union([Type.String(), Type.Null()], {
        description: 'masked unless the token holds trace:reveal',
      }),
      phone: Type.Union([Type.String(), Type.Null()], {
        description: 'masked unless the token holds trace:reveal',
      }),
    }),
    {
      description:
        "registrations that typed the subject's phone or ID number without verifying it: never traced; open a " +
        'case by passengerId to trace one',
    },
  ),
  openedBy: Type.String(),
  openedAt: DateTime(),
  closedAt: Type.Union([DateTime(), Type.Null()]),
});
export type Case = Static<typeof CaseSchema>;

export const CaseIdParamsSchema = Type.Object({ id: Type.String({ format: 'uuid' }) }, Strict);
export type CaseIdParams = Static<typeof CaseIdParamsSchema>;

export const ListCasesQuerySchema = Type.Object(
  { status: Type.Optional(Type.Union(CASE_STATUSES.map((s) => Type.Literal(s)))), ...PageQuery },
  Strict,
);
export type ListCasesQuery = Static<typeof ListCasesQuerySchema>;
export const CasePageSchema = Page(CaseSchema);

export const CloseCaseBodySchema = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) },
  Strict,
);
export type CloseCaseBody = Static<typeof CloseCaseBodySchema>;

export const ExposureLevelSchema = Type.Union([Type.Literal('close'), Type.Literal('possible')]);
export type ExposureLevel = Static<typeof ExposureLevelSchema>;

export const ContactSchema = Type.Object({
  carrier: Type.Object({
    id: Type.Integer(),
    kind: CarrierKindSchema,
    plate: Type.String(),
    route: Type.Union([Type.String(), Type.Null()]),
    city: Type.String(),
  }),
  caseBoardedAt: DateTime('when the case boarded'),
  contactBoardedAt: DateTime('when the exposed person boarded'),
  gapMinutes: Type.Number({ description: 'absolute difference of the boarding times, minutes' }),
  level: ExposureLevelSchema,
  degree: Type.Union([Type.Literal(1), Type.Literal(2)]),
  via: Type.Union([Type.String(), Type.Null()], {
    description: 'degree 2: the degree-1 person id this contact came through',
  }),
});
export type Contact = Static<typeof ContactSchema>;

export const ExposureSchema = Type.Object({
  personId: Type.String({ description: 'passenger id (pseudonym) of the exposed person' }),
  name: Type.Union([Type.String(), Type.Null()], { description: 'masked unless trace:reveal' }),
  phone: Type.Union([Type.String(), Type.Null()], { description: 'masked unless trace:reveal' }),
  idNumber: Type.Union([Type.String(), Type.Null()], { description: 'only with trace:reveal' }),
  idType: Type.Optional(IdTypeOutput),
  registration: Type.Union([Type.Literal('app'), Type.Literal('manual')]),
  level: ExposureLevelSchema,
  degree: Type.Union([Type.Literal(1), Type.Literal(2)]),
  firstContactAt: DateTime(),
  contacts: Type.Array(ContactSchema),
});
export type Exposure = Static<typeof ExposureSchema>;

export const ExposuresQuerySchema = Type.Object(
  {
    degree: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 })),
    ...PageQuery,
  },
  Strict,
);
export type ExposuresQuery = Static<typeof ExposuresQuerySchema>;

export const ExposurePageSchema = Type.Object({
  caseId: Type.String(),
  degree: Type.Integer(),
  revealed: Type.Boolean(),
  caseRides: Type.Integer({ description: 'rides of the case in the window' }),
  total: Type.Integer({ description: 'exposed persons over all pages' }),
  unlinkable: Type.Integer({
    description: 'exposed rides of people who deleted their account (counted, not listed)',
  }),
  items: Type.Array(ExposureSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type ExposurePage = Static<typeof ExposurePageSchema>;

/**
 * The columns of `GET /v1/cases/:id/exposures.csv`, in order: one line per contact of an exposed person (the
 * person's fields, then the contact's), masked and revealed as in the JSON exposures.
 */
export const EXPOSURE_CSV_COLUMNS = [
  'person_id',
  'name',
  'phone',
  'id_number',
  'registration',
  'person_level',
  'degree',
  'via',
  'carrier_kind',
  'plate',
  'route',
  'city',
  'case_boarded_at',
  'contact_boarded_at',
  'gap_minutes',
  'contact_level',
] as const;
export type ExposureCsvColumn = (typeof EXPOSURE_CSV_COLUMNS)[number];

export const NOTIFICATION_CHANNELS = ['app', 'sms'] as const;
export const NOTIFICATION_STATES = ['queued', 'sending', 'sent', 'failed'] as const;

export const NotificationSchema = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  personId: Type.String(),
  channel: Type.Union(NOTIFICATION_CHANNELS.map((c) => Type.Literal(c))),
  state: Type.Union(NOTIFICATION_STATES.map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  sentAt: Type.Union([DateTime(), Type.Null()]),
});
export type Notification = Static<typeof NotificationSchema>;

export const NotifyResultSchema = Type.Object({
  caseId: Type.String(),
  exposed: Type.Integer({ description: 'persons exposed (degree 1)' }),
  queued: Type.Integer({ description: 'notifications newly queued by this call' }),
  alreadyQueued: Type.Integer(),
});
export type NotifyResult = Static<typeof NotifyResultSchema>;

export const CaseNotificationsSchema = Type.Object({
  items: Type.Array(NotificationSchema),
  summary: Type.Record(Type.String(), Type.Integer()),
});
export type CaseNotifications = Static<typeof CaseNotificationsSchema>;

export const MyNotificationSchema = Type.Object({
  id: Type.String(),
  kind: Type.Literal('exposure'),
  createdAt: DateTime(),
  exposure: Type.Object({
    carrier: ContactSchema.properties.carrier,
    boardedAt: DateTime(),
    level: ExposureLevelSchema,
  }),
  advice: Type.Object({ 'zh-CN': Type.String(), en: Type.String() }),
  observeUntil: DateTime(),
});
export type MyNotification = Static<typeof MyNotificationSchema>;

export const HEALTH_COLOURS = ['green', 'yellow', 'red'] as const;
export type HealthColour = (typeof HEALTH_COLOURS)[number];
export const HealthColourSchema = Type.Union(HEALTH_COLOURS.map((c) => Type.Literal(c)));

export const HealthStatusSchema = Type.Object({
  colour: HealthColourSchema,
  reason: Type.Union([Type.Literal('none'), Type.Literal('case'), Type.Literal('exposure')]),
  since: Type.Union([DateTime(), Type.Null()]),
  validUntil: Type.Union([DateTime(), Type.Null()], {
    description: 'yellow: end of observation; null: open-ended',
  }),
});
export type HealthStatus = Static<typeof HealthStatusSchema>;

export const StatusTokenSchema = Type.Object({
  token: Type.String(),
  colour: HealthColourSchema,
  expiresAt: DateTime(),
});
export type StatusToken = Static<typeof StatusTokenSchema>;

export const VerifyStatusBodySchema = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  Strict,
);
export type VerifyStatusBody = Static<typeof VerifyStatusBodySchema>;

export const VerifiedStatusSchema = Type.Object({
  colour: HealthColourSchema,
  name: Type.Union([Type.String(), Type.Null()], { description: 'masked' }),
  issuedAt: DateTime(),
  expiresAt: DateTime(),
});
export type VerifiedStatus = Static<typeof VerifiedStatusSchema>;

export const ClearPersonBodySchema = Type.Object(
  {
    personId: Type.String({ format: 'uuid' }),
    caseId: Type.Optional(
      Type.String({ format: 'uuid', description: 'clear one case only; all when omitted' }),
    ),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  Strict,
);
export type ClearPersonBody = Static<typeof ClearPersonBodySchema>;

export const ItineraryQuerySchema = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 28, default: 14 })) },
  Strict,
);
export const ItinerarySchema = Type.Object({
  days: Type.Array(
    Type.Object({
      day: Type.String({ description: 'YYYY-MM-DD' }),
      cities: Type.Array(
        Type.Object({
          city: Type.String(),
          rides: Type.Array(
            Type.Object({
              id: Type.String(),
              boardedAt: DateTime(),
              carrier: ContactSchema.properties.carrier,
            }),
          ),
        }),
      ),
    }),
  ),
});
export type Itinerary = Static<typeof ItinerarySchema>;

export const AUDIT_ACTIONS = [
  'case.open',
  'case.close',
  'exposures.read',
  'exposures.reveal',
  'exposures.export',
  'case.list',
  'case.read',
  'notifications.read',
  'audit.read',
  'officials.admin',
  'case.notify',
  'person.clear',
  'data.purge',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  at: DateTime(),
  actor: Type.String({ description: 'official id, client id or system job' }),
  actorKind: Type.Union([Type.Literal('person'), Type.Literal('system'), Type.Null()]),
  actorName: Type.Union([Type.String(), Type.Null()], { description: 'snapshot at the time of the action' }),
  actorAgency: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  caseId: Type.Union([Type.String(), Type.Null()]),
  people: Type.Integer({ description: 'number of people whose data the action touched' }),
  requestId: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditQuerySchema = Type.Object(
  { caseId: Type.Optional(Type.String({ format: 'uuid' })), ...PageQuery },
  Strict,
);
export type AuditQuery = Static<typeof AuditQuerySchema>;
export const AuditPageSchema = Page(AuditEntrySchema);

export const PassengerExportSchema = Type.Object({
  generatedAt: DateTime(),
  passenger: Type.Object({
    id: Type.String(),
    registration: Type.Union([Type.Literal('app'), Type.Literal('manual')]),
    name: Type.Union([Type.String(), Type.Null()]),
    phone: Type.Union([Type.String(), Type.Null()]),
    idNumber: Type.Union([Type.String(), Type.Null()]),
    idType: Type.Optional(IdTypeOutput),
    superAppLinked: Type.Boolean(),
    consentVersion: Type.Union([Type.String(), Type.Null()]),
    consentedAt: Type.Union([DateTime(), Type.Null()]),
    createdAt: DateTime(),
  }),
  rides: Type.Array(RideSchema, { description: 'every retained ride' }),
  status: HealthStatusSchema,
  notifications: Type.Array(MyNotificationSchema),
  retentionDays: Type.Integer({ description: 'rides older than this are destroyed' }),
});
export type PassengerExport = Static<typeof PassengerExportSchema>;
