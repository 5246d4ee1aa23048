import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.js';
import { registerCarrierCommands } from './commands/carriers-import.js';
import { registerCodeKeyCommands } from './commands/code-keys.js';
import { registerPosterCommands } from './commands/posters/index.js';
import { registerExportCommands } from './commands/export.js';
import { registerIndexKeyCommands } from './commands/index-keys.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerOfficialCommands } from './commands/officials.js';
import { registerSeedCommands } from './commands/seed.js';
import { registerWindDownCommands } from './commands/wind-down.js';

/** `pnpm cli <command>`: RideTrace integration CLI. Each command group lives in commands/. */
const program = new Command()
  .name('pnpm cli')
  .description('RideTrace integration CLI (works on DATABASE_URL or the embedded dev database)')
  .showHelpAfterError();

registerAdminCommands(program);
registerCarrierCommands(program);
registerPosterCommands(program);
registerLifecycleCommands(program);
registerCodeKeyCommands(program); // after lifecycle: adds to its `keys` group
registerIndexKeyCommands(program); // the same group
registerOfficialCommands(program);
registerExportCommands(program);
registerSeedCommands(program);
registerWindDownCommands(program);

await program.parseAsync(process.argv);
