import {
  activeCarriersWithCodes,
  operatorExists,
  type AppContext,
  type PosterCarrier,
} from '@ridetrace/server';
import type { CarrierKind } from '@ridetrace/shared';

/** Which carriers get a poster: the active ones of an operator, optionally of one route and one kind. */
export interface PosterFilter {
  operator: string;
  route?: string | undefined;
  kind?: CarrierKind | undefined;
}

/** Nothing to print: unknown operator, or no active carrier matches. */
export class PosterError extends Error {}

/**
 * The carriers that `filter` selects, in id order, with their current codes (through the carriers service).
 * Throws PosterError when the operator does not exist or no carrier matches.
 */
export async function findPosterCarriers(ctx: AppContext, filter: PosterFilter): Promise<PosterCarrier[]> {
  if (!(await operatorExists(ctx.db, filter.operator))) {
    throw new PosterError(`operator '${filter.operator}' does not exist`);
  }
  const found = await activeCarriersWithCodes(ctx, {
    operatorId: filter.operator,
    route: filter.route,
    kind: filter.kind,
  });
  if (found.length === 0) {
    const filters = [
      filter.route !== undefined ? `route '${filter.route}'` : '',
      filter.kind !== undefined ? `kind ${filter.kind}` : '',
    ].filter(Boolean);
    throw new PosterError(
      `operator '${filter.operator}' has no active carriers${filters.length ? ` with ${filters.join(' and ')}` : ''}: no posters written`,
    );
  }
  return found.map(({ carrier: c, code }) => ({
    id: c.id,
    operatorId: c.operatorId,
    kind: c.kind,
    plate: c.plate,
    route: c.route,
    city: c.city,
    codeGeneration: c.codeGeneration,
    url: code.url,
  }));
}
