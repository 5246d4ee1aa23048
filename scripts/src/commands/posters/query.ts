import type { AppContext } from '@ridetrace/server/context';
import { signCodeToken } from '@ridetrace/server/crypto';
import type { CarrierRow } from '@ridetrace/server/db/tables';
import { findOperator } from '@ridetrace/server/modules/admin/admin.repository';
import { listCarriers } from '@ridetrace/server/modules/carriers/carriers.repository';
import { codeQrContent } from '@ridetrace/server/modules/carriers/carriers.service';
import type { Carrier, CarrierKind } from '@ridetrace/shared';

/** Which carriers get a poster: the active ones of an operator, optionally of one route and one kind. */
export interface PosterFilter {
  operator: string;
  route?: string | undefined;
  kind?: CarrierKind | undefined;
}

/** What a poster shows of its carrier (as the API has it), with the QR content of the carrier's current code. */
export type PosterCarrier = Pick<
  Carrier,
  'id' | 'operatorId' | 'kind' | 'plate' | 'route' | 'city' | 'codeGeneration'
> & {
  /** The same content as GET /v1/carriers/:id/code answers, on the config's publicBaseUrl. */
  url: string;
};

/** Nothing to print: unknown operator, or no active carrier matches. */
export class PosterError extends Error {}

const PAGE_SIZE = 1000;

/**
 * The carriers that `filter` selects, in id order, with their current codes. All the database reads of the
 * posters command are here. Throws PosterError when the operator does not exist or no carrier matches.
 */
export async function findPosterCarriers(ctx: AppContext, filter: PosterFilter): Promise<PosterCarrier[]> {
  if (!(await findOperator(ctx.db, filter.operator))) {
    throw new PosterError(`operator '${filter.operator}' does not exist`);
  }
  const rows = await activeCarriers(ctx, filter);
  if (rows.length === 0) {
    const filters = [
      filter.route !== undefined ? `route '${filter.route}'` : '',
      filter.kind !== undefined ? `kind ${filter.kind}` : '',
    ].filter(Boolean);
    throw new PosterError(
      `operator '${filter.operator}' has no active carriers${filters.length ? ` with ${filters.join(' and ')}` : ''}: no posters written`,
    );
  }
  return rows.map((row) => ({
    id: row.id,
    operatorId: row.operator_id,
    kind: row.kind,
    plate: row.plate,
    route: row.route,
    city: row.city,
    codeGeneration: row.code_generation,
    url: codeQrContent(
      ctx,
      signCodeToken(ctx.keyring, { carrierId: row.id, generation: row.code_generation }),
    ),
  }));
}

async function activeCarriers(ctx: AppContext, filter: PosterFilter): Promise<CarrierRow[]> {
  const rows: CarrierRow[] = [];
  for (let afterId: number | undefined; ;) {
    const page = await listCarriers(ctx.db, {
      operatorId: filter.operator,
      route: filter.route,
      kind: filter.kind,
      status: 'active',
      afterId,
      limit: PAGE_SIZE,
    });
    rows.push(...page);
    if (page.length < PAGE_SIZE) return rows;
    afterId = page[page.length - 1]!.id;
  }
}
