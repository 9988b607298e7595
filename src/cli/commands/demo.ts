// `waggle demo`: starts the demo workload shipped in demo/ (a Node front end,
// a Node API with a PostgreSQL database and a Redis cache, nginx and a slow
// Python inventory service, with a load driver),
// starts the agent on exactly those processes, and prints the UI's URL. Ctrl-C
// (SIGINT) or SIGTERM stops the agent and the workload and exits 0.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import { WaggleError } from '../../ebpf/index.js';
import { parseListenAddress } from '../../ui/index.js';
import { type Agent, startAgent } from '../agent.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { FeatureError, type FeatureStatus, featureLine } from '../features/index.js';
import { createLogger } from '../logger.js';
import { untilSignal } from '../until-signal.js';
import { DEFAULT_DEMO_PORT, type DemoWorkload, startDemoWorkload } from './demo-workload.js';

interface DemoFlags {
  listen: string;
  uiToken?: string;
  rate: string;
  port: string;
  workloadOnly?: boolean;
  logLevel: string;
}

export function registerDemo(program: Command): Command {
  return program
    .command('demo')
    .description('start a small multi-service demo workload and the agent on it, then open the printed URL')
    .option('--listen <host:port>', 'where the agent and its web UI listen', '127.0.0.1:9400')
    .option('--ui-token <token>', 'token required by the UI (generated when --listen is not loopback)')
    .option('--rate <n>', 'requests per second sent by the load driver', '20')
    .option('--port <n>', `first of the six loopback ports the workload listens on (busy ones are replaced)`, String(DEFAULT_DEMO_PORT))
    .option('--workload-only', 'start only the workload, to watch it with `waggle run`')
    .option('--log-level <level>', 'agent log level', 'warn')
    .action(async (flags: DemoFlags) => {
      process.exitCode = await runDemo(flags);
    });
}

async function runDemo(flags: DemoFlags): Promise<number> {
  const rate = Number(flags.rate);
  const basePort = Number(flags.port);
  if (!Number.isFinite(rate) || rate < 0 || rate > 10_000) return usage(`--rate: expected requests per second 0..10000, got "${flags.rate}"`);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65_532) return usage(`--port: expected a port 1..65532, got "${flags.port}"`);
  let listen: { host: string; port: number };
  try {
    listen = parseListenAddress(flags.listen);
  } catch (e) {
    return usage(`--listen: ${(e as Error).message}`);
  }

  const out = process.stdout;
  out.write('waggle demo: starting the workload…\n');
  let workload: DemoWorkload;
  try {
    workload = await startDemoWorkload({ rate, basePort });
  } catch (e) {
    process.stderr.write(`waggle demo: ${(e as Error).message}\n`);
    return 1;
  }
  let agentUi: AgentUi | undefined;
  try {
    out.write(describeWorkload(workload, rate));
    if (!flags.workloadOnly) {
      out.write('waggle demo: starting the agent on it…\n');
      agentUi = await startAgentOn(workload, listen, flags);
      out.write(`\n  Open the UI:  ${agentUi.browserUrl}\n`);
      if (agentUi.token) out.write(`  (token ${agentUi.token}; the link above carries it)\n`);
      const off = agentUi.features.filter((f) => f.state === 'off');
      if (off.length > 0) out.write(`\n  Running without:\n${off.map((f) => `    ${featureLine(f)}\n`).join('')}  (the UI's health page says the same)\n`);
      const capturing = agentUi.features.some((f) => f.name === 'http' && f.state === 'up');
      out.write(`  ${capturing ? 'The service map fills within a few seconds. ' : ''}Ctrl-C stops everything.\n\n`);
    } else {
      out.write(`\n  Watch it with:  waggle run --pid ${workload.processes.map((p) => p.pid).join(',')}\n  Ctrl-C stops it.\n\n`);
    }
    await untilSignal();
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) process.stderr.write(`waggle demo: ${e.message}\n`);
    else if (e instanceof WaggleError || e instanceof FeatureError) process.stderr.write(`waggle demo: cannot start the agent: ${e.message}\n`);
    else process.stderr.write(`waggle demo: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  } finally {
    await agentUi?.close();
    await workload.stop();
  }
}

interface AgentUi {
  browserUrl: string;
  token: string | undefined;
  features: readonly FeatureStatus[];
  close(): Promise<void>;
}

/**
 * The agent, watching the workload's processes (and their children: nginx's
 * workers), with the UI. The one place that knows how the agent and the UI are
 * put together for the demo.
 */
async function startAgentOn(workload: DemoWorkload, listen: { host: string; port: number }, flags: DemoFlags): Promise<AgentUi> {
  // The workload is the agent's own children, which discovery leaves out by default;
  // the demo's config selects them by pid (see writeDemoConfig).
  const config = loadConfig({ configPath: writeDemoConfig(workload, listen, flags), env: process.env });
  const agent: Agent = await startAgent(config, { logger: createLogger(config.log_level) });
  return { browserUrl: agent.browserUrl, token: agent.token, features: agent.features, close: () => agent.close() };
}

/** The agent's configuration for the demo, as a YAML file in the workload's directory (readable by the curious). */
function writeDemoConfig(workload: DemoWorkload, listen: { host: string; port: number }, flags: DemoFlags): string {
  const config = {
    discovery: { pid: workload.processes.map((p) => p.pid), exclude_agent_children: false, follow_children: true },
    listen: `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`,
    log_level: flags.logLevel,
    ...(flags.uiToken ? { ui: { token: flags.uiToken } } : {}),
  };
  const path = join(workload.dir, 'waggle-demo.yaml');
  writeFileSync(path, `# written by \`waggle demo\`\n${YAML.stringify(config)}`);
  return path;
}

function describeWorkload(w: DemoWorkload, rate: number): string {
  const line = (name: string, port: number | undefined, what: string, list = w.processes) => {
    const pid = list.find((p) => p.name === name)?.pid;
    const where = port === undefined ? '' : name === 'postgres' || name === 'redis' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
    return pid !== undefined ? `  ${name.padEnd(10)} ${where.padEnd(24)} pid ${String(pid).padEnd(8)} ${what}\n` : '';
  };
  return [
    '\n',
    line('frontend', w.ports.frontend, 'Node front end'),
    line('api', w.ports.api, `Node API${w.datastores.length > 0 ? ` (${w.datastores.map((d) => (d.name === 'postgres' ? 'PostgreSQL' : 'Redis')).join(' + ')})` : ''}`),
    line('nginx', w.ports.nginx, 'static files + proxy to inventory'),
    line('inventory', w.ports.inventory, 'slow Python service'),
    line('loadgen', undefined, `load driver, ${rate} requests/s`),
    ...w.datastores.map((d) =>
      d.name === 'postgres'
        ? line('postgres', w.ports.postgres, "the API's database (throwaway data; not watched: seen from the API)", w.datastores)
        : line('redis', w.ports.redis, "the API's cache (not watched: seen from the API)", w.datastores),
    ),
    ...w.skipped.map((s) => `  (${s}: the API does without it)\n`),
    w.nginx ? '' : '  (nginx is not installed: the API calls the inventory directly; apt-get install nginx-light for the full demo)\n',
  ].join('');
}

function usage(message: string): number {
  process.stderr.write(`waggle demo: ${message}\n`);
  return 2;
}

