/**
 * TraceLinker: joins the spans one host's capture sees into traces, with no
 * header and no change to the programs. Two links, both decided from what the
 * kernel recorded (process, thread, connection ends, times):
 *
 * - in a process: a CLIENT (or PRODUCER) span is the child of the SERVER span
 *   its thread was handling when it made the call: the one server span of the
 *   same pid and tid in flight when the call began (request read, response not
 *   yet written). A thread-per-request server (Python's ThreadingHTTPServer, a
 *   thread pool) has one for every call. A thread that multiplexes requests
 *   (Node's event loop, an nginx worker) has one only when a single request
 *   was in flight; with several, the call's owner cannot be seen from outside
 *   the runtime, so the span stays a root and is counted
 *   (`concurrent_requests`): a wrong parent is worse than none.
 * - across local processes: a SERVER span is the child of the CLIENT span at
 *   the other end of its connection (client local = server remote and the
 *   reverse) whose interval overlaps it; one connection carries one exchange
 *   at a time, so the match is unique (else counted `ambiguous_connection`).
 *
 * A span that arrived with a valid W3C traceparent keeps it: it is never
 * re-parented in its process, and is linked to the client span across a
 * connection only when that span carries the same trace (the same header read
 * at both ends), which makes the parent our client span instead of the
 * caller's own span above it.
 *
 * Children usually finish before their parents, so a span that may still get
 * a parent is held for `holdMs` after it arrives before its parent is looked
 * for, and released once its whole chain of ancestors has been decided (or
 * after `maxHoldMs`): then its trace id is its root's. A server span that can
 * have no local parent is decided at once, and leaves at once when its process
 * makes no calls (else after its hold, behind its children): its peer is not an address of this host
 * (`isLocalAddress`) nor one a local client span was seen calling from, or its
 * caller is quiet (a server span from that address to that port already found
 * no client span at the other end, and no client span ever called the port
 * from there: the peer is not watched, like a load generator; caller-watch.ts). Memory is bounded by
 * `maxSpans` held spans (the oldest is released early, counted as evicted) plus
 * the released ones kept for one more `holdMs` (without their Span) so that
 * late children can still find them.
 *
 *   const linker = new TraceLinker({ holdMs: 2000 });
 *   telemetry.onRequest((r) => linker.add(r));    // while the record is valid
 *   linker.onSpan(exporter.export);                // linked spans, with parentSpanId and shared trace ids
 *   setInterval(() => linker.tick(Date.now()), 100);
 *   linker.close();                                // releases everything held
 *
 * Pure: no timers and no I/O; the caller drives tick().
 */
import { CallerWatch } from './caller-watch.js';
import { normaliseAddress } from './host-addresses.js';
import type { SpanListener } from './request-listeners.js';
import type { RequestRecord } from './request-record.js';
import type { Span, SpanKind } from './span.js';

export interface TraceLinkerOptions {
  /** How long a span waits for its parent after it arrives (ms). Default 2000. */
  holdMs?: number;
  /** Spans held at once; past it the oldest is released early (counted). Default 20000. */
  maxSpans?: number;
  /** A span is released after this long even if an ancestor is still undecided (ms). Default 10000. */
  maxHoldMs?: number;
  /**
   * Whether an address belongs to this host (a server span whose peer is not
   * one, nor an address a local client span called from, is released at once).
   * Default: every address may be local (every server span is held).
   */
  isLocalAddress?: (address: string) => boolean;
  /**
   * Link a server span to the local client span at the other end of its
   * connection (default true). Off: only links inside a process (and headers).
   */
  connections?: boolean;
}

export const TRACE_LINKER_DEFAULTS = { holdMs: 2000, maxSpans: 20_000, maxHoldMs: 10_000 };

