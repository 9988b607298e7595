// `waggle config [run flags…]`: loads the configuration exactly as `waggle run`
// would (file < environment < flags), and prints the effective result as YAML,
// or every problem with its source, exiting 2.
import type { Command } from 'commander';
import YAML from 'yaml';
import { ConfigError, addRunOptions, loadConfig } from '../config/index.js';

export function registerConfig(program: Command): Command {
  const cmd = program.command('config').description('validate the configuration of `waggle run` and print the effective settings');
  addRunOptions(cmd);
  cmd.action((opts: Record<string, unknown>) => {
    try {
      const config = loadConfig({ flags: opts });
      process.stdout.write(YAML.stringify(JSON.parse(JSON.stringify(config))));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(`waggle: invalid configuration\n${e.message}\n`);
      process.exitCode = e.exitCode;
    }
  });
  return cmd;
}
