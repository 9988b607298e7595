// The stream platform's user-space half: one entry per streamed connection.
// A new connection's first chunks go to every module's detect() until one
// claims it (then the kernel is told to keep streaming it) or `detectChunks`
// chunks went unclaimed (then the kernel is told to ignore it). Unclaimed
// chunks are held (copied) meanwhile: detect() also sees the latest run of
// same-direction chunks joined (a client may write its first message in
// pieces: mqtt.js writes CONNECT as ~10 iovecs), and the claiming parser gets
// the held chunks first, so it sees the connection from its start. A claimed
// connection's chunks go, in order, to its module's parser, whose Operations
// leave as LocatedOperations. Bounded: at most maxConnections entries (the
// oldest is ended as 'evicted'), idle ones ended after idleTimeoutMs, held
// bytes capped across connections (past the cap, chunks are not held: counted).
import type { Endpoint } from '../../capture/exchange.js';
import type { StreamChunk, StreamEnd } from '../../capture/stream.js';
import type { ChunkView, ConnectionParser, Emit, LocatedOperation, Operation, ProtocolModule } from '../module.js';
import { ProtocolCounters, type ProtocolStats } from './protocol-stats.js';

export interface StreamTrackerOptions {
  modules: readonly ProtocolModule[];
  onOperation: (located: LocatedOperation) => void;
  /** Tells the kernel to keep streaming a connection or to ignore it. */
  setVerdict: (socketInode: number, verdict: 'stream' | 'ignore') => void;
  /** Connections tracked at once (default 16384, the kernel's streams map). */
  maxConnections?: number;
  /** A connection without chunks this long is ended as 'idle' (default 10 minutes). */
  idleTimeoutMs?: number;
  /** Chunks of a connection offered to detect() before it is ignored (default 8). */
  detectChunks?: number;
  /** Called when a listener or parser throws (counted either way). */
  onError?: (error: unknown) => void;
  /** Bytes of undecided connections' chunks held at once, across connections (default 4 MiB). */
  maxHeldBytes?: number;
}

/** The longest joined run offered to detect(). */
const MAX_JOINED_BYTES = 4096;

interface Connection {
  id: string;
  inode: number;
  /** Undefined while undetected. */
  module: ProtocolModule | undefined;
  parser: ConnectionParser | undefined;
  ignored: boolean;
  offered: number;
  lastNs: number;
  pid: number;
  tid: number;
  local: Endpoint;
  remote: Endpoint;
  emit: Emit;
  /** Copies of the chunks offered while undecided, oldest first. */
  held: ChunkView[];
  heldBytes: number;
}

export interface StreamTrackerStats {
  /** Connections tracked now, and those never claimed by a module (ignored). */
  connections: number;
  ignored: number;
  /** Connections ended because the table was full. */
  evicted: number;
  /** Chunks of connections not tracked (ignored ones in flight, or after eviction). */
  chunksUnclaimed: number;
  /** Exceptions from parsers or the operation listener (swallowed, counted). */
  errors: number;
  /** Chunks of undecided connections not held because the held-bytes cap was reached (their parser never gets them). */
  heldDropped: number;
  protocols: ProtocolStats[];
}

