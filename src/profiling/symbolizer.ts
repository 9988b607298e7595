// Turns raw addresses into frames: ELF symbols of the mapped file (mappings
// from the process table's bounded cache, files through /proc/PID/map_files,
// so deleted files and memfds work), kernel
// symbols from /proc/kallsyms, JIT names from /tmp/perf-PID.map. A frame that
// cannot be named keeps module+offset. Every cache is bounded.
import { ElfFile } from './elf/elf-file.js';
import { SymbolTable } from './elf/elf-symbols.js';
import { PT_LOAD } from './elf/elf-file.js';
import type { ElfSegment } from './elf/elf-file.js';
import type { Frame, StackSample } from './frame.js';
import { KernelSymbols } from './kallsyms.js';
import { Lru } from './lru.js';
import { PerfMap } from './perf-map.js';
import { type Mapping, ProcessTable, findMapping, mappingFilePath, mappingName } from '../process/index.js';
import type { RawSample } from './sampler.js';

/** Symbol tables kept, in bytes (names and addresses). */
const MAX_SYMBOL_BYTES = 192 << 20;
const MAX_PROCESSES = 4096;
/** Re-read a process's maps at most this often when an address is not found. */
const MAPS_REFRESH_MS = 2000;

interface ModuleInfo {
  symbols: SymbolTable;
  loads: ElfSegment[];
  buildId: string | undefined;
}

interface ProcessInfo {
  perfMap: PerfMap;
  perfMapCheckedAt: number;
}

export interface SymbolizerStats {
  modules: number;
  moduleEvictions: number;
  processes: number;
  unnamedFrames: number;
  moduleErrors: number;
}

export class Symbolizer {
  private kernel: KernelSymbols | undefined;
  private readonly modules = new Lru<string, ModuleInfo>(MAX_SYMBOL_BYTES, (m) => m.symbols.bytes + 1024);
  private readonly processes = new Lru<number, ProcessInfo>(MAX_PROCESSES);
  private unnamed = 0;
  private moduleErrors = 0;

  private readonly proc: string;

  /** `table`: the agent's process table, whose mappings cache the symbolizer reads. */
  constructor(private readonly table = new ProcessTable()) {
    this.proc = table.proc;
  }

  /** Root-first frames of a raw sample. */
  symbolize(raw: RawSample): StackSample {
    const frames: Frame[] = [];
    if (raw.userLost) frames.push({ name: '[user stack lost]', module: '[unknown]', kind: 'unknown' });
    if (raw.truncated) frames.push({ name: '[truncated]', module: '[unknown]', kind: 'unknown' });
    for (let i = raw.user.length - 1; i >= 0; i--) frames.push(this.userFrame(raw.pid, raw.user[i]!, i > 0));
    for (let i = raw.kernel.length - 1; i >= 0; i--) frames.push(this.kernelFrame(raw.kernel[i]!));
    return { pid: raw.pid, frames, count: raw.count };
  }

  /** The process's maps, read now unless read in the last MAPS_REFRESH_MS (used before unwinding tables are built, too). */
  mappings(pid: number): readonly Mapping[] {
    return this.table.mappings(pid, MAPS_REFRESH_MS);
  }

  forget(pid: number): void {
    this.processes.delete(pid);
    this.table.forget(pid);
  }

  stats(): SymbolizerStats {
    return { modules: this.modules.size, moduleEvictions: this.modules.evictions, processes: this.processes.size, unnamedFrames: this.unnamed, moduleErrors: this.moduleErrors };
  }

  private process(pid: number): ProcessInfo {
    let p = this.processes.get(pid);
    if (!p) {
      p = { perfMap: PerfMap.forPid(pid, this.proc), perfMapCheckedAt: 0 };
      this.processes.set(pid, p);
    }
    return p;
  }

  private userFrame(pid: number, pc: number, isReturnAddress: boolean): Frame {
    // A return address points after its call, possibly into the next function.
    const at = isReturnAddress ? pc - 1 : pc;
    const p = this.process(pid);
    // The cached read first; code mapped since (dlopen, JIT) needs a newer one.
    let m = findMapping(this.table.mappings(pid), at);
    if (!m) m = findMapping(this.mappings(pid), at);
    if (!m || !m.path || m.path.startsWith('[')) {
      const jit = this.jitName(p, at);
      if (jit) return { name: jit, module: '[jit]', kind: 'jit' };
      this.unnamed++;
      return { name: `${m ? mappingName(m) : '[unknown]'}+0x${pc.toString(16)}`, module: m ? mappingName(m) : '[unknown]', kind: 'unknown' };
    }
    const module = mappingName(m);
    const fileOffset = at - m.start + m.offset;
    const info = this.module(pid, m);
    const vaddr = info ? vaddrOf(info.loads, fileOffset) : undefined;
    const sym = info && vaddr !== undefined ? info.symbols.lookup(vaddr) : undefined;
    if (sym) return { name: sym.name, module, kind: 'native', ...(info?.buildId ? { buildId: info.buildId } : {}) };
    // memfd or anonymous-file JIT code (e.g. some runtimes) may still be in a perf map.
    const jit = this.jitName(p, at);
    if (jit) return { name: jit, module, kind: 'jit' };
    this.unnamed++;
    return { name: `${module}+0x${fileOffset.toString(16)}`, module, kind: 'unknown', ...(info?.buildId ? { buildId: info.buildId } : {}) };
  }

  private jitName(p: ProcessInfo, addr: number): string | undefined {
    const now = Date.now();
    if (now - p.perfMapCheckedAt > 1000) {
      p.perfMap.refresh();
      p.perfMapCheckedAt = now;
    }
    return p.perfMap.lookup(addr);
  }

  private kernelFrame(addr: bigint): Frame {
    this.kernel ??= KernelSymbols.load(`${this.proc}/kallsyms`);
    const name = this.kernel.lookup(addr);
    if (name) return { name, module: '[kernel]', kind: 'kernel' };
    this.unnamed++;
    return { name: `[kernel]+0x${addr.toString(16)}`, module: '[kernel]', kind: 'unknown' };
  }

  /** Symbols of a mapping's file, cached by device and inode (the same file in every process). */
  private module(pid: number, m: Mapping): ModuleInfo | undefined {
    const key = `${m.dev}:${m.inode}:${m.path}`;
    const cached = this.modules.get(key);
    if (cached) return cached;
    let elf: ElfFile | undefined;
    try {
      elf = ElfFile.open(mappingFilePath(pid, m, this.proc));
      const info: ModuleInfo = { symbols: SymbolTable.read(elf), loads: elf.segments.filter((s) => s.type === PT_LOAD), buildId: elf.buildId() };
      this.modules.set(key, info);
      return info;
    } catch {
      this.moduleErrors++;
      const info: ModuleInfo = { symbols: SymbolTable.empty(), loads: [], buildId: undefined };
      this.modules.set(key, info); // do not retry a file that cannot be read on every frame
      return info;
    } finally {
      elf?.close();
    }
  }
}

/** ELF virtual address of a file offset through the PT_LOAD segments. */
export function vaddrOf(loads: readonly ElfSegment[], fileOffset: number): number | undefined {
  for (const s of loads) if (fileOffset >= s.offset && fileOffset < s.offset + s.filesz) return fileOffset - s.offset + s.vaddr;
  return undefined;
}
