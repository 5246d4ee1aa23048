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
    plate: Type.Optional(
      Type.String({ minLength: 1, maxLength: 16, description: 'plate starts with this (case-insensitive)' }),
    ),
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

/** Most rows one import request may write (`count`); the console imports a large file in slices. */
export const CARRIER_IMPORT_MAX_SLICE = 2000;

export const ImportCarriersBodySchema = Type.Object(
  {
    csv: Type.String({
      minLength: 1,
      maxLength: 4_000_000,
      description:
        'UTF-8 CSV with the header `kind,plate,route,city` and optionally `operator` (as `pnpm cli carriers import`)',
    }),
    operatorId: Type.Optional(
      Type.String({
        ...OperatorId,
        description: 'admins: operator of rows without an `operator` value; operators import for their own',
      }),
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'check every row and report; write nothing' })),
    from: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'first data row to write (0-based); every row is still checked',
      }),
    ),
    count: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: CARRIER_IMPORT_MAX_SLICE,
        description: 'rows to write from `from`',
      }),
    ),
  },
  Strict,
);
export type ImportCarriersBody = Static<typeof ImportCarriersBodySchema>;

/** One reason a CSV row was refused; `line` is the file line the row starts on. */
export const CsvProblemSchema = Type.Object({
  line: Type.Integer(),
  field: Type.String(),
  message: Type.String(),
});
export type CsvProblem = Static<typeof CsvProblemSchema>;

export const CarrierImportResultSchema = Type.Object({
  rows: Type.Integer({ description: 'data rows in the file' }),
  from: Type.Integer(),
  count: Type.Integer({ description: 'rows of this slice (written unless dryRun)' }),
  created: Type.Integer(),
  updated: Type.Integer({
    description: 'existing carriers (same operator and plate) whose kind, route or city changed',
  }),
  unchanged: Type.Integer(),
  written: Type.Boolean(),
});
export type CarrierImportResult = Static<typeof CarrierImportResultSchema>;

/** Most posters one PDF request may hold; the CLI (`pnpm cli posters`) prints whole fleets. */
export const POSTER_SHEET_MAX = 200;

export const PosterSheetQuerySchema = Type.Object(
  {
    ids: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,12}(,[0-9]{1,12}){0,199}$',
        description: 'comma-separated carrier ids',
      }),
    ),
    kind: Type.Optional(CarrierKindSchema),
    route: Type.Optional(Route),
    city: Type.Optional(City),
    operatorId: Type.Optional(OperatorId),
    plate: Type.Optional(
      Type.String({ minLength: 1, maxLength: 16, description: 'plate starts with this (case-insensitive)' }),
    ),
  },
  Strict,
);
export type PosterSheetQuery = Static<typeof PosterSheetQuerySchema>;

export const StaffAccountSchema = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  operatorId: Type.String(),
  disabled: Type.Boolean(),
  carriers: Type.Integer({ description: 'carriers it is bound to' }),
});
export type StaffAccount = Static<typeof StaffAccountSchema>;

export const StaffAccountListQuerySchema = Type.Object({ operatorId: Type.Optional(OperatorId) }, Strict);

export const StaffAccountListSchema = Type.Object({ items: Type.Array(StaffAccountSchema) });
export type StaffAccountList = Static<typeof StaffAccountListSchema>;
