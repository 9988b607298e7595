// `waggle run`: the agent. Loads the configuration (file < env < flags), starts
// everything, and on SIGINT/SIGTERM detaches every program and exits 0.
import type { Command } from 'commander';
import { WaggleError } from '../../ebpf/index.js';
import { PolicyError } from '../../security/index.js';
import { type Agent, startAgent } from '../agent.js';
import { ConfigError, addRunOptions, loadConfig } from '../config/index.js';
import { FeatureError } from '../features/index.js';
import { createLogger } from '../logger.js';
import { untilSignal } from '../until-signal.js';

export function registerRun(program: Command): Command {
  const cmd = program.command('run').description('run the agent: capture, discovery, telemetry, exporters and the UI listener');
  addRunOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    let config;
    try {
      config = loadConfig({ flags: opts });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(`waggle: invalid configuration\n${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    const log = createLogger(config.log_level);
    let agent: Agent;
    try {
      agent = await startAgent(config, { logger: log });
    } catch (e) {
      if (e instanceof PolicyError) {
        process.stderr.write(`waggle: invalid policy\n  ${e.issues.join('\n  ')}\n`);
        process.exitCode = 2;
        return;
      }
      if (e instanceof FeatureError) {
        process.stderr.write(`waggle: cannot start: ${e.message}\n`);
        process.exitCode = e.exitCode;
        return;
      }
      if (e instanceof WaggleError) {
        process.stderr.write(`waggle: cannot start: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
    process.stderr.write(`waggle: listening on ${agent.url}${agent.token ? ` (token ${agent.token})` : ''}\n`);
    log.info({ signal: await untilSignal() }, 'stopping');
    await agent.close();
    process.exitCode = 0;
  });
  return cmd;
}
