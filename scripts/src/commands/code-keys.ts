import { type CodeKeyInfo, listCodeKeys, localTime, rotateCodeKey } from '@ridetrace/server';
import { InvalidArgumentError, type Command } from 'commander';
import { withContext } from '../context.js';

const MAX_GRACE_DAYS = 365;

const graceDaysArg = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > MAX_GRACE_DAYS) {
    throw new InvalidArgumentError(`must be a whole number of days from 0 to ${MAX_GRACE_DAYS}`);
  }
  return n;
};

/** An instant as UTC and as the deployment's local time (operators plan poster replacement in local days). */
export function when(d: Date, timeZone: string): string {
  return `${d.toISOString()} (${localTime(d, timeZone).minute} ${timeZone})`;
}

/** One line per code-signing key: id, created, state. */
export function describeCodeKeys(keys: CodeKeyInfo[], now: Date, timeZone: string): string[] {
  return keys.map((k) => {
    const state = k.active
      ? 'active'
      : k.retiresAt === null
        ? 'not retiring'
        : k.retiresAt > now
          ? `in grace, retires_at ${when(k.retiresAt, timeZone)}`
          : `retired since ${when(k.retiresAt, timeZone)}`;
    return `  key ${k.id}  created ${k.createdAt.toISOString()}  ${state}`;
  });
}

/** `keys list` and `keys rotate-code` under the `keys` group (master keys: lifecycle.ts). */
export function registerCodeKeyCommands(program: Command): void {
  const keys =
    program.commands.find((c) => c.name() === 'keys') ??
    program.command('keys').description('master keys and data keys');
  keys
    .command('list')
    .description('code-signing keys (the key id printed in every poster): created, active, retires_at')
    .action(() =>
      withContext(async (ctx) => {
        const now = ctx.now();
        console.log('code-signing keys:');
        for (const line of describeCodeKeys(await listCodeKeys(ctx.db), now, ctx.config.timeZone)) {
          console.log(line);
        }
      }),
    );
  keys
    .command('rotate-code')
    .description(
      'add a code-signing key and make it active; posters of older keys keep scanning for the grace period',
    )
    .requiredOption(
      '--grace-days <n>',
      'days the posters of older keys keep scanning (0: they stop at once)',
      graceDaysArg,
    )
    .addHelpText(
      'after',
      `
New codes (issue, re-issue, new carriers, posters) are signed with the new key at once; running servers learn of
it without a restart. Posters under older keys answer 410 code_key_retired once the grace period ends: print new
ones with \`pnpm cli posters --reissue\` and replace them in the vehicles before then. A rotation never extends
the grace period of a key already retiring; it can bring it forward.

Example:
  pnpm cli keys rotate-code --grace-days 14`,
    )
    .action((opts: { graceDays: number }) =>
      withContext(async (ctx) => {
        const now = ctx.now();
        const tz = ctx.config.timeZone;
        const r = await rotateCodeKey(ctx.db, ctx.keyring, { graceDays: opts.graceDays, now });
        console.log(`code-signing key ${r.active.id} is active: every new code is signed with it`);
        for (const k of r.inGrace) {
          console.log(
            `posters of key ${k.id} keep scanning until ${when(k.retiresAt!, tz)}, then answer 410 code_key_retired`,
          );
        }
        if (r.inGrace.length === 0) console.log('posters of older keys stop scanning now');
        console.log(
          'next: pnpm cli posters --reissue --out <dir> --format pdf, and replace the posters in the vehicles' +
            (r.inGrace.length > 0 ? ' before then' : ''),
        );
      }),
    );
}
