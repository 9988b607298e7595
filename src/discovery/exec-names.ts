// What the kernel's exec events say of each process: enough to name one that
// is gone before user space could read /proc (a redis-benchmark or curl run
// lasts tens of milliseconds; its exchanges are decoded after it exited). The
// identity it gives is the one /proc would have given when the process did not
// name itself (same instance id, name from the path it was executed as and its
// first 256 bytes of arguments); a process that set OTEL_SERVICE_NAME is named
// from it only when /proc was read.
import { posix } from 'node:path';
import type { ServiceIdentity } from '../telemetry/span.js';
import { scrubbedCommandLine } from './command-line-scrub.js';
import { serviceInstanceId } from './instance-id.js';
import { deriveServiceName } from './service-name.js';

/** Exec events remembered at once (the oldest is dropped), and for how long. */
const MAX_ENTRIES = 4096;
const TTL_MS = 60_000;

interface ExecName {
  startTicks: number;
  filename: string;
  /** Its arguments as the exec event carried them (the first 256 bytes). */
  args: string[];
  at: number;
  /** Built once /proc was found gone; from then on the pid's answer without a /proc read. */
  identity?: ServiceIdentity;
}

export class ExecNames {
  readonly #byPid = new Map<number, ExecName>();
  /** Processes named from their exec event alone (gone from /proc). */
  used = 0;

  remember(pid: number, startTicks: number, filename: string, args: string[]): void {
    if (!filename) return;
    this.#byPid.delete(pid);
    if (this.#byPid.size >= MAX_ENTRIES) this.#byPid.delete(this.#byPid.keys().next().value!);
    this.#byPid.set(pid, { startTicks, filename, args, at: Date.now() });
  }

  has(pid: number): boolean {
    return this.#byPid.has(pid);
  }

  /** The identity given to a pid already found gone from /proc (no /proc read needed). */
  departed(pid: number): ServiceIdentity | undefined {
    const e = this.#byPid.get(pid);
    return e?.identity && this.#fresh(pid, e) ? e.identity : undefined;
  }

  /** The identity of a pid gone from /proc, from its exec event. */
  identity(pid: number): ServiceIdentity | undefined {
    const e = this.#byPid.get(pid);
    if (!e || !this.#fresh(pid, e)) return undefined;
    if (e.identity === undefined) {
      this.used++;
      e.identity = Object.freeze({
        // A script's name needs its arguments (`python3 client.py` → client).
        name: deriveServiceName(e.filename, e.args.length ? e.args : [e.filename]),
        instanceId: serviceInstanceId(pid, e.startTicks),
        pid,
        executableName: posix.basename(e.filename),
        executablePath: e.filename,
        commandLine: scrubbedCommandLine(e.args),
      });
    }
    return e.identity;
  }

  #fresh(pid: number, e: ExecName): boolean {
    if (Date.now() - e.at <= TTL_MS) return true;
    this.#byPid.delete(pid);
    return false;
  }
}
