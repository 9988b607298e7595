// Selection at exec, in the kernel. A selector on the executable alone (no
// pids, no ports) is decided by the file a process runs, which the kernel
// knows at exec: discovery's exec program tracks a process whose executable
// (device, inode) is in its `exec_selected` map, so capture sees it from its
// first instruction. Without this a client that runs for milliseconds (mysql
// -e, curl) has often exited before user space examined its exec event, and
// none of its traffic is seen.
//
// The map is filled with what selectors name: a literal path at start, and
// the executable of every process user space selected through such a selector
// (globs are learned this way: the second run of a matching binary is caught
// at exec). User space still examines each process and stays the judge: a
// process the kernel tracked that an exclusion (or anything else) rejects is
// untracked again.
import { realpathSync } from 'node:fs';
import { type ExeKey, exeKeyOfPath, readExeKey } from '../process/index.js';
import type { Selector } from './selector.js';

/** Processes awaiting examination remembered at once (their exec's executable, the kernel's pick). */
const MAX_PENDING = 4096;
/** Executables installed at once: the kernel map's size (bpf/discovery.bpf.c). */
export const MAX_EXEC_SELECTED = 1024;

export interface ExecSelectionKernel {
  selectExecutable(exe: ExeKey, selectorIndex: number): void;
  untrack(pid: number): void;
}

export interface ExecSelectionStats {
  /** Executables in the kernel map. */
  executables: number;
  /** Executables not installed because the map was full. */
  full: number;
  /** Processes the kernel tracked at exec that user space then rejected (untracked). */
  undone: number;
}

const keyText = (k: ExeKey) => `${k.dev}:${k.ino}`;

export class ExecSelection {
  private readonly installed = new Set<string>();
  /** pid → the executable its exec event named (until examined). */
  private readonly execExe = new Map<number, ExeKey>();
  /** pid → the selector the kernel tracked it for (until examined). */
  private readonly kernelPicked = new Map<number, number>();
  private readonly counters = { full: 0, undone: 0 };

  constructor(
    private readonly selectors: readonly Selector[],
    private readonly kernel: ExecSelectionKernel,
    private readonly proc?: string,
  ) {}

  /** Whether `selectors[index]` is decided by the executable alone. */
  exeOnly(index: number): boolean {
    const s = this.selectors[index];
    return s !== undefined && s.exePath !== undefined && s.pids === undefined && s.openPorts === undefined;
  }

  /** Installs the literal paths of executable-only selectors (a path that is a symbolic link never matches /proc/PID/exe: skipped). */
  installLiteralPaths(): void {
    this.selectors.forEach((s, index) => {
      const path = this.exeOnly(index) ? s.exePath!.literal : undefined;
      if (path === undefined) return;
      let real: string;
      try {
        real = realpathSync(path);
      } catch {
        return; // not there (yet): learned when a process runs it
      }
      const key = real === path ? exeKeyOfPath(path) : undefined;
      if (key) this.install(key, index);
    });
  }

  onExec(pid: number, exe: ExeKey | undefined): void {
    if (!exe) return;
    this.remember(this.execExe, pid, exe);
  }

  onKernelPick(pid: number, selectorIndex: number): void {
    this.remember(this.kernelPicked, pid, selectorIndex);
  }

  /** The selector the kernel tracked a not yet examined process for. */
  kernelPick(pid: number): number | undefined {
    return this.kernelPicked.get(pid);
  }

  /**
   * User space's verdict on an examined process: `selectorIndex` when a
   * selector picked it, undefined when it is not selected (or selected as a
   * child). Learns its executable, or untracks what the kernel picked.
   */
  decided(pid: number, selected: boolean, selectorIndex: number | undefined): void {
    if (selected && selectorIndex !== undefined && this.exeOnly(selectorIndex)) {
      const key = this.execExe.get(pid) ?? readExeKey(pid, this.proc);
      if (key) this.install(key, selectorIndex);
    } else if (!selected && this.kernelPicked.has(pid)) {
      this.counters.undone++;
      try {
        this.kernel.untrack(pid);
      } catch {
        // gone from the map already (it exited)
      }
    }
    this.forget(pid);
  }

  forget(pid: number): void {
    this.execExe.delete(pid);
    this.kernelPicked.delete(pid);
  }

  stats(): ExecSelectionStats {
    return { executables: this.installed.size, ...this.counters };
  }

  private install(key: ExeKey, index: number): void {
    const text = keyText(key);
    if (this.installed.has(text)) return;
    if (this.installed.size >= MAX_EXEC_SELECTED) {
      this.counters.full++;
      return;
    }
    try {
      this.kernel.selectExecutable(key, index);
      this.installed.add(text);
    } catch {
      this.counters.full++;
    }
  }

  private remember<V>(map: Map<number, V>, pid: number, value: V): void {
    map.delete(pid);
    if (map.size >= MAX_PENDING) map.delete(map.keys().next().value!);
    map.set(pid, value);
  }
}
