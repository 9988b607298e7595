// Load generators with exact counts: ab -k (HTTP/1.0 keep-alive) and wrk
// (HTTP/1.1, one connection, stopped by a Lua script after N responses, so no
// request is left in flight to blur the count). Both start paused behind a shell
// that waits on stdin, so their pid (the shell's, kept by exec) is watched first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from '../../../helpers/process.js';

export interface LoadRun {
  pid: number;
  /** Responses the tool counted. */
  completed: number;
  /** Non-2xx/3xx responses or errors the tool counted. */
  failed: number;
  output: string;
  exit: { code: number | null; signal: NodeJS.Signals | null } | 'timeout';
}

async function runPaused(cmd: string, watch: (pid: number) => void, timeoutMs: number): Promise<{ pid: number; output: string; exit: LoadRun['exit'] }> {
  const child = startChild('/bin/sh', ['-c', `read _; exec ${cmd}`]);
  let timer: NodeJS.Timeout | undefined;
  try {
    watch(child.pid);
    child.write('go\n');
    const exit = await Promise.race([child.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    return { pid: child.pid, output: child.output(), exit };
  } finally {
    clearTimeout(timer);
    child.kill();
  }
}

/** ab -k -n `n` -c `c` (HTTP/1.0 with Connection: Keep-Alive). */
export async function runAb(url: string, n: number, c: number, watch: (pid: number) => void, timeoutMs = 20_000): Promise<LoadRun> {
  const r = await runPaused(`ab -q -k -n ${n} -c ${c} '${url}'`, watch, timeoutMs);
  const num = (re: RegExp) => Number(re.exec(r.output)?.[1] ?? NaN);
  return { ...r, completed: num(/Complete requests:\s+(\d+)/), failed: num(/Failed requests:\s+(\d+)/) + (num(/Non-2xx responses:\s+(\d+)/) || 0) };
}

/** wrk -t1 -c1, its thread stopped after `n` responses (wrk itself ends after 3 s). */
export async function runWrk(url: string, n: number, watch: (pid: number) => void, timeoutMs = 20_000): Promise<LoadRun> {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-wrk-'));
  try {
    const script = join(dir, 'stop.lua');
    writeFileSync(script, `local n = 0\nresponse = function(status, headers, body)\n  n = n + 1\n  if n >= ${n} then wrk.thread:stop() end\nend\n`);
    const r = await runPaused(`wrk -t1 -c1 -d3s -s '${script}' '${url}'`, watch, timeoutMs);
    const num = (re: RegExp) => Number(re.exec(r.output)?.[1] ?? NaN);
    return { ...r, completed: num(/(\d+) requests in/), failed: (num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0) + (/Socket errors/.test(r.output) ? 1 : 0) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
