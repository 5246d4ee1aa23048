import { createOfficial, disableOfficial, listOfficials, resetOfficial } from '@ridetrace/server';
import { OFFICIAL_ROLES, type OfficialEnrolment, type OfficialRole } from '@ridetrace/shared';
import { InvalidArgumentError, type Command } from 'commander';
import QRCode from 'qrcode';
import { withContext } from '../context.js';

const rolesArg = (v: string): OfficialRole[] => {
  const roles = v.split(',').map((r) => r.trim());
  const bad = roles.filter((r) => !OFFICIAL_ROLES.includes(r as OfficialRole));
  if (bad.length || roles.length === 0)
    throw new InvalidArgumentError(`roles are a comma-separated list of ${OFFICIAL_ROLES.join(', ')}`);
  return roles as OfficialRole[];
};

const listArg = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Prints the initial password and the TOTP enrolment (URI and a QR the authenticator app can scan). */
async function printEnrolment(e: OfficialEnrolment) {
  const o = e.official;
  console.log(`official:  ${o.username} (${o.name}, ${o.agency}) id ${o.id}`);
  console.log(`roles:     ${o.roles.join(', ')} (${o.scopes.join(' ')})`);
  console.log(`password:  ${e.password}`);
  console.log(`TOTP URI:  ${e.otpauthUri}`);
  console.log(await QRCode.toString(e.otpauthUri, { type: 'terminal', small: true }));
  console.log('Password and TOTP secret are shown only now: hand them to the official in person.');
}

/** officials create|list|disable|reset. */
export function registerOfficialCommands(program: Command): void {
  const officials = program.command('officials').description('official persons (health officials)');
  officials
    .command('create')
    .description('create an official account; prints the initial password and the TOTP enrolment QR once')
    .requiredOption('--username <username>', 'sign-in name (letters, digits, . _ -)')
    .requiredOption('--name <name>', 'real name, as the audit shows it')
    .requiredOption('--agency <agency>', 'health authority, e.g. 深圳市疾病预防控制中心')
    .requiredOption('--roles <roles>', `comma-separated: ${OFFICIAL_ROLES.join(', ')}`, rolesArg)
    .option('--jurisdiction <cities>', 'comma-separated cities they may trace (default: all)', listArg)
    .option('--operator <id>', 'with the operator role: the transport operator whose carriers they manage')
    .action(
      (opts: {
        username: string;
        name: string;
        agency: string;
        roles: OfficialRole[];
        jurisdiction?: string[];
        operator?: string;
      }) =>
        withContext(async (ctx) => {
          if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{2,63}$/.test(opts.username))
            throw new Error('username: 3–64 letters, digits, dot, underscore or hyphen');
          await printEnrolment(
            await createOfficial(ctx, null, {
              username: opts.username,
              name: opts.name,
              agency: opts.agency,
              roles: opts.roles,
              ...(opts.jurisdiction ? { jurisdiction: opts.jurisdiction } : {}),
              ...(opts.operator ? { operatorId: opts.operator } : {}),
            }),
          );
        }),
    );
  officials
    .command('list')
    .description('list official accounts')
    .action(() =>
      withContext(async (ctx) => {
        for (const o of await listOfficials(ctx)) {
          const state = o.disabledAt ? `disabled ${o.disabledAt}` : 'active';
          const where = o.jurisdiction.length ? o.jurisdiction.join(',') : 'all cities';
          const roles = o.roles.join(',') + (o.operatorId ? ` (${o.operatorId})` : '');
          console.log(`${o.username}\t${o.name}\t${o.agency}\t${roles}\t${where}\t${state}`);
        }
      }),
    );
  officials
    .command('disable')
    .description('disable an account (username or id); its sessions end at once')
    .argument('<official>', 'username or id')
    .action((who: string) =>
      withContext(async (ctx) => {
        const o = await disableOfficial(ctx, null, who);
        console.log(`${o.username} disabled`);
      }),
    );
  officials
    .command('reset')
    .description('new password and TOTP secret (lost phone or password); re-enables the account')
    .argument('<official>', 'username or id')
    .action((who: string) => withContext(async (ctx) => printEnrolment(await resetOfficial(ctx, null, who))));
}
