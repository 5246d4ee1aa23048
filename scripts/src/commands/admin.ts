import { createClient, createOperator, listClients, listOperators, migrateDatabase } from '@ridetrace/server';
import { ROLES, type CreateClientBody } from '@ridetrace/shared';
import { InvalidArgumentError, type Command } from 'commander';
import { withDatabase } from '../db.js';

function printClient(c: { clientId: string; clientSecret: string; role: string; scopes: string[] }) {
  console.log(`clientId:     ${c.clientId}`);
  console.log(`clientSecret: ${c.clientSecret}`);
  console.log(`role:         ${c.role} (${c.scopes.join(' ')})`);
  console.log('The secret is shown only now; store it in the integration’s secret store.');
}

const roleArg = (v: string) => {
  if (!ROLES.includes(v as never) || v === 'passenger') {
    throw new InvalidArgumentError(
      `role must be one of ${ROLES.filter((r) => r !== 'passenger').join(', ')}`,
    );
  }
  return v as CreateClientBody['role'];
};

/** db migrate, admin bootstrap, operators create|list, clients create|list. */
export function registerAdminCommands(program: Command): void {
  program
    .command('db')
    .description('database maintenance')
    .command('migrate')
    .description('apply pending database migrations')
    .action(() =>
      withDatabase(
        async (_db, url) => {
          const applied = await migrateDatabase(url);
          console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
        },
        { migrate: false },
      ),
    );

  program
    .command('admin')
    .description('administration')
    .command('bootstrap')
    .description(
      'create the first admin client (refuses when an admin exists unless --force); prints its secret once',
    )
    .option('--name <name>', 'client name', 'first admin')
    .option('--force', 'create another admin even if one exists', false)
    .action((opts: { name: string; force: boolean }) =>
      withDatabase(async (db) => {
        const admins = (await listClients(db)).filter((c) => c.role === 'admin' && !c.disabledAt);
        if (admins.length > 0 && !opts.force) {
          throw new Error(`an admin client exists (${admins[0]!.clientId}); use --force to create another`);
        }
        printClient(await createClient(db, { name: opts.name, role: 'admin' }));
      }),
    );

  const operators = program.command('operators').description('transport operators');
  operators
    .command('create')
    .description('create an operator (transport company)')
    .argument('<id>', 'operator id: lower-case letters, digits, hyphens')
    .argument('<name>', 'display name')
    .action((id: string, name: string) =>
      withDatabase(async (db) => {
        if (!/^[a-z0-9][a-z0-9-]{1,39}$/.test(id))
          throw new Error('operator id must match ^[a-z0-9][a-z0-9-]{1,39}$');
        const op = await createOperator(db, id, name);
        console.log(`operator ${op.id} created`);
      }),
    );
  operators
    .command('list')
    .description('list operators')
    .action(() =>
      withDatabase(async (db) => {
        for (const op of await listOperators(db)) console.log(`${op.id}\t${op.name}`);
      }),
    );

  const clients = program
    .command('clients')
    .description('integration clients (staff, operator, official, admin)');
  clients
    .command('create')
    .description('create an integration client; prints its secret once')
    .requiredOption('--role <role>', 'staff | operator | official | admin', roleArg)
    .requiredOption('--name <name>', 'client name')
    .option('--operator <id>', 'operator of a staff or operator client')
    .option(
      '--scopes <list>',
      'comma-separated subset of the role scopes (e.g. trace:read for an official without reveal)',
    )
    .action((opts: { role: CreateClientBody['role']; name: string; operator?: string; scopes?: string }) =>
      withDatabase(async (db) => {
        const c = await createClient(db, {
          role: opts.role,
          name: opts.name,
          ...(opts.operator ? { operatorId: opts.operator } : {}),
          ...(opts.scopes
            ? { scopes: opts.scopes.split(',').map((s) => s.trim()) as CreateClientBody['scopes'] }
            : {}),
        });
        printClient(c);
      }),
    );
  clients
    .command('list')
    .description('list integration clients (never their secrets)')
    .action(() =>
      withDatabase(async (db) => {
        for (const c of await listClients(db)) {
          console.log(
            [
              c.clientId,
              c.role,
              c.operatorId ?? '-',
              c.scopes.join(' '),
              c.disabledAt ? 'disabled' : 'active',
              c.name,
            ].join('\t'),
          );
        }
      }),
    );
}
