import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Page, PageQuery, Strict } from './common.js';

export const CARRIER_KINDS = ['bus', 'taxi', 'metro', 'ferry'] as const;
export type CarrierKind = (typeof CARRIER_KINDS)[number];
export const CarrierKindSchema = Type.Union(CARRIER_KINDS.map((k) => Type.Literal(k)));

/** Plate or car number: letters (any script), digits, dot, hyphen; 2–16 characters. */
export const PLATE_PATTERN = '^[\\p{L}\\p{N}][\\p{L}\\p{N}·.\\- ]{0,14}[\\p{L}\\p{N}]$';

const Plate = Type.String({ pattern: PLATE_PATTERN, description: 'licence plate or car number' });
const Route = Type.String({ minLength: 1, maxLength: 40 });
const City = Type.String({ minLength: 1, maxLength: 40 });
export const OperatorId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,39}$' });

export const CarrierSchema = Type.Object({
  id: Type.Integer(),
  operatorId: Type.String(),
  kind: CarrierKindSchema,
  plate: Type.String(),
  route: Type.Union([Type.String(), Type.Null()]),
  city: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  codeGeneration: Type.Integer(),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  retiredAt: Type.Union([DateTime(), Type.Null()]),
});
export type Carrier = Static<typeof CarrierSchema>;

export const CreateCarrierBodySchema = Type.Object(
  {
    kind: CarrierKindSchema,
    plate: Plate,
    route: Type.Optional(Route),
    city: City,
    operatorId: Type.Optional(
      Type.String({ ...OperatorId, description: 'admins only; operators create for their own operator' }),
    ),
  },
  Strict,
);
export type CreateCarrierBody = Static<typeof CreateCarrierBodySchema>;

export const UpdateCarrierBodySchema = Type.Object(
  {
    plate: Type.Optional(Plate),
    route: Type.Optional(Type.Union([Route, Type.Null()])),
    city: Type.Optional(City),
  },
  { ...Strict, minProperties: 1 },
);
export type UpdateCarrierBody = Static<typeof UpdateCarrierBodySchema>;

export const ListCarriersQuerySchema = Type.Object(
  {
    kind: Type.Optional(CarrierKindSchema),
    route: Type.Optional(Route),
    city: Type.Optional(City),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('retired')])),
    operatorId: Type.Optional(OperatorId),
    ...PageQuery,
  },
  Strict,
);
export type ListCarriersQuery = Static<typeof ListCarriersQuerySchema>;

export const CarrierPageSchema = Page(CarrierSchema);
export type CarrierPage = Static<typeof CarrierPageSchema>;

export const CarrierCodeSchema = Type.Object({
  carrierId: Type.Integer(),
  generation: Type.Integer(),
  token: Type.String(),
  url: Type.String({ description: 'QR content: open this URL in the super-app' }),
});
export type CarrierCode = Static<typeof CarrierCodeSchema>;

export const CodeImageQuerySchema = Type.Object(
  {
    size: Type.Optional(Type.Integer({ minimum: 64, maximum: 2048, default: 512, description: 'pixels' })),
  },
  Strict,
);
export type CodeImageQuery = Static<typeof CodeImageQuerySchema>;

export const BindStaffBodySchema = Type.Object(
  { clientId: Type.String({ minLength: 1, maxLength: 64 }) },
  Strict,
);
export type BindStaffBody = Static<typeof BindStaffBodySchema>;

export const StaffBindingsSchema = Type.Object({
  carrierId: Type.Integer(),
  staff: Type.Array(Type.String()),
});
export type StaffBindings = Static<typeof StaffBindingsSchema>;
