import { RideTraceClient, RideTraceError } from '@ridetrace/sdk';
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';

interface ExportOptions {
  format: 'json' | 'csv';
  degree: 1 | 2;
  out?: string;
  reveal?: boolean;
  api: string;
  clientId?: string;
  clientSecret?: string;
}

/**
 * `export case <id>` goes over the public API with an official's client credentials, so masking, the reveal rule
 * (`--reveal` needs trace:reveal and a reveal grant for the case) and the audit entry are exactly those of the API.
 */
export async function exportCase(
  id: string,
  opts: ExportOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const clientId = opts.clientId ?? env.RIDETRACE_CLIENT_ID;
  const clientSecret = opts.clientSecret ?? env.RIDETRACE_CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    throw new Error(
      'an official client is required: --client-id/--client-secret or RIDETRACE_CLIENT_ID/RIDETRACE_CLIENT_SECRET',
    );
  }
  const api = new RideTraceClient({ baseUrl: opts.api });
  await api.loginClient(clientId, clientSecret);
  const reveal = { reveal: opts.reveal === true };
  if (opts.format === 'csv') return api.exposuresCsv(id, opts.degree, reveal);
  const [caseInfo, exposures] = await Promise.all([
    api.getCase(id, reveal),
    api.allExposures(id, opts.degree, reveal),
  ]);
  return `${JSON.stringify({ case: caseInfo, degree: opts.degree, exposures }, null, 2)}\n`;
}

export function registerExportCommands(program: Command): void {
  program
    .command('export')
    .description('exports over the API (masked unless --reveal with a reveal grant; audited)')
    .command('case')
    .description("export a case's exposures")
    .argument('<id>', 'case id')
    .option(
      '--format <format>',
      'json | csv',
      (v) => {
        if (v !== 'json' && v !== 'csv') throw new InvalidArgumentError('format must be json or csv');
        return v;
      },
      'json',
    )
    .option(
      '--degree <n>',
      '1 or 2',
      (v) => {
        if (v !== '1' && v !== '2') throw new InvalidArgumentError('degree must be 1 or 2');
        return Number(v) as 1 | 2;
      },
      1,
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--reveal', 'unmasked names, phones and ID numbers (needs a reveal grant for the case)')
    .option(
      '--api <url>',
      'API base URL (RIDETRACE_API_URL)',
      process.env.RIDETRACE_API_URL ?? 'http://127.0.0.1:3000',
    )
    .option('--client-id <id>', 'official client id (RIDETRACE_CLIENT_ID)')
    .option(
      '--client-secret <secret>',
      'official client secret (RIDETRACE_CLIENT_SECRET; prefer the env variable)',
    )
    .action(async (id: string, opts: ExportOptions) => {
      try {
        const text = await exportCase(id, opts);
        if (opts.out) {
          writeFileSync(opts.out, text, { mode: 0o600 });
          console.error(`wrote ${opts.out}`);
        } else {
          process.stdout.write(text);
        }
      } catch (err) {
        const msg = err instanceof RideTraceError ? `${err.code}: ${err.message}` : (err as Error).message;
        console.error(`error: ${msg}`);
        process.exitCode = 1;
      }
    });
}
