// TraceparentInjector: loads bpf/capture/traceparent.bpf.c, which writes a W3C
// traceparent into the outgoing plaintext HTTP/1 requests of watched processes
// (sockops keeps the host's outgoing connections in a sockhash; sk_msg rewrites
// their sends), and hands each client exchange the ids written into it, so that
// its CLIENT span takes them and the remote SERVER span, which reads the
// header, becomes its child.
//
// Matching: the kernel reports (pid, local port, remote port, time, ids) for
// each header it writes, during the request's first send; the capture reports
// the exchange when its response ends, with the request's start taken at the
// return of that same send. A connection carries one request at a time, so the
// ids of an exchange are the latest written on its connection at or before its
// start (and not longer than MAX_SEND_NS before it).
import { type BpfMap, type Collection, type Link, ObjectSpec, type RingBufferReader, offsetOf } from '../ebpf/index.js';
import { bpfObjectPath } from '../paths.js';
import { sumPerCpu } from './capture-stats.js';
import type { CarriedContext, Exchange } from './exchange.js';

export const INJECT_OBJECT = 'capture/traceparent';

/** The ids written longer than this before an exchange's start are not its (a send does not take this long to return). */
const MAX_SEND_NS = 1_000_000_000;
/** Headers written and not yet claimed, per connection and in all. */
const MAX_PER_CONNECTION = 16;
const MAX_CONNECTIONS = 8192;
/**
 * The kernel submits without waking the reader (a wakeup per request cost more
 * than the rest of its program): records are read before each batch of
 * exchanges is handed over (readWritten), and on this timer, so the ring
 * buffer never fills while no exchange comes.
 */
const FLUSH_MS = 100;
/** Unclaimed ids older than this are dropped (their exchange will not come). */
const UNCLAIMED_TTL_NS = 60_000_000_000;

// enum inject_counter in bpf/capture/traceparent.bpf.c
const INJ = { tracked: 0, trackFailed: 1, sends: 2, injected: 3, hadHeader: 4, notRequest: 5, headersUnseen: 6, noRoom: 7, failed: 8 } as const;
const INJ_COUNTERS = 9;

export interface TraceparentInjectorStats {
  /** Outgoing connections put in the sockhash (their sends are looked at). */
  connectionsTracked: number;
  /** Connections not tracked: the sockhash was full. */
  connectionsUntracked: number;
  /** Sends of watched processes looked at. */
  sends: number;
  /** Headers written. */
  injected: number;
  /** Requests that already carried a traceparent: left as they were. */
  alreadyPresent: number;
  /** Sends that did not start an HTTP/1 request (bodies, other protocols, TLS). */
  notRequest: number;
  /** Requests whose header block did not end within the first 1 KiB of their send (long headers, or headers split over several sends): not written. */
  headersUnseen: number;
  /** Requests not written because the ring buffer to user space was full. */
  ringFull: number;
  /** Requests the kernel could not insert into (msg_push_data/pull_data failed): not written. */
  failed: number;
  /** Client exchanges that took the ids written into their request. */
  matched: number;
  /** Ids written whose exchange never came (lost, or not HTTP after all), dropped. */
  unclaimed: number;
}

interface Written {
  tsNs: number;
  traceId: string;
  spanId: string;
}

const FIELDS = ['ts_ns', 'pid', 'lport', 'rport', 'trace_id', 'span_id'] as const;

export class TraceparentInjector {
  private readonly counters: BpfMap<number, number[]>;
  private readonly reader: RingBufferReader;
  private readonly written = new Map<string, Written[]>();
  private readonly at: Record<(typeof FIELDS)[number], number>;
  private matched = 0;
  private unclaimed = 0;
  private lastSweepNs = 0;
  private closed = false;
  private readonly flushTimer: NodeJS.Timeout;

  private constructor(
    private readonly coll: Collection,
    private readonly links: Link[],
  ) {
    this.counters = coll.map<number, number[]>('inject_counters');
    const btf = coll.spec.btf!;
    this.at = Object.fromEntries(FIELDS.map((f) => [f, offsetOf(btf, 'carried_event', f)])) as TraceparentInjector['at'];
    this.reader = coll.ringBuffer('carried', (batch) => batch.forEach((buf, off) => this.note(buf, off)));
    this.flushTimer = setInterval(() => this.readWritten(), FLUSH_MS);
    this.flushTimer.unref();
  }

