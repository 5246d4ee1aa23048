import { Type, type Static } from '@sinclair/typebox';
import { CarrierKindSchema } from './carriers.js';
import { DateTime, Page, PageQuery, Strict } from './common.js';
import { AccessLogEntrySchema } from './privacy.js';
import { RevealQuery } from './reveals.js';
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
  reason: Type.String({ description: 'empty once destroyed by the programme wind-down' }),
  subject: Type.Object({
    name: Type.Union([Type.String(), Type.Null()], {
      description: 'masked unless read with ?reveal=true and a reveal grant',
    }),
    phone: Type.Union([Type.String(), Type.Null()], {
      description: 'masked unless read with ?reveal=true and a reveal grant',
    }),
    passengers: Type.Integer({
      description: 'registrations verified for the subject (app user, manual rider), all traced',
    }),
  }),
  unverifiedClaims: Type.Array(
    Type.Object({
      passengerId: Type.String(),
      name: Type.Union([Type.String(), Type.Null()], {
        description: 'masked unless read with ?reveal=true and a reveal grant',
      }),
      phone: Type.Union([Type.String(), Type.Null()], {
        description: 'masked unless read with ?reveal=true and a reveal grant',
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

export const CaseReadQuerySchema = Type.Object({ ...RevealQuery }, Strict);

export const ListCasesQuerySchema = Type.Object(
  {
    status: Type.Optional(Type.Union(CASE_STATUSES.map((s) => Type.Literal(s)))),
    caseNumber: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[\\p{L}\\p{N}_./:-]+$',
        description:
          'cases whose number starts with this, ignoring letter case (a whole number finds that case; its start, ' +
          'e.g. the agency and year, finds the series)',
      }),
    ),
    ...PageQuery,
  },
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

/** Warnings about one ride: an object with all three keys, so a console shows one badge per true key. */
export const RideFlagsSchema = Type.Object(
  {
    carrierSwitch: Type.Boolean({
      description:
        'the same passenger was registered on another carrier within RIDES_MIN_CARRIER_SWITCH_SECONDS of this ride ' +
        '(an impossible ride: a shared phone, a code scanned off a photo); set when the ride was registered',
    }),
    lateOffline: Type.Boolean({
      description:
        'registered more than RIDES_LATE_AFTER_SECONDS after boarding (an offline scan uploaded late, or staff ' +
        'registering afterwards): the boarding time is the one the client gave',
    }),
    manual: Type.Boolean({ description: 'registered by staff for a rider without the app (source manual)' }),
  },
  {
    description:
      'warnings about the ride, each true or false (all false: an ordinary live scan); CSV: columns ' +
      'carrier_switch, late_offline, manual',
  },
);
export type RideFlags = Static<typeof RideFlagsSchema>;

/** The jurisdiction a trace was limited to, as the replies name it. */
const AppliedJurisdiction = Type.Union([Type.Array(Type.String()), Type.Null()], {
  description:
    "the official person's jurisdiction this reply was limited to: only rides on carriers whose city is one of " +
    'these (compared exactly); null: not limited (every city)',
});

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
  flags: RideFlagsSchema,
});
export type Contact = Static<typeof ContactSchema>;

export const ExposureSchema = Type.Object({
  personId: Type.String({ description: 'passenger id (pseudonym) of the exposed person' }),
  name: Type.Union([Type.String(), Type.Null()], {
    description: 'masked unless ?reveal=true with a reveal grant',
  }),
  phone: Type.Union([Type.String(), Type.Null()], {
    description: 'masked unless ?reveal=true with a reveal grant',
  }),
  idNumber: Type.Union([Type.String(), Type.Null()], {
    description: 'only with ?reveal=true and a reveal grant',
  }),
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
    ...RevealQuery,
    ...PageQuery,
  },
  Strict,
);
export type ExposuresQuery = Static<typeof ExposuresQuerySchema>;

export const ExposurePageSchema = Type.Object({
  caseId: Type.String(),
  degree: Type.Integer(),
  revealed: Type.Boolean(),
  jurisdiction: AppliedJurisdiction,
  caseRides: Type.Integer({ description: 'rides of the case in the window (within the jurisdiction)' }),
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
  'carrier_switch',
  'late_offline',
  'manual',
] as const;
export type ExposureCsvColumn = (typeof EXPOSURE_CSV_COLUMNS)[number];

export const CaseRideSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  carrier: ContactSchema.properties.carrier,
  boardedAt: DateTime('when the subject boarded'),
  source: Type.Union([Type.Literal('scan'), Type.Literal('offline'), Type.Literal('manual')], {
    description: 'live scan, offline scan sent later, or registered by staff',
  }),
  flags: RideFlagsSchema,
});
export type CaseRide = Static<typeof CaseRideSchema>;

