// `waggle run` as a real child process, the way a person runs it, with helpers
// to read its /metrics and its --print-traces output.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { type Child, type ExitStatus, startChild, waitFor } from './process.js';

export interface AgentProcess {
  child: Child;
  url: string;
  metrics(): Promise<string>;
  /** Value of the series `name{labels}` whose labels include all of `labels` (summed over matches). */
  value(name: string, labels?: Record<string, string>): Promise<number>;
  stderr(): string;
  /** SIGTERM, then SIGKILL if the agent has not exited within 20 s (then the status shows SIGKILL). */
  stop(): Promise<ExitStatus>;
}

/** Every request to the agent is bounded: a stuck agent fails the test, it does not hang it. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Parses Prometheus text into [name, labels, value] triples. */
export function parseSeries(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export interface AgentProcessOptions {
  /** Command the agent runs under, e.g. ['unshare', '-m', 'sh', '-c', 'umount …; exec "$0" "$@"']. */
  prefix?: string[];
}

export async function startAgentProcess(args: string[], env: Record<string, string> = {}, opts: AgentProcessOptions = {}): Promise<AgentProcess> {
  const port = await freePort();
  const command = [...(opts.prefix ?? []), process.execPath, join(packageRoot, 'bin', 'waggle.js'), 'run', '--listen', `127.0.0.1:${port}`, ...args];
  const child = startChild(command[0]!, command.slice(1), {
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.proc.exitCode !== null) throw new Error(`waggle run exited with ${child.proc.exitCode}: ${stderr}`);
        try {
          return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
        } catch {
          return false;
        }
      },
      60_000,
      100,
    );
  } catch (e) {
    // Not ready: the caller never gets a handle to stop it, so stop it here.
    await child.stop('SIGKILL').catch(() => undefined);
    throw new Error(`waggle run did not become ready: ${e instanceof Error ? e.message : String(e)}; stderr: ${stderr.slice(-2000)}`);
  }
  const metrics = async () => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).text();
  return {
    child,
    url,
    metrics,
    async value(name, labels = {}) {
      const series = parseSeries(await metrics()).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return series.reduce((a, s) => a + s.value, 0);
    },
    stderr: () => stderr,
    /** SIGTERM; an agent still running after 20 s is killed (the exit then says SIGKILL) so no test hangs. */
    stop: () => child.stop('SIGTERM', 20_000),
  };
}
