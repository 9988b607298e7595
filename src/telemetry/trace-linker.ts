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
 * Children usually finish before their parents, so every span is held for
 * `holdMs` after it arrives before its parent is looked for, and released once
 * its whole chain of ancestors has been decided (or after `maxHoldMs`): then its
 * trace id is its root's. Memory is bounded by `maxSpans` held spans (the
 * oldest is released early, counted as evicted) plus the released ones kept
 * for one more `holdMs` so that late children can still find them.
 *
 *   const linker = new TraceLinker({ holdMs: 2000 });
 *   telemetry.onRequest((r) => linker.add(r));    // while the record is valid
 *   linker.onSpan(exporter.export);                // linked spans, with parentSpanId and shared trace ids
 *   setInterval(() => linker.tick(Date.now()), 100);
 *   linker.close();                                // releases everything held
 *
 * Pure: no timers and no I/O; the caller drives tick().
 */
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
  | 'conflict';

export const PARENT_UNKNOWN_REASONS: readonly ParentUnknownReason[] = ['concurrent_requests', 'ambiguous_connection', 'no_thread', 'scan_limit', 'conflict'];

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
  links: Record<LinkKind, number>;
  parentUnknown: Record<ParentUnknownReason, number>;
  /** Exceptions thrown by listeners (swallowed). */
  listenerErrors: number;
}

interface Entry {
  readonly span: Span;
  readonly pid: number;
  readonly tid: number | undefined;
  readonly kind: SpanKind;
  /** Wall-clock ns (one clock for every protocol, so intervals compare). */
  readonly start: number;
  readonly end: number;
  /** "address port" of this end and of the other end, when known. */
  readonly local: string | undefined;
  readonly remote: string | undefined;
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
  /** Its key in the server or client index, if it is in one. */
  indexKey: string | undefined;
}