export const CaseRidesSchema = Type.Object({
  caseId: Type.String(),
  jurisdiction: AppliedJurisdiction,
  items: Type.Array(CaseRideSchema, {
    description:
      "the rides of every registration verified for the case's subject in the infectious window, oldest first",
  }),
});
export type CaseRides = Static<typeof CaseRidesSchema>;

export const NOTIFICATION_CHANNELS = ['app', 'sms'] as const;
/** `sent`: the provider accepted it; `delivered`: its delivery receipt says it reached the phone. */
export const NOTIFICATION_STATES = ['queued', 'sending', 'sent', 'delivered', 'failed'] as const;

export const NotificationSchema = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  personId: Type.String(),
  degree: Type.Union([Type.Literal(1), Type.Literal(2)], {
    description: '1: exposure notice; 2: secondary-contact notice (rode with a close contact of the case)',
  }),
  channel: Type.Union(NOTIFICATION_CHANNELS.map((c) => Type.Literal(c))),
  state: Type.Union(NOTIFICATION_STATES.map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  sentAt: Type.Union([DateTime(), Type.Null()]),
  deliveredAt: Type.Union([DateTime(), Type.Null()], {
    description:
      "when the provider's delivery receipt said it reached the phone (POST /v1/delivery-receipts)",
  }),
});
export type Notification = Static<typeof NotificationSchema>;

export const NotifyBodySchema = Type.Object(
  {
    degree: Type.Optional(
      Type.Union([Type.Literal(1), Type.Literal(2)], {
        description:
          '1 (default): the exposed persons; 2: also their secondary contacts (contacts of close degree-1 contacts), ' +
          'who get a secondary-contact notice',
      }),
    ),
  },
  Strict,
);
export type NotifyBody = Static<typeof NotifyBodySchema>;

const NotifyCountsSchema = Type.Object({
  exposed: Type.Integer({ description: 'persons of this degree found now' }),
  queued: Type.Integer({ description: 'notifications of this degree newly queued by this call' }),
  alreadyQueued: Type.Integer({ description: 'persons of this degree notified for this case before' }),
});

export const NotifyResultSchema = Type.Object({
  caseId: Type.String(),
  degree: Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'the degree asked for' }),
  exposed: Type.Integer({ description: 'persons found, both degrees asked for' }),
  queued: Type.Integer({ description: 'notifications newly queued by this call' }),
  alreadyQueued: Type.Integer(),
  byDegree: Type.Object(
    { 1: NotifyCountsSchema, 2: NotifyCountsSchema },
    { description: 'the same counts per degree (degree 2 all zero when degree 1 was asked for)' },
  ),
});
export type NotifyResult = Static<typeof NotifyResultSchema>;

export const CaseNotificationsSchema = Type.Object({
  items: Type.Array(NotificationSchema),
  summary: Type.Record(Type.String(), Type.Integer(), {
    description:
      'notifications per state: queued, sending, sent, delivered, failed (every state, zero included)',
  }),
});
export type CaseNotifications = Static<typeof CaseNotificationsSchema>;

