// /proc/PID/maps: which file (or anonymous region) holds each address, so a pc
// becomes (file, file offset) and then an ELF virtual address.
import { PROC, readProcText } from './proc-fs.js';

export interface Mapping {
  start: number;
  end: number;
  perms: string;
  /** File offset of `start`. */
  offset: number;
  dev: string;
  inode: number;
  /** Path as the kernel prints it, '' when anonymous ("[heap]", "/x (deleted)", "/memfd:name (deleted)"). */
  path: string;
  /** The file was deleted or is a memfd: read it through /proc/PID/map_files. */
  deleted: boolean;
}

/** Mappings read per process at most. */
const MAX_MAPPINGS = 65536;
/** Bytes of /proc/PID/maps read at most (MAX_MAPPINGS lines of ~120 bytes). */
const MAX_MAPS_BYTES = 8 << 20;

export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= MAX_MAPPINGS) break;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const path = m[7]!;
    out.push({
      start: parseInt(m[1]!, 16),
      end: parseInt(m[2]!, 16),
      perms: m[3]!,
      offset: parseInt(m[4]!, 16),
      dev: m[5]!,
      inode: Number(m[6]),
      path,
      deleted: path.endsWith(' (deleted)') || path.startsWith('/memfd:'),
    });
  }
  return out;
}

/** Executable mappings of a process, sorted by address; [] when it is gone. */
export function readExecutableMappings(pid: number, proc = PROC): Mapping[] {
  const text = readProcText(`${proc}/${pid}/maps`, MAX_MAPS_BYTES);
  return text === undefined ? [] : parseMaps(text).filter((m) => m.perms[2] === 'x');
}

/** The path to open a mapping's file: map_files works for deleted files and memfds too. */
export function mappingFilePath(pid: number, m: Mapping, proc = PROC): string {
  return `${proc}/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`;
}

/** A display name for the mapping's file ("libc.so.6", "memfd:jit (deleted)"). */
export function mappingName(m: Mapping): string {
  if (!m.path) return '[anon]';
  const clean = m.path.replace(/ \(deleted\)$/, '');
  const base = clean.startsWith('/') ? clean.slice(clean.lastIndexOf('/') + 1) : clean;
  return m.deleted ? `${base} (deleted)` : base;
}

/** Binary search of sorted mappings. */
export function findMapping(maps: readonly Mapping[], addr: number): Mapping | undefined {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = maps[mid]!;
    if (addr < m.start) hi = mid - 1;
    else if (addr >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}
