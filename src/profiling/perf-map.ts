// JIT symbols from a perf map file, /tmp/perf-PID.map ("START SIZE name" in hex,
// as V8 writes with --perf-basic-prof), read inside the process's own root.
// Re-read only when the file grew; capped in entries.
import { readFileSync, statSync } from 'node:fs';

export const MAX_PERF_MAP_ENTRIES = 500_000;

export class PerfMap {
  private starts = new Float64Array(0);
  private ends = new Float64Array(0);
  private names: string[] = [];
  private readSize = -1;
  dropped = 0;

  constructor(readonly path: string) {}

  static forPid(pid: number, proc = '/proc'): PerfMap {
    return new PerfMap(`${proc}/${pid}/root/tmp/perf-${pid}.map`);
  }

  /** Re-reads the file if it changed size since the last read. False when there is none. */
  refresh(): boolean {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return this.names.length > 0;
    }
    if (size === this.readSize) return true;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return this.names.length > 0;
    }
    this.readSize = size;
    const rows: [number, number, string][] = [];
    this.dropped = 0;
    for (const line of text.split('\n')) {
      const a = line.indexOf(' ');
      const b = line.indexOf(' ', a + 1);
      if (a <= 0 || b <= a) continue;
      if (rows.length >= MAX_PERF_MAP_ENTRIES) {
        this.dropped++;
        continue;
      }
      const start = parseInt(line.slice(0, a), 16);
      const size = parseInt(line.slice(a + 1, b), 16);
      if (Number.isNaN(start) || Number.isNaN(size)) continue;
      rows.push([start, start + size, line.slice(b + 1)]);
    }
    // Later lines win: V8 reuses addresses after code is moved or collected.
    const order = rows.map((_, i) => i).sort((i, j) => rows[i]![0] - rows[j]![0] || i - j);
    this.starts = Float64Array.from(order.map((i) => rows[i]![0]));
    this.ends = Float64Array.from(order.map((i) => rows[i]![1]));
    this.names = order.map((i) => rows[i]![2]);
    return true;
  }

  get length(): number {
    return this.names.length;
  }

  lookup(addr: number): string | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // The newest entry at or before addr that contains it.
    for (let i = found; i >= 0 && i > found - 8; i--) if (addr < this.ends[i]!) return this.names[i];
    return undefined;
  }
}
