// The kernel side of discovery (bpf/discovery.bpf.c): exec, fork (of tracked
// processes), exit and listen events through a ring buffer, so new services are
// seen within a millisecond rather than at the next /proc rescan. Its
// exec/fork/exit events are the stream that feeds the process table.
import { type BpfMap, type Collection, ObjectSpec, type RingBufferReader, offsetOf } from '../ebpf/index.js';
import { bpfObjectPath } from '../paths.js';
import type { ExeKey, ProcessEvent } from '../process/index.js';

/**
 * The process table's life-cycle events, and discovery's own: listens, and
 * 'exec-selected' (just before its exec event) when the kernel tracked the
 * process at exec because it runs an executable of selectExecutable().
 */
export type KernelEvent = ProcessEvent | { kind: 'listen'; pid: number; port: number } | { kind: 'exec-selected'; pid: number; selectorIndex: number };

const KINDS = { 1: 'exec', 2: 'exit', 3: 'fork', 4: 'listen' } as const;
/** discovery_event.filename's and .args' sizes. */
const FILENAME_BYTES = 128;
const ARGS_BYTES = 256;

/** NUL-separated arguments (the last may be cut short) → strings. */
function splitArgs(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
const PROGRAMS = ['discovery_exec', 'discovery_fork', 'discovery_exit', 'discovery_listen'] as const;

/**
 * Existing maps the object uses instead of its own (MapSpec.reuse): `tracked`
 * and `excluded` kept by discovery's fork/exit programs for another object
 * too (capture's watched and excluded pids), so that object needs no fork/exit
 * programs of its own. Keys are tgids; values are not read here.
 */
export interface SharedPidMaps {
  tracked?: BpfMap<number, number>;
  excluded?: BpfMap<number, number>;
}

export interface KernelEventStats {
  events: number;
  /** Records the kernel could not put in the ring buffer (full). */
  kernelDrops: number;
  /** Forks that could not be added to the tracked map (full). */
  trackedMapFull: number;
  excludedMapFull: number;
  /** Processes the kernel tracked at exec, from the executable alone. */
  execTracked: number;
}

export class KernelProcessEvents {
  private readonly reader: RingBufferReader;
  private readonly tracked;
  private readonly excluded;
  private readonly execSelected;

  private constructor(
    private readonly coll: Collection,
    onEvents: (events: KernelEvent[]) => void,
  ) {
    const btf = coll.spec.btf!;
    const at = (f: string) => offsetOf(btf, 'discovery_event', f);
    const oKind = at('kind');
    const oPid = at('pid');
    const oPpid = at('ppid');
    const oPort = at('port');
    const oStart = at('start_boottime');
    const oFile = at('filename');
    const oArgsLen = at('args_len');
    const oArgs = at('args');
    const oSelector = at('exec_selector');
    const oExeDev = at('exe_dev');
    const oExeIno = at('exe_ino');
    this.tracked = coll.map<number, number>('tracked');
    this.excluded = coll.map<number, number>('excluded');
    this.execSelected = coll.map<ExeKey, number>('exec_selected');
    // /proc's starttime is in USER_HZ (100) clock ticks.
    const ticks = (buf: Buffer, off: number) => Math.floor(Number(buf.readBigUInt64LE(off + oStart)) / 10_000_000);
    this.reader = coll.ringBuffer('discovery_events', (batch) => {
      const events: KernelEvent[] = [];
      batch.forEach((buf, off) => {
        const kind = KINDS[buf.readUInt32LE(off + oKind) as keyof typeof KINDS];
        const pid = buf.readUInt32LE(off + oPid);
        if (kind === 'exec') {
          const selector = buf.readUInt32LE(off + oSelector);
          if (selector > 0) events.push({ kind: 'exec-selected', pid, selectorIndex: selector - 1 });
          const name = buf.subarray(off + oFile, off + oFile + FILENAME_BYTES);
          const end = name.indexOf(0);
          events.push({
            kind,
            pid,
            ppid: buf.readUInt32LE(off + oPpid),
            startTicks: ticks(buf, off),
            filename: name.toString('utf8', 0, end < 0 ? name.length : end),
            args: splitArgs(buf.subarray(off + oArgs, off + oArgs + Math.min(buf.readUInt32LE(off + oArgsLen), ARGS_BYTES))),
            exe: { dev: Number(buf.readBigUInt64LE(off + oExeDev)), ino: Number(buf.readBigUInt64LE(off + oExeIno)) },
          });
        } else if (kind === 'fork') events.push({ kind, pid, ppid: buf.readUInt32LE(off + oPpid), startTicks: ticks(buf, off) });
        else if (kind === 'exit') events.push({ kind, pid });
        else if (kind === 'listen') events.push({ kind, pid, port: buf.readUInt32LE(off + oPort) });
      });
      onEvents(events);
    });
  }

  /**
   * Loads and attaches the programs. `trackAll` reports forks and exits of
   * every process (watch-everything mode) instead of tracked ones only.
   */
  static start(opts: { trackAll: boolean; onEvents: (events: KernelEvent[]) => void; shared?: SharedPidMaps }): KernelProcessEvents {
    const spec = ObjectSpec.open(bpfObjectPath('discovery'));
    let coll: Collection;
    try {
      spec.setVariable('track_all', opts.trackAll ? 1 : 0);
      for (const [name, map] of Object.entries(opts.shared ?? {})) {
        if (!map) continue;
        spec.map(name).maxEntries = map.maxEntries; // the shared map's capacity is the one in force
        spec.map(name).reuse(map);
      }
      coll = spec.load();
    } catch (e) {
      spec.close();
      throw e;
    }
    try {
      const events = new KernelProcessEvents(coll, opts.onEvents);
      coll.attachAll();
      return events;
    } catch (e) {
      coll.close();
      throw e;
    }
  }

  track(pid: number): void {
    this.tracked.update(pid, 1);
  }

  untrack(pid: number): void {
    this.tracked.delete(pid);
  }

  /**
   * A process that execs this executable is tracked by the kernel at once
   * (throws when the map is full). `selectorIndex` comes back in its event.
   */
  selectExecutable(exe: ExeKey, selectorIndex: number): void {
    this.execSelected.update(exe, selectorIndex + 1);
  }

  /** Never report this process nor anything it forks from now on. */
  exclude(pid: number): void {
    this.excluded.update(pid, 1);
  }

  /** Delivers what the ring buffer holds now, synchronously. */
  flush(): void {
    this.reader.consume();
  }

  /** Run time and count of each program (counted while kernel bpf_stats are enabled). */
  programStats(): { name: string; runTimeNs: number; runCount: number }[] {
    return PROGRAMS.map((name) => {
      const info = this.coll.program(name).info();
      return { name, runTimeNs: info.runTimeNs, runCount: info.runCount };
    });
  }

  stats(): KernelEventStats {
    const r = this.reader.stats();
    const counters = this.coll.map<number, number[]>('discovery_counters');
    const sum = (i: number) => (counters.lookup(i) ?? []).reduce((a, b) => a + Number(b), 0);
    return { events: r.records, kernelDrops: r.kernelDrops, trackedMapFull: sum(0), excludedMapFull: sum(1), execTracked: sum(2) };
  }

  close(): void {
    this.coll.close();
  }
}
