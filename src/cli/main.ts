// The `waggle` command line. Each subcommand lives in commands/<name>.ts and
// registers itself here; this file only assembles them.
import { Command } from 'commander';
import { registerConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerRun } from './commands/run.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('waggle')
    .description('zero-code eBPF observability for Linux hosts')
    .version('0.1.0')
    .showHelpAfterError();
  registerRun(program);
  registerConfig(program);
  registerDoctor(program);
  registerDemo(program);
  (await import('./commands/events.js')).registerEvents(program);
  (await import('./commands/profile.js')).registerProfile(program);
  await program.parseAsync(argv);
}