export class StreamTracker {
  readonly #modules: readonly ProtocolModule[];
  readonly #onOperation: StreamTrackerOptions['onOperation'];
  readonly #setVerdict: StreamTrackerOptions['setVerdict'];
  readonly #maxConnections: number;
  readonly #idleNs: number;
  readonly #detectChunks: number;
  readonly #onError: (error: unknown) => void;
  readonly #connections = new Map<string, Connection>();
  readonly #counters = new ProtocolCounters();
  /** Reused for every operation (valid only during the listener's call). */
  readonly #located: LocatedOperation = {
    protocol: '',
    op: undefined as unknown as Operation,
    pid: 0,
    connectionId: '',
    local: { address: '', port: 0 },
    remote: { address: '', port: 0 },
  };
  readonly #maxHeldBytes: number;
  #heldBytes = 0;
  #heldDropped = 0;
  #ignored = 0;
  #evicted = 0;
  #unclaimed = 0;
  #errors = 0;

  constructor(options: StreamTrackerOptions) {
    this.#modules = options.modules;
    this.#onOperation = options.onOperation;
    this.#setVerdict = options.setVerdict;
    this.#maxConnections = options.maxConnections ?? 16384;
    this.#idleNs = (options.idleTimeoutMs ?? 600_000) * 1e6;
    this.#detectChunks = options.detectChunks ?? 8;
    this.#onError = options.onError ?? (() => undefined);
    this.#maxHeldBytes = options.maxHeldBytes ?? 4 << 20;
  }

  handleChunk(chunk: StreamChunk): void {
    let c = this.#connections.get(chunk.connectionId);
    if (c === undefined) c = this.#open(chunk);
    c.lastNs = chunk.timeNs;
    c.pid = chunk.pid;
    c.tid = chunk.tid;
    if (c.ignored) {
      this.#unclaimed++;
      return;
    }
    if (c.parser === undefined) {
      if (!this.#detect(c, chunk)) return;
      // Claimed: the parser gets the connection from its first chunk.
      const held = c.held;
      this.#release(c);
      for (const h of held) this.#feed(c, h);
    }
    this.#feed(c, chunk);
  }

  #feed(c: Connection, chunk: ChunkView): void {
    this.#counters.of(c.module!.name).chunk(chunk.lost);
    try {
      c.parser!.feed(chunk, c.emit);
    } catch (e) {
      this.#fail(e);
    }
  }

  handleEnd(end: StreamEnd): void {
    const c = this.#connections.get(end.connectionId);
    if (c === undefined) return;
    if (c.module) this.#counters.of(c.module.name).chunk(end.lost);
    this.#end(c, 'closed');
  }

  /** Ends connections idle past the timeout; `nowNs` on the kernel's monotonic clock. */
  sweep(nowNs: number): void {
    for (const c of this.#connections.values()) if (nowNs - c.lastNs > this.#idleNs) this.#end(c, 'idle');
  }

  stats(): StreamTrackerStats {
    const live = new Map<string, ConnectionParser[]>();
    for (const c of this.#connections.values()) {
      if (!c.module || !c.parser) continue;
      const list = live.get(c.module.name);
      if (list) list.push(c.parser);
      else live.set(c.module.name, [c.parser]);
    }
    return {
      connections: this.#connections.size,
      ignored: this.#ignored,
      evicted: this.#evicted,
      chunksUnclaimed: this.#unclaimed,
      errors: this.#errors,
      heldDropped: this.#heldDropped,
      protocols: this.#counters.snapshot(live),
    };
  }

  /** Forgets every connection without emitting (the agent is stopping). */
  close(): void {
    this.#connections.clear();
    this.#heldBytes = 0;
  }

  #open(chunk: StreamChunk): Connection {
    if (this.#connections.size >= this.#maxConnections) {
      const oldest = this.#connections.values().next().value!;
      this.#evicted++;
      this.#end(oldest, 'evicted');
    }
    const c: Connection = {
      id: chunk.connectionId,
      inode: chunk.socketInode,
      module: undefined,
      parser: undefined,
      ignored: false,
      offered: 0,
      lastNs: chunk.timeNs,
      pid: chunk.pid,
      tid: chunk.tid,
      local: { ...chunk.local },
      remote: { ...chunk.remote },
      emit: (op) => this.#emit(c, op),
      held: [],
      heldBytes: 0,
    };
    this.#connections.set(c.id, c);
    return c;
  }

  /**
   * Offers the chunk, then the latest same-direction run joined with it, to
   * every module; true when one claimed the connection. Otherwise holds a copy,
   * or gives up on the connection after detectChunks chunks.
   */
  #detect(c: Connection, chunk: StreamChunk): boolean {
    if (this.#claim(c, chunk)) return true;
    const joined = joinedRun(c.held, chunk);
    if (joined !== undefined && this.#claim(c, joined)) return true;
    if (++c.offered >= this.#detectChunks) {
      c.ignored = true;
      this.#ignored++;
      this.#release(c);
      this.#setVerdict(c.inode, 'ignore');
      return false;
    }
    const size = chunk.head.length + chunk.tail.length;
    if (this.#heldBytes + size > this.#maxHeldBytes) {
      this.#heldDropped++;
      return false;
    }
    c.held.push(copyChunk(chunk));
    c.heldBytes += size;
    this.#heldBytes += size;
    return false;
  }

  #claim(c: Connection, chunk: ChunkView): boolean {
    const input = { chunk, localPort: c.local.port, remotePort: c.remote.port };
    for (const m of this.#modules) {
      let role;
      try {
        role = m.detect(input);
      } catch (e) {
        this.#fail(e);
        continue;
      }
      if (role === undefined) continue;
      c.module = m;
      c.parser = m.createParser(role);
      this.#counters.of(m.name).connection();
      this.#setVerdict(c.inode, 'stream');
      return true;
    }
    return false;
  }

  #release(c: Connection): void {
    this.#heldBytes -= c.heldBytes;
    c.held = [];
    c.heldBytes = 0;
  }

  #emit(c: Connection, op: Operation): void {
    const l = this.#located;
    l.protocol = c.module!.name;
    l.op = op;
    l.pid = c.pid;
    l.tid = c.tid;
    l.connectionId = c.id;
    l.local = c.local;
    l.remote = c.remote;
    this.#counters.of(l.protocol).operation(op);
    try {
      this.#onOperation(l);
    } catch (e) {
      this.#fail(e);
    }
  }

  #end(c: Connection, why: 'closed' | 'idle' | 'evicted'): void {
    this.#connections.delete(c.id);
    this.#release(c);
    if (!c.parser || !c.module) return;
    try {
      c.parser.end(why, c.emit);
    } catch (e) {
      this.#fail(e);
    }
    this.#counters.of(c.module.name).retire(c.parser.stats);
  }

  #fail(e: unknown): void {
    this.#errors++;
    this.#onError(e);
  }
}

function copyChunk(c: ChunkView): ChunkView {
  return { direction: c.direction, timeNs: c.timeNs, bytes: c.bytes, head: Uint8Array.from(c.head), tail: Uint8Array.from(c.tail), lost: c.lost, tid: c.tid };
}

/**
 * The held chunks written the same way just before `chunk`, joined with it, as
 * one chunk; undefined when there are none. A hole (a tail, or chunks lost)
 * ends the run: bytes across it are not contiguous.
 */
function joinedRun(held: readonly ChunkView[], chunk: ChunkView): ChunkView | undefined {
  if (chunk.lost > 0 || chunk.tail.length > 0) return undefined;
  let first = held.length;
  let size = chunk.head.length;
  while (first > 0) {
    const h = held[first - 1]!;
    if (h.direction !== chunk.direction || h.tail.length > 0 || size + h.head.length > MAX_JOINED_BYTES) break;
    size += h.head.length;
    first--;
    if (h.lost > 0) break;
  }
  if (first === held.length) return undefined;
  const head = new Uint8Array(size);
  let at = 0;
  for (let i = first; i < held.length; i++) {
    head.set(held[i]!.head, at);
    at += held[i]!.head.length;
  }
  head.set(chunk.head, at);
  return { direction: chunk.direction, timeNs: held[first]!.timeNs, bytes: size, head, tail: new Uint8Array(0), lost: held[first]!.lost, tid: chunk.tid };
}
