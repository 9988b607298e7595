// The flags of `waggle run`, generated from the settings table so a flag, its
// environment variable and its config key cannot drift apart. The lead's `run`
// command calls addRunOptions(command) and then loadConfig({ flags: command.opts() }).
import { type Command, Option } from 'commander';
import { CONFIG_ENV, SETTINGS } from './settings.js';

const collect = (value: string, previous: unknown): string[] => [...(Array.isArray(previous) ? (previous as string[]) : []), value];

export function addRunOptions(command: Command): Command {
  command.addOption(new Option('--config <file>', `YAML config file (docs/configuration.md) [env ${CONFIG_ENV}]`));
  for (const s of SETTINGS) {
    if (!s.flag) continue;
    // A lone --no-x makes commander default x to true, which would hide the file
    // and environment; a hidden positive twin, added first, keeps "not given" undefined.
    if (s.flag.startsWith('--no-')) command.addOption(new Option(`--${s.flag.slice(5)}`).hideHelp());
    const option = new Option(s.flag, s.env ? `${s.description} [env ${s.env}]` : s.description);
    if (s.repeatable) option.argParser(collect);
    command.addOption(option);
  }
  return command;
}
