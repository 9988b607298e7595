// wrk as the load generator of bench/http.ts: saturated (closed loop, no think
// time) or paced by a Lua delay() per connection (a closed loop with think time,
// not an open loop: Debian has no wrk2).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkResult {
  rps: number;
  requests: number;
  p50us: number;
  p99us: number;
}

function toUs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v)!;
  return Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1000 : 1e6);
}

function parse(out: string): WrkResult {
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    requests: Number(/(\d+) requests in/.exec(out)![1]),
    p50us: toUs(/\s50%\s+(\S+)/.exec(out)![1]!),
    p99us: toUs(/\s99%\s+(\S+)/.exec(out)![1]!),
  };
}

export class Wrk {
  readonly #paceScript: string;

  constructor(work: string) {
    this.#paceScript = join(work, 'pace.lua');
    writeFileSync(this.#paceScript, 'local ms = tonumber(os.getenv("WAGGLE_PACE_MS") or "1")\nfunction delay() return ms end\n');
  }

  /** Paced: each of `conns` connections waits 1 ms between requests (~conns × 1,000 requests/s at most). */
  run(url: string, conns: number, paced: boolean, seconds: number): WrkResult {
    return parse(execFileSync('wrk', this.#args(url, conns, paced, seconds), { encoding: 'utf8' }));
  }

  /** The same, leaving this process's event loop free (for a reader that must keep up meanwhile). */
  async runAsync(url: string, conns: number, paced: boolean, seconds: number): Promise<WrkResult> {
    return parse((await promisify(execFile)('wrk', this.#args(url, conns, paced, seconds), { encoding: 'utf8' })).stdout);
  }

  #args(url: string, conns: number, paced: boolean, seconds: number): string[] {
    return ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', ...(paced ? ['-s', this.#paceScript] : []), url];
  }

  /**
   * Connections that make the paced load ≈ `rate` requests/s: each connection's
   * period is its 1 ms delay plus the round trip and timer slack, measured here.
   */
  pacedConnections(url: string, rate: number): number {
    const probe = this.run(url, 10, true, 2);
    return Math.max(1, Math.min(400, Math.round((rate * 10) / probe.rps)));
  }
}
