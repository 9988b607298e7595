// The `process-events` and `policies` features of `waggle run`: one security
// object (process table + policy hooks) loaded beside the rest of the agent,
// events to the terminal, a JSON-lines file, /metrics and the UI.
import type { Registry } from 'prom-client';
import { JsonLinesWriter, PolicyError, SecurityAgent, type SecurityEvent, defaultPolicyDir, formatCompact, registerSecurityMetrics } from '../../security/index.js';
import type { ProcessTable } from '../../process/index.js';
import type { LiveStore } from '../../store/index.js';
import type { AgentConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { type FeatureBoard, featureFailureReason } from './status.js';

/** Bytes of unwritten terminal output past which printed events are dropped (and counted). */
const MAX_PENDING_STDOUT = 4 << 20;

export interface SecurityPart {
  agent: SecurityAgent;
  close(): Promise<void>;
}

/** Whether the configuration asks for the security part at all. */
export function wantsSecurity(config: AgentConfig): boolean {
  const s = config.security;
  return s.policies.length > 0 || s.print_events || s.events_file !== undefined;
}

/** `--policy default` names the bundled pack (policies/). */
function policyPaths(config: AgentConfig): string[] {
  return config.security.policies.map((p) => (p === 'default' ? defaultPolicyDir() : p));
}

export async function startSecurity(
  config: AgentConfig,
  deps: { registry: Registry; store: LiveStore | undefined; log: Logger; output?: NodeJS.WritableStream; processes?: ProcessTable },
): Promise<SecurityPart> {
  const s = config.security;
  const out = deps.output ?? process.stdout;
  const file = s.events_file ? new JsonLinesWriter(s.events_file) : undefined;
  let droppedPrints = 0;
  const color = (out as NodeJS.WriteStream).isTTY === true;
  const onEvent = (e: SecurityEvent): void => {
    file?.write(e);
    deps.store?.addSecurityEvent(e as never);
    if (!s.print_events) return;
    if ((out as NodeJS.WriteStream).writableLength > MAX_PENDING_STDOUT) {
      droppedPrints++;
      return;
    }
    out.write(`${formatCompact(e, { color, plain: false, timestamps: true })}\n`);
  };
  let agent: SecurityAgent;
  try {
    agent = await SecurityAgent.start({
      policyPaths: policyPaths(config),
      dryRun: s.dry_run,
      onEvent,
      onWarning: (m) => deps.log.warn(m),
      ...(deps.processes ? { processes: deps.processes } : {}),
    });
  } catch (e) {
    await file?.close();
    throw e; // PolicyError names file, field and reason; the command prints it
  }
  registerSecurityMetrics(deps.registry, agent);
  const active = agent.stats().policies.filter((p) => p.active).length;
  deps.log.info({ policies: agent.policies.length, active, dryRun: s.dry_run }, 'security policies loaded');
  return {
    agent,
    async close() {
      await agent.close();
      await file?.close();
      if (droppedPrints > 0) deps.log.warn({ droppedPrints }, 'security events not printed because the terminal could not keep up');
    },
  };
}

export const NOT_WANTED = {
  'process-events': 'not asked for (--policy, --print-events or --events-file turns it on)',
  policies: 'no --policy given',
} as const;

/**
 * Starts the security part when the configuration asks for it and records
 * `process-events` and `policies` on the board. A kernel refusal turns them
 * off with its reason; an invalid policy (PolicyError) is a configuration
 * error and is thrown.
 */
export async function startSecurityFeatures(
  config: AgentConfig,
  board: FeatureBoard,
  deps: Parameters<typeof startSecurity>[1],
): Promise<SecurityPart | undefined> {
  if (!wantsSecurity(config)) return undefined;
  const wantsPolicies = config.security.policies.length > 0;
  try {
    const part = await startSecurity(config, deps);
    board.up('process-events');
    if (wantsPolicies) recordPolicies(board, part.agent);
    return part;
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    const reason = featureFailureReason(e);
    board.off('process-events', reason);
    if (!wantsPolicies) return undefined;
    board.off('policies', reason);
  }
  // The policy hooks may be what failed (a tracepoint, tracefs): the process table alone may still load.
  try {
    const part = await startSecurity({ ...config, security: { ...config.security, policies: [] } }, deps);
    board.up('process-events', 'without policies');
    return part;
  } catch {
    return undefined; // the first reason stands: it is the one with the policies asked for
  }
}

/** Policies run when at least one of them can; the others are named with their hook's reason. */
function recordPolicies(board: FeatureBoard, agent: SecurityAgent): void {
  const policies = agent.stats().policies;
  const inactive = policies.filter((p) => !p.active);
  const why = inactive.map((p) => `${p.name} (${p.hook}: ${featureFailureReason(p.inactiveReason ?? 'hook unavailable')})`).join('; ');
  if (policies.length > 0 && inactive.length === policies.length) board.off('policies', `no policy can run: ${why}`);
  else if (inactive.length > 0) board.up('policies', `${inactive.length} of ${policies.length} policies inactive: ${why}`);
  else board.up('policies');
}
