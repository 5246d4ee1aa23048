import { RideTraceClient } from '@ridetrace/sdk';
import { createClient } from '@ridetrace/server';
import type { BenchContext } from '../lib/context.js';
import type { ServerChild } from '../lib/server.js';
import { pool, type Sizes } from './phase-context.js';

export interface World {
  admin: RideTraceClient;
  official: { clientId: string; clientSecret: string };
  operator: RideTraceClient;
  codes: string[];
  tokens: string[];
}

/** Through the API: an operator with carriers and their codes, confirmed passengers with tokens, an official. */
export async function prepareWorld(ctx: BenchContext['ctx'], server: ServerChild, s: Sizes): Promise<World> {
  const adminCreds = await createClient(ctx.db, { name: 'bench admin', role: 'admin' });
  const admin = new RideTraceClient({ baseUrl: server.url });
  await admin.loginClient(adminCreds.clientId, adminCreds.clientSecret);
  await admin.createOperator('bench-bus', 'Bench Bus Co.');
  const opCreds = await admin.createClient({ name: 'bench ops', role: 'operator', operatorId: 'bench-bus' });
  const official = await admin.createClient({ name: 'bench health office', role: 'official' });
  const operator = new RideTraceClient({ baseUrl: server.url });
  await operator.loginClient(opCreds.clientId, opCreds.clientSecret);
  const codes = await pool(
    Array.from({ length: s.scanCarriers }, (_, i) => i),
    4,
    async (i) => {
      const c = await operator.createCarrier({
        kind: 'bus',
        plate: `粤B${String(10000 + i)}`,
        route: '36路',
        city: '深圳',
      });
      return (await operator.currentCode(c.id)).url;
    },
  );
  const consentVersion = ctx.config.consentVersion;
  const tokens = await pool(
    Array.from({ length: s.scanPassengers }, (_, i) => i),
    16,
    async (i) => {
      const p = new RideTraceClient({ baseUrl: server.url });
      await p.loginPassenger(`dev:bench-${i}`);
      await p.confirm({ name: '测试乘客', phone: String(13_800_000_000 + i), consentVersion });
      return p.accessToken!;
    },
  );
  return { admin, official, operator, codes, tokens };
}
