import {
  type AppContext,
  bindStaff,
  confirm,
  createCarrier,
  createClient,
  createOperator,
  listCarriers,
  passengerLogin,
  recordRide,
  verifyPhoneWithSuperApp,
} from '@ridetrace/server';
import type { CarrierKind } from '@ridetrace/shared';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { withContext } from '../context.js';
import { GIVEN_NAMES, pick, prng, SURNAMES } from '../demo-people.js';

export interface DemoReport {
  operators: number;
  carriers: number;
  passengers: number;
  rides: number;
  clients: { role: string; clientId: string; clientSecret: string }[];
}

/** A small city: three operators, buses on routes, taxis, metro cars, a ferry; passengers riding for a week. */
export async function seedDemo(
  ctx: AppContext,
  opts: { passengers: number; days: number; seed: number },
): Promise<DemoReport> {
  const rnd = prng(opts.seed);
  const suffix = String(opts.seed);
  const operators = [
    { id: `demo-bus-${suffix}`, name: '示范公交集团 Demo Bus', kinds: ['bus'] as CarrierKind[] },
    { id: `demo-taxi-${suffix}`, name: '示范出租车 Demo Taxi', kinds: ['taxi'] as CarrierKind[] },
    { id: `demo-metro-${suffix}`, name: '示范地铁 Demo Metro', kinds: ['metro', 'ferry'] as CarrierKind[] },
  ];
  const report: DemoReport = { operators: 0, carriers: 0, passengers: 0, rides: 0, clients: [] };
  const carriers: { id: number }[] = [];
  for (const op of operators) {
    await createOperator(ctx.db, op.id, op.name).catch(() => undefined); // re-seeding keeps the operator
    report.operators++;
    const who = { operatorId: op.id };
    for (let i = 1; i <= 12; i++) {
      const kind = op.kinds[i % op.kinds.length]!;
      const plate =
        kind === 'metro'
          ? `M${suffix}-${100 + i}`
          : kind === 'ferry'
            ? `F${suffix}-${i}`
            : `粤B${suffix}D${String(i).padStart(3, '0')}`;
      const route =
        kind === 'bus'
          ? `${pick(rnd, ['36', '101', 'M202', '8'])}路`
          : kind === 'metro'
            ? `${1 + (i % 4)}号线`
            : kind === 'ferry'
              ? '蛇口—前海'
              : undefined;
      try {
        carriers.push(
          await createCarrier(ctx, who, { kind, plate, city: '深圳', ...(route ? { route } : {}) }),
        );
        report.carriers++;
      } catch {
        // already seeded: use the existing carrier with this plate
        const page = await listCarriers(ctx, who, { limit: 200 });
        const existing = page.items.find((c) => c.plate === plate);
        if (existing) carriers.push(existing);
      }
    }
    const staff = await createClient(ctx.db, {
      name: `demo staff ${op.id}`,
      role: 'staff',
      operatorId: op.id,
    });
    if (carriers.length > 0) await bindStaff(ctx, who, carriers[carriers.length - 1]!.id, staff.clientId);
    report.clients.push({
      role: `staff (${op.id})`,
      clientId: staff.clientId,
      clientSecret: staff.clientSecret,
    });
    const opClient = await createClient(ctx.db, {
      name: `demo operator ${op.id}`,
      role: 'operator',
      operatorId: op.id,
    });
    report.clients.push({
      role: `operator (${op.id})`,
      clientId: opClient.clientId,
      clientSecret: opClient.clientSecret,
    });
  }
  const official = await createClient(ctx.db, { name: 'demo health office', role: 'official' });
  report.clients.push({ role: 'official', clientId: official.clientId, clientSecret: official.clientSecret });

  const now = ctx.now().getTime();
  for (let p = 0; p < opts.passengers; p++) {
    const { passenger: login } = await passengerLogin(ctx, `dev:demo-${suffix}-${p}`);
    const phone = `139${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`;
    // As the super-app's phone button would (dev provider): demo passengers have verified phones.
    await verifyPhoneWithSuperApp(ctx, login.id, `dev:${phone}`);
    await confirm(ctx, login.id, {
      name: pick(rnd, SURNAMES) + pick(rnd, GIVEN_NAMES),
      phone,
      consentVersion: ctx.config.consentVersion,
    });
    report.passengers++;
    for (let r = 0; r < opts.days * 2; r++) {
      const boardedAt = new Date(now - Math.floor(rnd() * opts.days * 86_400_000));
      await recordRide(ctx, ctx.db, {
        passengerId: login.id,
        carrierId: pick(rnd, carriers).id,
        generation: null,
        clientRideId: randomUUID(),
        time: { boardedAt, source: 'scan', late: false },
        receivedAt: boardedAt,
        registeredBy: null,
      });
      report.rides++;
    }
  }
  return report;
}

export function registerSeedCommands(program: Command): void {
  program
    .command('seed')
    .description('demo data')
    .command('demo')
    .description('a small demo city: operators, carriers, staff, an official, passengers and a week of rides')
    .option('--passengers <n>', 'passengers', (v) => Number(v), 50)
    .option('--days <n>', 'days of rides', (v) => Number(v), 7)
    .option('--seed <n>', 'random seed (different seeds give separate cities)', (v) => Number(v), 1)
    .action((opts: { passengers: number; days: number; seed: number }) =>
      withContext(async (ctx) => {
        if (ctx.config.mode === 'production') throw new Error('seed demo refuses to run in production');
        const r = await seedDemo(ctx, opts);
        console.log(
          `demo city: ${r.operators} operators, ${r.carriers} carriers, ${r.passengers} passengers, ${r.rides} rides`,
        );
        console.log('clients (secrets shown once):');
        for (const c of r.clients) console.log(`  ${c.role}: ${c.clientId} ${c.clientSecret}`);
        console.log('passengers log in with dev login codes dev:demo-<seed>-<n>');
      }),
    );
}