/** Why a span that may have a local parent was left a root. */
export type ParentUnknownReason =
  /** its thread had several requests in flight during the call (event loops under concurrency) */
  | 'concurrent_requests'
  /** several client spans on the connection overlap the server span (pipelining) */
  | 'ambiguous_connection'
  /** capture did not say which thread made the call */
  | 'no_thread'
  /** the thread had more server spans in the window than one look examines */
  | 'scan_limit'
  /** the parent's trace had already left with another id (held past maxHoldMs or evicted) */
  | 'conflict'
  /** requests of the process that may have been in flight were not indexed (its first calls, made before it was known to call out) */
  | 'not_indexed';

export const PARENT_UNKNOWN_REASONS: readonly ParentUnknownReason[] = ['concurrent_requests', 'ambiguous_connection', 'no_thread', 'scan_limit', 'conflict', 'not_indexed'];

/** How a parent was found: its thread's only request (a thread that never multiplexed, or one that does), or the other end of a local connection. */
export type LinkKind = 'thread' | 'event_loop' | 'connection';

export const LINK_KINDS: readonly LinkKind[] = ['thread', 'event_loop', 'connection'];

export interface TraceLinkerStats {
  /** Spans handed to add(). */
  spans: number;
  /** Spans released to the listeners. */
  released: number;
  /** Spans held now. */
  held: number;
  /** Spans released before their time because maxSpans were held. */
  evicted: number;
  /** Spans released at maxHoldMs with an ancestor still undecided. */
  holdExceeded: number;
  /**
   * Server spans decided on arrival: no local parent possible (remote peer or
   * quiet connection). A pure server's leave at once; a caller's wait their
   * hold so that their children leave first.
   */
  decidedOnArrival: number;
  /** Of those, lone roots no listener wanted (only the trace view listened): no Span was built. */
  loneUnbuilt: number;
  /** (port, caller address) pairs known to have no watched client (their server spans are decided on arrival). */
  quietCallers: number;
  /** Quiet callers from which a client span appeared after all (spans released before it may have missed it as parent). */
  quietCallersWoken: number;
  links: Record<LinkKind, number>;
  parentUnknown: Record<ParentUnknownReason, number>;
  /** Exceptions thrown by listeners (swallowed). */
  listenerErrors: number;
}

interface Entry {
  /** The span until it is released (then only its ids are kept, for late children). */
  span: Span | undefined;
  traceId: string;
  readonly spanId: string;
  readonly pid: number;
  /**
   * The thread (undefined without a tid). A tid names one thread host-wide while
   * it lives (the kernel's ids are the root namespace's), so it keys the index
   * alone as a small integer; pid is compared too.
   */
  readonly thread: number | undefined;
  readonly kind: SpanKind;
  /** Wall-clock ns (one clock for every protocol, so intervals compare). */
  readonly start: number;
  readonly end: number;
  /**
   * The connection as its client sees it, "local>remote" of the client's
   * "address port" ends (a server span holds its reversed ends), when both are known.
   */
  readonly connection: string | undefined;
  /** The other end's address (normalised) and this end's port, when known. */
  readonly peer: string | undefined;
  readonly localPort: number;
  readonly arrivedMs: number;
  /** The span continues a traceparent it arrived with. */
  readonly remoteParent: boolean;
  parent: Entry | undefined;
  decided: boolean;
  released: boolean;
  releasedMs: number;
  /** Root only: its trace id can no longer change (a span of the trace left, or a header gave it). */
  fixed: boolean;
  /** Dropped from the indexes. */
  expired: boolean;
  /** Indexed under its thread (server spans) or connection (client spans). */
  indexed: boolean;
}

/** Server spans one look at a thread examines at most. */
const MAX_SCAN = 4096;
/** Ancestors followed at most (a guard: real chains are short). */
const MAX_DEPTH = 64;
/** Known multiplexing threads remembered (only names the link kind). */
const MAX_MULTIPLEXED = 4096;
/** Quiet callers and local client addresses remembered. */
const MAX_CALLERS = 16_384;
const MAX_CLIENT_ADDRESSES = 1024;
/** Processes remembered as callers, and the unindexed ends of the others. */
const MAX_PROCESSES = 4096;

