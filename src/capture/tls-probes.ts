// TLS plaintext: attaches the capture object's OpenSSL uprobes (bpf/capture/tls.h)
// to every binary that carries OpenSSL's SSL_read/SSL_write — the shared
// libssl, or an executable that links OpenSSL in and exports it (node). A
// uprobe is set on a file (its inode), for every process that maps it, now or
// later: so each binary is attached once (deduplicated by device + inode), and
// the BPF side filters by the same watched/excluded pids as the syscall capture.
//
// Binaries come from the processes discovery selects: the libssl in
// /proc/PID/maps (through /proc/PID/root, so a container's own libssl is found
// in its mount namespace) and /proc/PID/exe. The host's libssl (ldconfig's
// cache) is attached at start, so a process that loads it later (Python's
// `import ssl`) is covered too.
import { execFileSync } from 'node:child_process';
import { readFile, readlink, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import type { Collection, Link } from '../ebpf/index.js';

/** The entry programs, per OpenSSL function; one return program serves all four. */
const ENTRY_PROGRAMS = {
  SSL_read: 'tls_read_enter',
  SSL_read_ex: 'tls_read_ex_enter',
  SSL_write: 'tls_write_enter',
  SSL_write_ex: 'tls_write_ex_enter',
} as const;
const RETURN_PROGRAM = 'tls_return';
/** Programs of the capture object SocketCapture must not attach from their ELF section. */
export const TLS_PROGRAMS: readonly string[] = [...Object.values(ENTRY_PROGRAMS), RETURN_PROGRAM];
const LIBSSL = /\/libssl\.so(\.[0-9.]+)?$/;
/** Binaries remembered (attached or found without OpenSSL); past this, new ones are not tried. */
const MAX_BINARIES = 4096;
/**
 * A process is looked at again this long after it is first watched: a libssl
 * loaded after its start (Python's `import ssl`) that is not the host's (a
 * container's own) is found then. Bounded: past MAX_RESCANS pending, none more.
 */
const RESCAN_AFTER_MS = 5_000;
const MAX_RESCANS = 1024;

export interface TlsBinary {
  /** The path it was attached through. */
  path: string;
  /** Functions hooked (entry and return each). */
  functions: string[];
}

export interface TlsProbeStats {
  /** Binaries whose OpenSSL functions are hooked. */
  binaries: number;
  /** Binaries looked at that carry no SSL_read/SSL_write (executables mostly). */
  withoutOpenssl: number;
  /** Attachments that failed for another reason than a missing symbol (the last reason in lastError). */
  failures: number;
  lastError?: string;
}

export class TlsProbes {
  /** dev:ino → attached functions (empty: no OpenSSL there). */
  private readonly seen = new Map<string, TlsBinary>();
  private readonly links: Link[] = [];
  private failures = 0;
  private lastError: string | undefined;
  private closed = false;
  private readonly rescans = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly coll: Collection,
    private readonly onError: (e: unknown) => void,
  ) {}

  /**
   * Hooks the host's libssl (from ldconfig's cache). Throws when a libssl exists
   * but cannot be hooked (uprobes refused): TLS capture is then off with that reason.
   */
  attachHostLibraries(): TlsBinary[] {
    const attached: TlsBinary[] = [];
    for (const path of hostLibssl()) {
      const bin = this.attachPath(path, statKey(path), true);
      if (bin?.functions.length) attached.push(bin);
    }
    return attached;
  }

  /** scanProcess now, and once more a few seconds later (a library loaded after the start). */
  watchProcess(pid: number): Promise<void> {
    if (!this.closed && !this.rescans.has(pid) && this.rescans.size < MAX_RESCANS) {
      const timer = setTimeout(() => {
        this.rescans.delete(pid);
        void this.scanProcess(pid);
      }, RESCAN_AFTER_MS);
      timer.unref();
      this.rescans.set(pid, timer);
    }
    return this.scanProcess(pid);
  }

  /** Hooks the OpenSSL a process carries (its libssl mappings and its executable). Never throws. */
  async scanProcess(pid: number): Promise<void> {
    if (this.closed) return;
    const candidates: { path: string; key: string | undefined }[] = [];
    try {
      const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
      const libs = new Set<string>();
      for (const line of maps.split('\n')) {
        const path = mappedPath(line);
        if (path && LIBSSL.test(path)) libs.add(path);
      }
      for (const lib of libs) {
        const path = `/proc/${pid}/root${lib}`;
        candidates.push({ path, key: await statKeyAsync(path) });
      }
      // An executable that links OpenSSL in (node): /proc/PID/exe reaches it in any namespace.
      await readlink(`/proc/${pid}/exe`);
      candidates.push({ path: `/proc/${pid}/exe`, key: await statKeyAsync(`/proc/${pid}/exe`) });
    } catch {
      // The process is gone or not readable: nothing to hook.
    }
    for (const c of candidates) if (c.key && !this.seen.has(c.key)) this.attachPath(c.path, c.key, false);
  }

  stats(): TlsProbeStats {
    let binaries = 0;
    let withoutOpenssl = 0;
    for (const b of this.seen.values()) b.functions.length ? binaries++ : withoutOpenssl++;
    return { binaries, withoutOpenssl, failures: this.failures, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Hooked binaries, for diagnostics. */
  binaries(): TlsBinary[] {
    return [...this.seen.values()].filter((b) => b.functions.length > 0);
  }

  close(): void {
    this.closed = true;
    for (const t of this.rescans.values()) clearTimeout(t);
    this.rescans.clear();
    for (const l of this.links.splice(0)) l.close();
  }

  /** Hooks SSL_read/SSL_write (and the _ex forms where present) of one binary. */
  private attachPath(path: string, key: string | undefined, throwOnFailure: boolean): TlsBinary | undefined {
    if (!key || this.closed) return undefined;
    const known = this.seen.get(key);
    if (known) return known;
    if (this.seen.size >= MAX_BINARIES) return undefined;
    const bin: TlsBinary = { path, functions: [] };
    const links: Link[] = [];
    for (const [symbol, entry] of Object.entries(ENTRY_PROGRAMS)) {
      try {
        links.push(this.coll.program(entry).attachUprobe({ binary: path, symbol }));
        links.push(this.coll.program(RETURN_PROGRAM).attachUprobe({ binary: path, symbol, retprobe: true }));
        bin.functions.push(symbol);
      } catch (e) {
        if (isMissingSymbol(e)) continue;
        for (const l of links) l.close();
        this.failures++;
        this.lastError = `${path}: ${String((e as Error).message ?? e)}`;
        if (throwOnFailure) throw e;
        this.onError(e);
        return undefined; // not remembered: a later process may succeed (e.g. a transient ENOENT)
      }
    }
    // Both directions or nothing: half a connection would pair nothing.
    const reads = bin.functions.some((f) => f.startsWith('SSL_read'));
    const writes = bin.functions.some((f) => f.startsWith('SSL_write'));
    if (!reads || !writes) {
      for (const l of links) l.close();
      bin.functions = [];
    } else {
      this.links.push(...links);
    }
    this.seen.set(key, bin);
    return bin;
  }
}

/** The pathname of a /proc/PID/maps line, if it maps a file. */
function mappedPath(line: string): string | undefined {
  const i = line.indexOf('/');
  if (i < 0) return undefined;
  const path = line.slice(i);
  return path.endsWith(' (deleted)') ? undefined : path;
}

function isMissingSymbol(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  const msg = String((e as Error)?.message ?? '');
  return code === 'WAGGLE_ERR_NOT_FOUND' || /ENOENT|No such file|not found/i.test(msg);
}

function statKey(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

async function statKeyAsync(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** libssl.so.N paths in ldconfig's cache (the unversioned dev symlink resolves to the same inode). */
function hostLibssl(): string[] {
  let out = '';
  try {
    out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    try {
      out = execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return [];
    }
  }
  const paths: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*libssl\.so(\.[0-9.]+)?\s.*=>\s*(\S+)$/.exec(line);
    if (m && m[2]) paths.push(m[2]);
  }
  return paths;
}
