import type { CarrierKind, POSTER_SHEET_MAX } from '@ridetrace/shared';

/**
 * The carrier kinds, as a record rather than the shared list: it keeps the contract's schemas out of the bundle, and
 * the type fails to compile when the API gains a kind this lacks.
 */
const KIND_SET: Record<CarrierKind, true> = { bus: true, taxi: true, metro: true, ferry: true };
export const KINDS = Object.keys(KIND_SET) as CarrierKind[];

/** Most posters one sheets PDF may hold (the API answers too_many_posters beyond it). */
export const POSTER_MAX: typeof POSTER_SHEET_MAX = 200;

/** Operator ids as the API accepts them (shared OperatorId). */
export const OPERATOR_ID = /^[a-z0-9][a-z0-9-]{1,39}$/;

/** Plates as the API accepts them (shared PLATE_PATTERN): letters of any script, digits, `·.- `, 2–16 long. */
export const PLATE = /^[\p{L}\p{N}][\p{L}\p{N}·.\- ]{0,14}[\p{L}\p{N}]$/u;