/** A span arrives within this long of its end (the capture drains every 200 ms): bounds a look back. */
const ARRIVAL_SLACK_NS = 10e9;
/** Server spans one look at a thread examines at most. */
const MAX_SCAN = 4096;
/** Ancestors followed at most (a guard: real chains are short). */
const MAX_DEPTH = 64;
/** Known multiplexing threads remembered (only names the link kind). */
const MAX_MULTIPLEXED = 4096;

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
  readonly #listeners: SpanListener[] = [];
  /** Held spans not yet decided, in arrival order. */
  readonly #undecided = new Fifo<Entry>();
  /** Decided spans waiting for an ancestor to be decided, oldest first. */
  #waiting: Entry[] = [];
  /** Released spans still findable as parents, in release order. */
  readonly #recent = new Fifo<Entry>();
  /** "pid tid" → server spans of that thread (held and recent), in arrival order. */
  readonly #servers = new Map<string, Entry[]>();
  /** "local>remote" → client spans on that connection (held and recent). */
  readonly #clients = new Map<string, Entry[]>();
  /** "pid tid" of threads seen with overlapping server spans. */
  readonly #multiplexed = new Map<string, true>();
  #spans = 0;
  #released = 0;
  #evicted = 0;
  #holdExceeded = 0;
  #listenerErrors = 0;
  readonly #links: Record<LinkKind, number> = { thread: 0, event_loop: 0, connection: 0 };
  readonly #unknown: Record<ParentUnknownReason, number> = { concurrent_requests: 0, ambiguous_connection: 0, no_thread: 0, scan_limit: 0, conflict: 0 };

  constructor(opts: TraceLinkerOptions = {}) {
    this.#holdMs = opts.holdMs ?? TRACE_LINKER_DEFAULTS.holdMs;
    this.#maxSpans = Math.max(1, opts.maxSpans ?? TRACE_LINKER_DEFAULTS.maxSpans);
    this.#maxHoldMs = Math.max(this.#holdMs, opts.maxHoldMs ?? TRACE_LINKER_DEFAULTS.maxHoldMs);
  }

  /** Subscribes to linked spans as they are released; returns the unsubscribe function. */
  onSpan(listener: SpanListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Takes a record's span (built now: the record is valid only during its listeners) and holds it. */
  add(record: RequestRecord, nowMs: number = Date.now()): void {
    const span = record.span();
    const origin = record.origin;
    this.#spans++;
    if (this.#undecided.length + this.#waiting.length >= this.#maxSpans) this.#evictOldest(nowMs);
    const remoteParent = span.parentSpanId !== undefined;
    const entry: Entry = {
      span,
      pid: span.service.pid,
      tid: origin?.tid,
      kind: span.kind,
      start: span.startTimeUnixNs,
      end: span.endTimeUnixNs,
      local: origin === undefined ? undefined : endpointKey(origin.localAddress, origin.localPort),
      remote: record.peerAddress === undefined || record.peerPort === undefined ? undefined : endpointKey(record.peerAddress, record.peerPort),
      arrivedMs: nowMs,
      remoteParent,
      parent: undefined,
      decided: false,
      released: false,
      releasedMs: 0,
      fixed: remoteParent,
      expired: false,
      indexKey: undefined,
    };
    this.#undecided.push(entry);
    if (entry.kind === 'server') {
      if (entry.tid !== undefined) this.#indexServer(entry);
    } else if (isCaller(entry.kind) && entry.local !== undefined && entry.remote !== undefined) {
      entry.indexKey = `${entry.local}>${entry.remote}`;
      push(this.#clients, entry.indexKey, entry);
    }
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
      links: { ...this.#links },
      parentUnknown: { ...this.#unknown },
      listenerErrors: this.#listenerErrors,
    };
  }

  #indexServer(e: Entry): void {
    const key = `${e.pid} ${e.tid}`;
    const list = this.#servers.get(key);
    if (list !== undefined && !this.#multiplexed.has(key)) {
      // (Only names the link kind: the parent rule is the same for every thread.)
      // Two requests in flight at once on one thread: it multiplexes (an event loop).
      for (let i = list.length - 1, n = 0; i >= 0 && n < 64; i--, n++) {
        if (!list[i]!.expired && overlaps(list[i]!, e)) {
          if (this.#multiplexed.size >= MAX_MULTIPLEXED) this.#multiplexed.delete(this.#multiplexed.keys().next().value!);
          this.#multiplexed.set(key, true);
          break;
        }
      }
    }
    e.indexKey = key;
    push(this.#servers, key, e);
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
    if (e.tid === undefined) {
      this.#unknown.no_thread++;
      return;
    }
    const key = `${e.pid} ${e.tid}`;
    const list = this.#servers.get(key);
    if (list === undefined) return;
    let parent: Entry | undefined;
    let inFlight = 0;
    let examined = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const s = list[i]!;
      // Arrival order follows end order within the capture's drain latency: far older ones all ended before the call.
      if (s.end < e.start - ARRIVAL_SLACK_NS) break;
      if (++examined > MAX_SCAN) {
        this.#unknown.scan_limit++;
        return;
      }
      if (s.expired || s === e || !(s.start <= e.start && e.start <= s.end)) continue;
      parent = s;
      if (++inFlight > 1) break;
    }
    if (inFlight === 0) return; // made outside any request we saw: a root
    if (inFlight > 1) {
      this.#unknown.concurrent_requests++;
      return;
    }
    this.#link(e, parent!, this.#multiplexed.has(key) ? 'event_loop' : 'thread');
  }

  /** The client span at the other end of the server span's connection, overlapping it. */
  #parentAcrossConnection(e: Entry): void {
    if (e.local === undefined || e.remote === undefined) return;
    const list = this.#clients.get(`${e.remote}>${e.local}`);
    if (list === undefined) return;
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
    if (e.remoteParent && found.span.traceId !== e.span.traceId) return;
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
      if (root.fixed && root.span.traceId !== child.span.traceId) {
        this.#unknown.conflict++;
        return;
      }
      root.span.traceId = child.span.traceId;
      root.fixed = true;
    }
    child.parent = parent;
    child.span.parentSpanId = parent.span.spanId;
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
    e.span.traceId = root.span.traceId;
    root.fixed = true;
    e.released = true;
    e.releasedMs = nowMs;
    this.#recent.push(e);
    this.#released++;
    for (const l of this.#listeners) {
      try {
        l(e.span);
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
    const dirtyServers = new Set<string>();
    const dirtyClients = new Set<string>();
    while (recent.length > 0 && (nowMs - recent.peek().releasedMs >= this.#holdMs || recent.length > this.#maxSpans)) {
      const e = recent.shift();
      e.expired = true;
      e.parent = undefined; // nothing may walk through it any more: let it be collected
      if (e.indexKey !== undefined) (e.kind === 'server' ? dirtyServers : dirtyClients).add(e.indexKey);
    }
    compact(this.#servers, dirtyServers);
    compact(this.#clients, dirtyClients);
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

/** "address port", an IPv4-mapped IPv6 address as its IPv4 (a dual-stack listener sees ::ffff:127.0.0.1 where the client sees 127.0.0.1). */
function endpointKey(address: string, port: number): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return `${a} ${port}`;
}

function push(index: Map<string, Entry[]>, key: string, e: Entry): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [e]);
  else list.push(e);
}

/**
 * Drops the expired entries at the front of each touched list. Lists are in
 * arrival order and entries expire roughly in it, so that is where they are;
 * one expired later in a list is skipped by lookups until it reaches the front.
 */
function compact(index: Map<string, Entry[]>, keys: Set<string>): void {
  for (const key of keys) {
    const list = index.get(key);
    if (list === undefined) continue;
    let n = 0;
    while (n < list.length && list[n]!.expired) n++;
    if (n === list.length) index.delete(key);
    else if (n > 0) list.splice(0, n);
  }
}