function isCaller(kind: SpanKind): boolean {
  return kind === 'client' || kind === 'producer';
}

function overlaps(a: Entry, b: Entry): boolean {
  return a.start <= b.end && b.start <= a.end;
}

export class TraceLinker {
  readonly #holdMs: number;
  readonly #maxSpans: number;
  readonly #maxHoldMs: number;
  readonly #isLocalAddress: (address: string) => boolean;
  readonly #connections: boolean;
  readonly #listeners: Array<{ listener: SpanListener; lone: boolean }> = [];
  /** Listeners that want lone roots too (kept as a count: read for every request). */
  #loneListeners = 0;
  /** Held spans not yet decided, in arrival order. */
  readonly #undecided = new Fifo<Entry>();
  /** Decided spans waiting for an ancestor to be decided, oldest first. */
  #waiting: Entry[] = [];
  /** Released spans still findable as parents, in release order. */
  readonly #recent = new Fifo<Entry>();
  /** thread → server spans of that thread (held and recent), by start time. */
  readonly #servers = new Map<number, ThreadSpans>();
  /** connection → client spans on it (held and recent). */
  readonly #clients = new Map<string, Entry[]>();
  /** Threads seen with overlapping server spans. */
  readonly #multiplexed = new Map<number, true>();
  /** Which callers of each local port are watched. */
  readonly #callerWatch = new CallerWatch(MAX_CALLERS);
  /** Processes that made calls: only their server spans are indexed as possible parents. */
  readonly #callers = new Map<number, true>();
  /** pid → the latest end of its server spans not indexed (a call that began before it cannot be linked safely). */
  readonly #unindexedEnd = new Map<number, number>();
  /** The latest end forgotten from #unindexedEnd (past its bound): holds for every process. */
  #unindexedFloor = -Infinity;
  /** Addresses local client spans called from (containers' addresses are not the host's). */
  readonly #clientAddresses = new Map<string, true>();
  #spans = 0;
  #released = 0;
  #evicted = 0;
  #holdExceeded = 0;
  #decidedOnArrival = 0;
  #loneUnbuilt = 0;
  #listenerErrors = 0;
  readonly #links: Record<LinkKind, number> = { thread: 0, event_loop: 0, connection: 0 };
  readonly #unknown: Record<ParentUnknownReason, number> = { concurrent_requests: 0, ambiguous_connection: 0, no_thread: 0, scan_limit: 0, conflict: 0, not_indexed: 0 };

  constructor(opts: TraceLinkerOptions = {}) {
    this.#holdMs = opts.holdMs ?? TRACE_LINKER_DEFAULTS.holdMs;
    this.#maxSpans = Math.max(1, opts.maxSpans ?? TRACE_LINKER_DEFAULTS.maxSpans);
    this.#maxHoldMs = Math.max(this.#holdMs, opts.maxHoldMs ?? TRACE_LINKER_DEFAULTS.maxHoldMs);
    this.#isLocalAddress = opts.isLocalAddress ?? (() => true);
    this.#connections = opts.connections ?? true;
  }

  /**
   * Subscribes to linked spans as they are released; returns the unsubscribe
   * function. `lone: false`: the listener ignores roots nothing was joined to
   * (the trace view); when every listener does, a pure server's request that
   * can have no local parent is counted and no Span is built for it.
   */
  onSpan(listener: SpanListener, opts: { lone?: boolean } = {}): () => void {
    const entry = { listener, lone: opts.lone !== false };
    this.#listeners.push(entry);
    if (entry.lone) this.#loneListeners++;
    return () => {
      const i = this.#listeners.indexOf(entry);
      if (i < 0) return;
      this.#listeners.splice(i, 1);
      if (entry.lone) this.#loneListeners--;
    };
  }

