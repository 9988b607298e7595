// What the kernel's exec events say of each process: enough to name one that
// is gone before user space could read /proc (a redis-benchmark or curl run
// lasts tens of milliseconds; its exchanges are decoded after it exited). The
// identity it gives is the one /proc would have given when the process did not
// name itself (same instance id, name from the path it was executed as); a
// process that set OTEL_SERVICE_NAME is named from it only when /proc was read.
import { posix } from 'node:path';
import type { ServiceIdentity } from '../telemetry/span.js';
import { serviceInstanceId } from './instance-id.js';
import { deriveServiceName } from './service-name.js';

/** Exec events remembered at once (the oldest is dropped), and for how long. */
const MAX_ENTRIES = 4096;
const TTL_MS = 60_000;

interface ExecName {
  startTicks: number;
  filename: string;
  at: number;
}

export class ExecNames {
  readonly #byPid = new Map<number, ExecName>();
  /** Identities given from exec events alone (the process was gone from /proc). */
  used = 0;

  remember(pid: number, startTicks: number, filename: string): void {
    if (!filename) return;
    this.#byPid.delete(pid);
    if (this.#byPid.size >= MAX_ENTRIES) this.#byPid.delete(this.#byPid.keys().next().value!);
    this.#byPid.set(pid, { startTicks, filename, at: Date.now() });
  }

  has(pid: number): boolean {
    return this.#byPid.has(pid);
  }

  identity(pid: number): ServiceIdentity | undefined {
    const e = this.#byPid.get(pid);
    if (!e) return undefined;
    if (Date.now() - e.at > TTL_MS) {
      this.#byPid.delete(pid);
      return undefined;
    }
    this.used++;
    return Object.freeze({
      name: deriveServiceName(e.filename, [e.filename]),
      instanceId: serviceInstanceId(pid, e.startTicks),
      pid,
      executableName: posix.basename(e.filename),
      executablePath: e.filename,
    });
  }
}
