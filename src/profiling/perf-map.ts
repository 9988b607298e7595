// JIT symbols from a perf map file, /tmp/perf-PID.map ("START SIZE name" in hex,
// as V8 writes with --perf-basic-prof), read inside the process's own root.
// The file only grows while the process runs, so only what was appended since
// the last read is parsed and merged in (a Node service's map reaches tens of
// thousands of lines; re-parsing 4.5 MB took 44 ms per growth, merging one
// new line takes about 1 ms). A file that shrank or is another inode was
// replaced (pid reuse) and is read again whole. Capped in entries.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const MAX_PERF_MAP_ENTRIES = 500_000;
/** Bytes read per refresh at most; the rest waits for the next one. */
const MAX_READ_BYTES = 16 << 20;

export class PerfMap {
  private starts = new Float64Array(0);
  private ends = new Float64Array(0);
  private names: string[] = [];
  /** Bytes of the file parsed so far (complete lines only). */
  private consumed = 0;
  private lastSize = -1;
  private ino = -1;
  dropped = 0;

  constructor(readonly path: string) {}

  static forPid(pid: number, proc = '/proc'): PerfMap {
    return new PerfMap(`${proc}/${pid}/root/tmp/perf-${pid}.map`);
  }

  /** Reads what was appended since the last call. False when there is no map at all. */
  refresh(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return this.names.length > 0;
    }
    try {
      const st = fstatSync(fd);
      const size = st.size;
      if (size === this.lastSize && st.ino === this.ino) return true;
      if (size < this.consumed || st.ino !== this.ino) this.reset();
      this.ino = st.ino;
      this.lastSize = size;
      const want = Math.min(size - this.consumed, MAX_READ_BYTES);
      if (want <= 0) return true;
      const buf = Buffer.allocUnsafe(want);
      const got = readSync(fd, buf, 0, want, this.consumed);
      const lastNewline = buf.lastIndexOf(0x0a, got - 1);
      if (lastNewline < 0) return true; // a line still being written
      this.consumed += lastNewline + 1;
      if (this.consumed < size) this.lastSize = -1; // more to read next time
      this.merge(parseLines(buf.toString('utf8', 0, lastNewline)));
      return true;
    } catch {
      return this.names.length > 0;
    } finally {
      closeSync(fd);
    }
  }

  private reset(): void {
    this.starts = new Float64Array(0);
    this.ends = new Float64Array(0);
    this.names = [];
    this.consumed = 0;
    this.dropped = 0;
  }

  /** Merges rows (in file order) into the sorted arrays; on equal starts the later line sorts after, so it wins. */
  private merge(rows: Array<[number, number, string]>): void {
    const room = MAX_PERF_MAP_ENTRIES - this.names.length;
    if (rows.length > room) {
      this.dropped += rows.length - Math.max(0, room);
      rows = rows.slice(0, Math.max(0, room));
    }
    if (rows.length === 0) return;
    const order = rows.map((_, i) => i).sort((i, j) => rows[i]![0] - rows[j]![0] || i - j);
    const n = this.names.length + rows.length;
    const starts = new Float64Array(n);
    const ends = new Float64Array(n);
    const names: string[] = new Array<string>(n);
    let a = 0;
    let b = 0;
    for (let k = 0; k < n; k++) {
      const takeOld = b >= order.length || (a < this.names.length && this.starts[a]! <= rows[order[b]!]![0]);
      if (takeOld) {
        starts[k] = this.starts[a]!;
        ends[k] = this.ends[a]!;
        names[k] = this.names[a]!;
        a++;
      } else {
        const r = rows[order[b]!]!;
        starts[k] = r[0];
        ends[k] = r[1];
        names[k] = r[2];
        b++;
      }
    }
    this.starts = starts;
    this.ends = ends;
    this.names = names;
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

function parseLines(text: string): Array<[number, number, string]> {
  const rows: Array<[number, number, string]> = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    if (a <= 0 || b <= a) continue;
    const start = parseInt(line.slice(0, a), 16);
    const size = parseInt(line.slice(a + 1, b), 16);
    if (Number.isNaN(start) || Number.isNaN(size)) continue;
    rows.push([start, start + size, line.slice(b + 1)]);
  }
  return rows;
}
