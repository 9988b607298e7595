// Child processes for tests: spawn, wait for a line or an exit, always clean up.
// Every wait here is bounded: a test that waits forever hangs the whole run.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/** Debian's python3 (not a user shim), so tests run the same on every machine. */
export const python3 = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** stdout so far */
  output(): string;
  /** stderr so far */
  errors(): string;
  /** Resolves when stdout contains `text` (rejects after timeoutMs, or when the child exits first). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code and signal. Await it through `stop()` or `within()`, never bare. */
  exited: Promise<ExitStatus>;
  write(line: string): void;
  kill(signal?: NodeJS.Signals): void;
  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs; resolves with how it ended (rejects only if even SIGKILL takes over 5 s). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitStatus>;
}

/** `pid` and everything it forked, from /proc (children before their parent is gone). */
function processTree(pid: number): number[] {
  let kids: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      kids = kids.concat(readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    }
  } catch {
    // gone already
  }
  return [pid, ...kids.flatMap(processTree)];
}

/**
 * Children still running when the test process exits are SIGKILLed with all
 * they forked (nginx's workers outlive a killed master): with --test-force-exit
 * the process may end while a test, failed or not, still has some running.
 */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const proc of live) {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) continue;
    for (const pid of processTree(proc.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function startChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // A child that exits before reading its stdin must not crash the test with EPIPE.
  proc.stdin?.on('error', () => undefined);
  const exited = new Promise<ExitStatus>((resolve) =>
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    }),
  );
  if (!proc.pid) throw new Error(`could not start ${cmd}`);
  live.add(proc);
  const running = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    errors: () => err,
    exited,
    waitForOutput(text, timeoutMs = 10_000) {
      const matches = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      return new Promise((resolve, reject) => {
        if (matches()) return resolve();
        if (!running()) return reject(new Error(`${cmd} exited before printing ${String(text)}; stderr: ${err.slice(-500)}`));
        const done = () => {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          proc.off('exit', onExit);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${String(text)} from ${cmd}; stdout: ${out.slice(-500)} stderr: ${err.slice(-500)}`));
        }, timeoutMs);
        const onData = () => {
          if (matches()) {
            done();
            resolve();
          }
        };
        const onExit = () => {
          done();
          if (matches()) resolve();
          else reject(new Error(`${cmd} exited before printing ${String(text)}; stderr: ${err.slice(-500)}`));
        };
        proc.stdout?.on('data', onData);
        proc.on('exit', onExit);
      });
    },
    write(line) {
      proc.stdin?.write(line);
    },
    kill(signal = 'SIGKILL') {
      if (running()) proc.kill(signal);
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (running()) proc.kill(signal);
      try {
        return await within(exited, graceMs, `${cmd} to exit after ${signal}`);
      } catch {
        if (running()) proc.kill('SIGKILL');
        return within(exited, 5000, `${cmd} to exit after SIGKILL`);
      }
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns a truthy value or the time is up. A call of `fn` that
 * itself never settles (a fetch to a stuck server) counts against the same deadline.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  const stuck = Symbol('stuck');
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof stuck>((r) => (timer = setTimeout(() => r(stuck), Math.max(until - Date.now(), 0) + stepMs)));
    const v = await Promise.race([Promise.resolve().then(fn), deadline]).finally(() => clearTimeout(timer));
    if (v === stuck) throw new Error(`condition not met within ${timeoutMs} ms (the last check never returned)`);
    if (v) return v as T;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
