// Child processes for tests: spawn, wait for a line or an exit, always clean up.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's python3 (not a user shim), so tests run the same on every machine. */
export const python3 = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** stdout so far */
  output(): string;
  /** Resolves when stdout contains `text` (rejects after timeoutMs). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  write(line: string): void;
  kill(signal?: NodeJS.Signals): void;
}

export function startChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  if (!proc.pid) throw new Error(`could not start ${cmd}`);
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    exited,
    waitForOutput(text, timeoutMs = 10_000) {
      const matches = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      return new Promise((resolve, reject) => {
        if (matches()) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)} from ${cmd}; stdout: ${out.slice(-500)} stderr: ${err.slice(-500)}`)), timeoutMs);
        const onData = () => {
          if (matches()) {
            clearTimeout(timer);
            proc.stdout?.off('data', onData);
            resolve();
          }
        };
        proc.stdout?.on('data', onData);
        proc.on('exit', () => {
          if (!matches()) {
            clearTimeout(timer);
            reject(new Error(`${cmd} exited before printing ${String(text)}; stderr: ${err.slice(-500)}`));
          }
        });
      });
    },
    write(line) {
      proc.stdin?.write(line);
    },
    kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