  /** Takes a record's span (built now: the record is valid only during its listeners) and holds it. */
  add(record: RequestRecord, nowMs: number = Date.now()): void {
    const origin = record.origin;
    this.#spans++;
    const kind = record.kind;
    const peerPort = record.peerPort;
    const peer = record.peerAddress === undefined || peerPort === undefined ? undefined : normaliseAddress(record.peerAddress);
    const local = origin === undefined ? undefined : normaliseAddress(origin.localAddress);
    const thread = origin === undefined ? undefined : origin.tid;
    const pid = record.service.pid;
    if (thread !== undefined && isCaller(kind)) remember(this.#callers, pid, MAX_PROCESSES);
    // A server span no watched local client can be the caller of is a root now.
    const decided = kind === 'server' && (!this.#connections || peer === undefined || local === undefined || !this.#mayHaveLocalCaller(peer, origin!.localPort));
    if (decided) this.#decidedOnArrival++;
    if (decided && !this.#callers.has(pid)) {
      // A pure server's request has no children here: it leaves now, unindexed.
      this.#noteUnindexed(pid, record.endTimeUnixNs);
      if (this.#loneListeners === 0 && !record.continuesTrace()) {
        this.#loneUnbuilt++;
        return;
      }
      const span = record.span();
      const entry = this.#entry(span, thread, undefined, peer, origin?.localPort ?? 0, nowMs);
      entry.decided = true;
      this.#release(entry, nowMs);
      return;
    }
    // Held: undecided, or (a caller's request decided now) findable by its thread's calls and
    // waiting its hold all the same, so that its children (held since they arrived before it)
    // leave first and consumers see a trace grow from its leaves.
    const span = record.span();
    let connection: string | undefined;
    if (!decided && this.#connections && local !== undefined && peer !== undefined) {
      connection = kind === 'server' ? `${peer} ${peerPort}>${local} ${origin!.localPort}` : `${local} ${origin!.localPort}>${peer} ${peerPort}`;
    }
    const entry = this.#entry(span, thread, connection, peer, origin?.localPort ?? 0, nowMs);
    entry.decided = decided;
    if (kind === 'server') {
      if (thread !== undefined) this.#indexServer(entry);
    } else if (isCaller(kind) && connection !== undefined) {
      entry.indexed = true;
      push(this.#clients, connection, entry);
      remember(this.#clientAddresses, local!, MAX_CLIENT_ADDRESSES);
      this.#callerWatch.noteClient(peerPort!, local!);
    }
    if (this.#undecided.length + this.#waiting.length >= this.#maxSpans) this.#evictOldest(nowMs);
    this.#undecided.push(entry);
  }

  #entry(span: Span, thread: number | undefined, connection: string | undefined, peer: string | undefined, localPort: number, nowMs: number): Entry {
    const remoteParent = span.parentSpanId !== undefined;
    return {
      span,
      traceId: span.traceId,
      spanId: span.spanId,
      pid: span.service.pid,
      thread,
      kind: span.kind,
      start: span.startTimeUnixNs,
      end: span.endTimeUnixNs,
      connection,
      peer,
      localPort,
      arrivedMs: nowMs,
      remoteParent,
      parent: undefined,
      decided: false,
      released: false,
      releasedMs: 0,
      // Ids that went out in a traceparent we wrote: another host already continues this trace.
      fixed: remoteParent || span.contextSent === true,
      expired: false,
      indexed: false,
    };
  }

  /** Decides the spans whose hold is over and releases those whose ancestors are all decided. */
  tick(nowMs: number = Date.now()): void {
    const ready: Entry[] = [];
    // Arrival order: the first still inside its hold ends the pass.
    while (this.#undecided.length > 0 && nowMs - this.#undecided.peek().arrivedMs >= this.#holdMs) {
      const e = this.#undecided.shift();
      this.#decide(e);
      ready.push(e);
    }
    const still: Entry[] = [];
    for (const list of [this.#waiting, ready]) {
      for (const e of list) {
        if (this.#ancestorsDecided(e)) this.#release(e, nowMs);
        else if (nowMs - e.arrivedMs >= this.#maxHoldMs) {
          this.#holdExceeded++;
          this.#release(e, nowMs);
        } else still.push(e);
      }
    }
    this.#waiting = still;
    this.#expire(nowMs);
  }

  /**
   * Nothing held, waiting or findable: tick() has nothing to do until the next
   * add() (a pure server's requests, decided on arrival, leave it idle).
   */
  get idle(): boolean {
    return this.#undecided.length === 0 && this.#waiting.length === 0 && this.#recent.length === 0;
  }

  /** Decides and releases everything held (the agent is stopping). */
  close(): void {
    const rest = this.#undecided.drain();
    for (const e of rest) this.#decide(e);
    const now = Date.now();
    for (const e of [...this.#waiting, ...rest]) this.#release(e, now);
    this.#waiting = [];
    this.#recent.drain();
    this.#servers.clear();
    this.#clients.clear();
  }

  stats(): TraceLinkerStats {
    return {
      spans: this.#spans,
      released: this.#released,
      held: this.#undecided.length + this.#waiting.length,
      evicted: this.#evicted,
      holdExceeded: this.#holdExceeded,
      decidedOnArrival: this.#decidedOnArrival,
      loneUnbuilt: this.#loneUnbuilt,
      quietCallers: this.#callerWatch.quietCount,
      quietCallersWoken: this.#callerWatch.woken,
      links: { ...this.#links },
      parentUnknown: { ...this.#unknown },
      listenerErrors: this.#listenerErrors,
    };
  }

  /** A server span's caller may be a watched local client: its peer may be this host, and is not known quiet. */
  #mayHaveLocalCaller(peer: string, localPort: number): boolean {
    if (this.#callerWatch.isQuiet(localPort, peer)) return false;
    return this.#isLocalAddress(peer) || this.#clientAddresses.has(peer);
  }

  /**
   * Indexes a server span under its thread as a possible parent, if its process
   * makes calls; a pure server's requests are only noted by their latest end, so
   * that its first calls (which make it a caller) are not linked against an
   * index missing requests that were in flight.
   */
  #indexServer(e: Entry): void {
    if (!this.#callers.has(e.pid)) return this.#noteUnindexed(e.pid, e.end);
    const key = e.thread!;
    let spans = this.#servers.get(key);
    if (spans === undefined) {
      spans = new ThreadSpans();
      this.#servers.set(key, spans);
    } else if (!this.#multiplexed.has(key)) {
      // (Only names the link kind: the parent rule is the same for every thread.)
      // Two requests in flight at once on one thread: it multiplexes (an event loop).
      const list = spans.entries;
      for (let i = list.length - 1, n = 0; i >= 0 && n < 64; i--, n++) {
        if (!list[i]!.expired && list[i]!.pid === e.pid && overlaps(list[i]!, e)) {
          remember(this.#multiplexed, key, MAX_MULTIPLEXED);
          break;
        }
      }
    }
    e.indexed = true;
    spans.insert(e);
  }

  #noteUnindexed(pid: number, end: number): void {
    const last = this.#unindexedEnd.get(pid);
    if (last === undefined && this.#unindexedEnd.size >= MAX_PROCESSES) {
      const [oldPid, oldEnd] = this.#unindexedEnd.entries().next().value!;
      this.#unindexedEnd.delete(oldPid);
      if (oldEnd > this.#unindexedFloor) this.#unindexedFloor = oldEnd;
    }
    if (last === undefined || end > last) this.#unindexedEnd.set(pid, end);
  }

  #decide(e: Entry): void {
    e.decided = true;
    if (isCaller(e.kind) && !e.remoteParent) this.#parentInProcess(e);
    else if (e.kind === 'server') this.#parentAcrossConnection(e);
  }

  /**
   * The one server span of the caller's thread that was in flight when the call
   * began (its request read, its response not yet written). A request read after
   * the call began cannot have caused it, so it does not count; two in flight
   * and the owner cannot be told.
   */
  #parentInProcess(e: Entry): void {
    if (e.thread === undefined) {
      this.#unknown.no_thread++;
      return;
    }
    if (e.start <= Math.max(this.#unindexedEnd.get(e.pid) ?? -Infinity, this.#unindexedFloor)) {
      this.#unknown.not_indexed++;
      return;
    }
    const spans = this.#servers.get(e.thread);
    if (spans === undefined) return;
    const list = spans.entries;
    let parent: Entry | undefined;
    let inFlight = 0;
    let examined = 0;
    // Back from the last request read before the call began; one read longer ago than the
    // thread's longest request had ended by then.
    for (let i = spans.lastStartedBy(e.start); i >= 0; i--) {
      const s = list[i]!;
      if (s.start < e.start - spans.maxDuration) break;
      if (++examined > MAX_SCAN) {
        this.#unknown.scan_limit++;
        return;
      }
      if (s.expired || s === e || e.start > s.end || s.pid !== e.pid) continue;
      parent = s;
      if (++inFlight > 1) break;
    }
    if (inFlight === 0) return; // made outside any request we saw: a root
    if (inFlight > 1) {
      this.#unknown.concurrent_requests++;
      return;
    }
    this.#link(e, parent!, this.#multiplexed.has(e.thread) ? 'event_loop' : 'thread');
  }

  /** The client span at the other end of the server span's connection, overlapping it. */
  #parentAcrossConnection(e: Entry): void {
    if (e.connection === undefined) return;
    const list = this.#clients.get(e.connection);
    if (list === undefined) {
      // No client span on this connection in the whole window: its caller is not watched.
      this.#callerWatch.noteQuiet(e.localPort, e.peer!);
      return;
    }
    let found: Entry | undefined;
    for (const c of list) {
      if (c.expired || c === e || !overlaps(c, e)) continue;
      if (found !== undefined) {
        this.#unknown.ambiguous_connection++;
        return;
      }
      found = c;
    }
    if (found === undefined) return;
    // A header wins unless both ends read the same one.
    if (e.remoteParent && found.traceId !== e.traceId) return;
    this.#link(e, found, 'connection');
  }

  #link(child: Entry, parent: Entry, kind: LinkKind): void {
    let root = parent;
    for (let depth = 0; ; depth++) {
      if (root === child || depth > MAX_DEPTH) {
        this.#unknown.conflict++;
        return;
      }
      if (root.parent === undefined) break;
      root = root.parent;
    }
    // child is a root (it had no parent): its id and its fixedness move to the joined root.
    if (child.fixed) {
      if (root.fixed && root.traceId !== child.traceId) {
        this.#unknown.conflict++;
        return;
      }
      root.traceId = child.traceId;
      root.fixed = true;
    }
    child.parent = parent;
    child.span!.parentSpanId = parent.spanId;
    this.#links[kind]++;
  }

  #ancestorsDecided(e: Entry): boolean {
    let p = e.parent;
    for (let depth = 0; p !== undefined && depth <= MAX_DEPTH; depth++) {
      if (!p.decided) return false;
      p = p.parent;
    }
    return true;
  }

  #rootOf(e: Entry): Entry {
    let r = e;
    for (let depth = 0; r.parent !== undefined && depth <= MAX_DEPTH; depth++) r = r.parent;
    return r;
  }

  #release(e: Entry, nowMs: number): void {
    const root = this.#rootOf(e);
    root.fixed = true;
    e.traceId = root.traceId;
    const span = e.span!;
    span.traceId = e.traceId;
    // Only the ids stay for late children: the span belongs to the listeners now.
    e.span = undefined;
    e.released = true;
    e.releasedMs = nowMs;
    if (e.indexed) this.#recent.push(e);
    this.#released++;
    for (const l of this.#listeners) {
      try {
        l.listener(span);
      } catch {
        this.#listenerErrors++;
      }
    }
  }

  #evictOldest(nowMs: number): void {
    // The decided ones waiting for an ancestor are older than any undecided one.
    const e = this.#waiting.length > 0 ? this.#waiting.shift()! : this.#undecided.shift();
    if (!e.decided) this.#decide(e);
    this.#evicted++;
    this.#release(e, nowMs);
  }

  /** Released spans older than holdMs (or past maxSpans of them) leave the indexes. */
  #expire(nowMs: number): void {
    const recent = this.#recent;
    const dirtyServers = new Set<number>();
    const dirtyClients = new Set<string>();
    while (recent.length > 0 && (nowMs - recent.peek().releasedMs >= this.#holdMs || recent.length > this.#maxSpans)) {
      const e = recent.shift();
      e.expired = true;
      e.parent = undefined; // nothing may walk through it any more: let it be collected
      if (e.kind === 'server') {
        const spans = this.#servers.get(e.thread!);
        if (spans !== undefined) spans.expired++;
        dirtyServers.add(e.thread!);
      }
      else dirtyClients.add(e.connection!);
    }
    for (const key of dirtyServers) if (this.#servers.get(key)?.compact() === 0) this.#servers.delete(key);
    compact(this.#clients, dirtyClients);
  }
}

/** One thread's server spans, sorted by start, and the longest of them (bounds a look back). */
class ThreadSpans {
  entries: Entry[] = [];
  maxDuration = 0;

  /** Inserts by start time: spans arrive about in end order, so a short way from the back. */
  insert(e: Entry): void {
    const list = this.entries;
    let i = list.length;
    while (i > 0 && list[i - 1]!.start > e.start) i--;
    if (i === list.length) list.push(e);
    else list.splice(i, 0, e);
    if (e.end - e.start > this.maxDuration) this.maxDuration = e.end - e.start;
  }

  /** Index of the last span that started at or before t (-1: none). */
  lastStartedBy(t: number): number {
    const list = this.entries;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.start <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Spans in entries that have expired (lookups skip them). */
  expired = 0;

  /**
   * Drops the expired spans once they are half the list (amortised: each span is
   * copied a bounded number of times) and recomputes the longest; returns how many are left.
   */
  compact(): number {
    if (this.expired * 2 < this.entries.length) return this.entries.length;
    const kept = this.entries.filter((e) => !e.expired);
    this.expired = 0;
    let max = 0;
    for (const e of kept) if (e.end - e.start > max) max = e.end - e.start;
    this.entries = kept;
    this.maxDuration = max;
    return kept.length;
  }
}

/** A queue with O(1) shift (an array and a head index, compacted as it drains). */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest item; only when length > 0. */
  peek(): T {
    return this.#items[this.#head]!;
  }

  /** Removes and returns the oldest item; only when length > 0. */
  shift(): T {
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as T;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return all;
  }
}

function push<K>(index: Map<K, Entry[]>, key: K, e: Entry): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [e]);
  else list.push(e);
}

/** Adds a key to a bounded set kept as a Map (insertion order: the oldest is forgotten first). */
function remember<K>(set: Map<K, true>, key: K, max: number): void {
  if (set.has(key)) return;
  if (set.size >= max) set.delete(set.keys().next().value as K);
  set.set(key, true);
}

/**
 * Drops the expired entries at the front of each touched list. Lists are in
 * arrival order and entries expire roughly in it, so that is where they are;
 * one expired later in a list is skipped by lookups until it reaches the front.
 */
function compact<K>(index: Map<K, Entry[]>, keys: Set<K>): void {
  for (const key of keys) {
    const list = index.get(key);
    if (list === undefined) continue;
    let n = 0;
    while (n < list.length && list[n]!.expired) n++;
    if (n === list.length) index.delete(key);
    else if (n > 0) list.splice(0, n);
  }
}