  /**
   * Loads the programs with capture's pid sets (`watched`, `excluded`) and
   * attaches them: sockops on the root cgroup v2, sk_msg on the sockhash.
   * Writes for watched processes only until setAll(true). Throws the kernel's
   * refusal (e.g. CAP_NET_ADMIN missing, no cgroup v2).
   */
  static start(pidSets: { watched: BpfMap<number, number>; excluded: BpfMap<number, number> }): TraceparentInjector {
    const spec = ObjectSpec.open(bpfObjectPath(INJECT_OBJECT));
    let coll: Collection;
    try {
      spec.map('watched').reuse(pidSets.watched);
      spec.map('excluded').reuse(pidSets.excluded);
      coll = spec.load();
    } catch (e) {
      spec.close();
      throw e;
    }
    const links: Link[] = [];
    try {
      // The sk_msg program first: a connection sockops adds is rewritten from its first send.
      links.push(coll.program('inject_traceparent').attachSockMap(coll.map('outgoing')));
      links.push(coll.program('inject_track').attachCgroup());
      return new TraceparentInjector(coll, links);
    } catch (e) {
      for (const l of links) l.close();
      coll.close();
      throw e;
    }
  }

  /** Every process but the excluded ones (capture's watch-all mode), or only the watched ones. */
  setAll(all: boolean): void {
    if (!this.closed) this.coll.setVariable('inject_all', all ? 1 : 0);
  }

  /**
   * Reads what the kernel reported so far. Headers are written during their
   * request's send, before its exchange can end: call this before handing
   * over a batch of exchanges (and take() finds every id written before them).
   */
  readWritten(): void {
    if (!this.closed) this.reader.consume();
  }

  /** The ids written into this client exchange's request, if the kernel wrote any. */
  take(ex: Exchange): CarriedContext | undefined {
    if (this.closed) return undefined;
    const key = connectionKey(ex.pid, ex.local.port, ex.remote.port);
    const list = this.written.get(key);
    if (list === undefined) return undefined;
    const start = ex.requestStartNs;
    let chosen = -1;
    for (let i = 0; i < list.length && list[i]!.tsNs <= start; i++) chosen = i;
    if (chosen < 0) return undefined;
    const w = list[chosen]!;
    // Older ones belonged to exchanges that never came.
    this.unclaimed += chosen;
    list.splice(0, chosen + 1);
    if (list.length === 0) this.written.delete(key);
    if (start - w.tsNs > MAX_SEND_NS) {
      this.unclaimed++;
      return undefined;
    }
    this.matched++;
    return { traceId: w.traceId, spanId: w.spanId };
  }

  stats(): TraceparentInjectorStats {
    const c = this.closed ? new Array<number>(INJ_COUNTERS).fill(0) : this.readCounters();
    return {
      connectionsTracked: c[INJ.tracked]!,
      connectionsUntracked: c[INJ.trackFailed]!,
      sends: c[INJ.sends]!,
      injected: c[INJ.injected]!,
      alreadyPresent: c[INJ.hadHeader]!,
      notRequest: c[INJ.notRequest]!,
      headersUnseen: c[INJ.headersUnseen]!,
      ringFull: c[INJ.noRoom]!,
      failed: c[INJ.failed]!,
      matched: this.matched,
      unclaimed: this.unclaimed,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    this.reader.close();
    for (const l of this.links) l.close();
    this.coll.close();
    this.written.clear();
  }

  private readCounters(): number[] {
    const out: number[] = [];
    for (let i = 0; i < INJ_COUNTERS; i++) out.push(sumPerCpu(this.counters.lookup(i)));
    return out;
  }

  private note(buf: Buffer, off: number): void {
    const a = this.at;
    const tsNs = Number(buf.readBigUInt64LE(off + a.ts_ns));
    const key = connectionKey(buf.readUInt32LE(off + a.pid), buf.readUInt16LE(off + a.lport), buf.readUInt16LE(off + a.rport));
    const w: Written = {
      tsNs,
      traceId: buf.toString('hex', off + a.trace_id, off + a.trace_id + 16),
      spanId: buf.toString('hex', off + a.span_id, off + a.span_id + 8),
    };
    let list = this.written.get(key);
    if (list === undefined) {
      if (this.written.size >= MAX_CONNECTIONS) this.dropOldestConnection();
      list = [];
      this.written.set(key, list);
    }
    if (list.length >= MAX_PER_CONNECTION) {
      list.shift();
      this.unclaimed++;
    }
    list.push(w);
    if (tsNs - this.lastSweepNs > UNCLAIMED_TTL_NS / 4) this.sweep(tsNs);
  }

  private dropOldestConnection(): void {
    const [key, list] = this.written.entries().next().value as [string, Written[]];
    this.unclaimed += list.length;
    this.written.delete(key);
  }

  /** Drops ids unclaimed for UNCLAIMED_TTL_NS (their exchange was lost or was not HTTP after all). */
  private sweep(nowNs: number): void {
    this.lastSweepNs = nowNs;
    for (const [key, list] of this.written) {
      let n = 0;
      while (n < list.length && nowNs - list[n]!.tsNs > UNCLAIMED_TTL_NS) n++;
      if (n === 0) continue;
      this.unclaimed += n;
      if (n === list.length) this.written.delete(key);
      else list.splice(0, n);
    }
  }
}

function connectionKey(pid: number, localPort: number, remotePort: number): string {
  return `${pid} ${localPort} ${remotePort}`;
}
