// What the kernel's exec and fork events say of each process: enough to name
// one that is gone before user space could read /proc. A redis-benchmark or
// curl run lasts tens of milliseconds, a PostgreSQL backend forked for one psql
// run little more; their exchanges are decoded after they exited.
//
// - An exec names the process as /proc would have when it did not name itself
//   (same instance id, name from the path it was executed as and its first 256
//   bytes of arguments); one that set OTEL_SERVICE_NAME is named from it only
//   when /proc was read.
// - A fork that did not exec runs its parent's image: it is its parent (asked
//   for through the caller, alive or departed itself) with its own pid and
//   instance id.
import { posix } from 'node:path';
import type { ServiceIdentity } from '../telemetry/span.js';
import { scrubbedCommandLine } from './command-line-scrub.js';
import { serviceInstanceId } from './instance-id.js';
import type { NameHint } from './service-identity.js';
import { deriveServiceName } from './service-name.js';

/** Processes remembered at once (the oldest is dropped), and for how long. */
const MAX_ENTRIES = 4096;
const TTL_MS = 60_000;

type Origin = { kind: 'exec'; filename: string; args: string[]; hint?: NameHint } | { kind: 'fork'; ppid: number };

interface Remembered {
  startTicks: number;
  origin: Origin;
  at: number;
  /** Built once /proc was found gone; from then on the pid's answer without a /proc read. */
  identity?: ServiceIdentity;
}

export class DepartedNames {
  readonly #byPid = new Map<number, Remembered>();
  /** Processes named from their exec event alone (gone from /proc). */
  fromExec = 0;
  /** Processes named from their fork event and their parent (gone from /proc without an exec). */
  fromFork = 0;

  /** `hint`: the selector that picked it at exec, in the kernel (exec-selection.ts). */
  rememberExec(pid: number, startTicks: number, filename: string, args: string[], hint?: NameHint): void {
    if (filename) this.#set(pid, { startTicks, origin: { kind: 'exec', filename, args, ...(hint ? { hint } : {}) }, at: Date.now() });
  }

  rememberFork(pid: number, ppid: number, startTicks: number): void {
    if (ppid > 0) this.#set(pid, { startTicks, origin: { kind: 'fork', ppid }, at: Date.now() });
  }

  has(pid: number): boolean {
    return this.#byPid.has(pid);
  }

  /** The identity given to a pid already found gone from /proc (no /proc read needed). */
  departed(pid: number): ServiceIdentity | undefined {
    const e = this.#byPid.get(pid);
    return e?.identity && this.#fresh(pid, e) ? e.identity : undefined;
  }

  /**
   * The identity of a pid gone from /proc, from its exec or fork event.
   * `parentIdentity` names a forked child's parent (the caller's own lookup:
   * the parent is usually alive).
   */
  identity(pid: number, parentIdentity: (ppid: number) => ServiceIdentity | undefined): ServiceIdentity | undefined {
    const e = this.#byPid.get(pid);
    if (!e || !this.#fresh(pid, e)) return undefined;
    if (e.identity !== undefined) return e.identity;
    const instanceId = serviceInstanceId(pid, e.startTicks);
    if (e.origin.kind === 'exec') {
      const { filename, args, hint } = e.origin;
      this.fromExec++;
      const identity: ServiceIdentity = {
        // A script's name needs its arguments (`python3 client.py` → client).
        name: hint?.name ?? deriveServiceName(filename, args.length ? args : [filename]),
        instanceId,
        pid,
        executableName: posix.basename(filename),
        executablePath: filename,
        commandLine: scrubbedCommandLine(args),
      };
      if (hint?.namespace) identity.namespace = hint.namespace;
      e.identity = Object.freeze(identity);
      return e.identity;
    }
    const parent = parentIdentity(e.origin.ppid);
    if (!parent) return undefined;
    this.fromFork++;
    e.identity = Object.freeze({ ...parent, pid, instanceId });
    return e.identity;
  }

  #set(pid: number, entry: Remembered): void {
    this.#byPid.delete(pid);
    if (this.#byPid.size >= MAX_ENTRIES) this.#byPid.delete(this.#byPid.keys().next().value!);
    this.#byPid.set(pid, entry);
  }

  #fresh(pid: number, e: Remembered): boolean {
    if (Date.now() - e.at <= TTL_MS) return true;
    this.#byPid.delete(pid);
    return false;
  }
}
