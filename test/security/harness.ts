// A SecurityAgent that collects events for assertions, drives real programs,
// and checks that nothing stays loaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadedProgramIds } from '../helpers/bpftool.js';
import { sleep } from '../helpers/process.js';
import { type LoadedPolicy, type SecurityAgentOptions, type SecurityEvent, SecurityAgent, parsePolicies } from '../../src/security/index.js';

export const PYTHON = '/usr/bin/python3';

/** Policies from YAML text (one or more documents). */
export function policies(...yaml: string[]): LoadedPolicy[] {
  return yaml.flatMap((y, i) => parsePolicies(y, `test-${i}.yaml`));
}

/** A minimal policy document. */
export function policy(name: string, hook: string, selectors: string): string {
  return `apiVersion: waggle.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: ${name}}
spec:
  hook: ${hook}
  selectors:
${selectors
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

export interface Harness {
  agent: SecurityAgent;
  events: SecurityEvent[];
  warnings: string[];
  /** Events so far (after draining the ring buffer) that satisfy `pred`. */
  current<T extends SecurityEvent = SecurityEvent>(pred?: (e: SecurityEvent) => boolean): T[];
  /** Waits until `n` events satisfy `pred`, lets stragglers arrive, and returns them all. */
  waitFor<T extends SecurityEvent = SecurityEvent>(n: number, pred: (e: SecurityEvent) => boolean, timeoutMs?: number): Promise<T[]>;
  close(): Promise<void>;
}

export async function startAgent(opts: SecurityAgentOptions = {}): Promise<Harness> {
  const events: SecurityEvent[] = [];
  const warnings: string[] = [];
  const agent = await SecurityAgent.start({ ...opts, onEvent: (e) => events.push(e), onWarning: (w) => warnings.push(w) });
  const ids = agent.programIds();
  const current = <T extends SecurityEvent>(pred: (e: SecurityEvent) => boolean = () => true): T[] => {
    agent.flush();
    return events.filter(pred) as T[];
  };
  return {
    agent,
    events,
    warnings,
    current,
    async waitFor<T extends SecurityEvent>(n: number, pred: (e: SecurityEvent) => boolean, timeoutMs = 10_000): Promise<T[]> {
      const until = Date.now() + timeoutMs;
      while (current(pred).length < n) {
        if (Date.now() > until) assert.fail(`expected ${n} events, got ${current(pred).length}: ${JSON.stringify(current(pred)).slice(0, 2000)}`);
        await sleep(20);
      }
      await sleep(150);
      return current<T>(pred);
    },
    async close() {
      await agent.close();
      const until = Date.now() + 3000;
      let left = ids.filter((id) => loadedProgramIds().has(id));
      while (left.length > 0 && Date.now() < until) {
        await sleep(50);
        left = ids.filter((id) => loadedProgramIds().has(id));
      }
      assert.deepEqual(left, [], 'security programs still loaded after close()');
    },
  };
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export function run(cmd: string, args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, cwd: opts.cwd, timeout: opts.timeoutMs ?? 20_000 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, pid: r.pid ?? 0 };
}

export const byPid = (pid: number) => (e: SecurityEvent) => e.process.pid === pid;
export const ofType = (type: SecurityEvent['type']) => (e: SecurityEvent) => e.type === type;