export const MyNotificationSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('exposure'), Type.Literal('secondary_exposure')], {
    description:
      'exposure: I rode with a confirmed case; secondary_exposure: I rode with a close contact of one (the ride ' +
      'below is that ride)',
  }),
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
  'case.rides',
  'notifications.read',
  'audit.read',
  'officials.admin',
  'reveal.request',
  'reveal.grant',
  'reveal.approve',
  'reveal.refuse',
  'case.notify',
  'person.clear',
  'data.purge',
  // The programme ended (pnpm cli wind-down): every key and all personal data destroyed, a certificate signed.
  'programme.wind_down',
  // The blind-index key of identities was rotated (pnpm cli keys rotate-index): generations and counts only.
  'keys.rotate_index',
  // Staff look-ups of other people: a status token checked, a rider matched by phone or ID number.
  'status.verify',
  'passenger.lookup',
  // The audit chain recomputed for GET /v1/audit/verify: counts and the range checked only.
  'audit.verify',
  // Machine clients created, disabled or re-keyed; operators created (by an admin or the CLI).
  'clients.admin',
  'operators.admin',
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
  {
    caseId: Type.Optional(Type.String({ format: 'uuid' })),
    actor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "exactly this actor: an official id, a client id or a system job (the entry's `actor`)",
      }),
    ),
    action: Type.Optional(Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a)))),
    from: Type.Optional(DateTime('entries at or after this time')),
    to: Type.Optional(DateTime('entries before this time')),
    order: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
        description:
          'asc (default): oldest first, as the chain runs; desc: newest first (the cursor pages back)',
      }),
    ),
    ...PageQuery,
  },
  Strict,
);
export type AuditQuery = Static<typeof AuditQuerySchema>;
export const AuditPageSchema = Page(AuditEntrySchema);

export const AUDIT_BREAK_REASONS = ['sequence', 'link', 'hash', 'checkpoint'] as const;
export type AuditBreakReason = (typeof AUDIT_BREAK_REASONS)[number];

export const AuditVerifySchema = Type.Object({
  ok: Type.Boolean({ description: 'every entry checked and the last checkpoint hold' }),
  entries: Type.Integer({ description: 'entries recomputed by this call' }),
  fromSeq: Type.Integer({ description: 'the first entry checked (0: none)' }),
  toSeq: Type.Integer({ description: 'the head of the chain when the call began (0: the log is empty)' }),
  anchor: Type.Union([Type.Literal('genesis'), Type.Literal('checkpoint'), Type.Literal('none')], {
    description:
      'what the first entry checked was linked to: the start of the chain, the last signed checkpoint (verified ' +
      'by its signature and hash), or nothing (the entries before fromSeq were beyond the bound of one call and ' +
      'not checked: run `pnpm audit:verify` for the whole chain)',
  }),
  firstBroken: Type.Union(
    [
      Type.Object({
        seq: Type.Integer(),
        reason: Type.Union(
          AUDIT_BREAK_REASONS.map((r) => Type.Literal(r)),
          {
            description:
              'sequence: a gap; link: prevHash is not the hash before; hash: the entry does not hash to its hash; ' +
              'checkpoint: the last checkpoint is not signed by a known key or the entry at its seq has another hash',
          },
        ),
      }),
      Type.Null(),
    ],
    { description: 'the first entry (or checkpoint) that does not match; null when ok' },
  ),
  lastCheckpoint: Type.Union(
    [
      Type.Object({
        seq: Type.Integer(),
        at: DateTime(),
        keyId: Type.String(),
        hash: Type.String(),
        file: Type.String({ description: 'the checkpoint file, in AUDIT_CHECKPOINT_DIR' }),
        verified: Type.Boolean({ description: 'signed by a known key, and the entry at seq has this hash' }),
      }),
      Type.Null(),
    ],
    { description: 'the newest signed checkpoint in AUDIT_CHECKPOINT_DIR; null without checkpoints' },
  ),
});
export type AuditVerify = Static<typeof AuditVerifySchema>;

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
  accessLog: Type.Array(AccessLogEntrySchema, {
    description: 'every entry of GET /v1/passengers/me/access-log, newest first',
  }),
  retentionDays: Type.Integer({ description: 'rides older than this are destroyed' }),
});
export type PassengerExport = Static<typeof PassengerExportSchema>;
