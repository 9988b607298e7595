// SocketCapture: loads bpf/capture/socket_capture.bpf.c, keeps its pid filter,
// and turns its ring-buffer records into Exchanges.
//
//   const capture = await SocketCapture.start({ onExchange: (ex) => … });
//   capture.watch(pid);             // and the children it forks from now on
//   capture.watchAllExcept([pid]);  // or: everything but these (never the agent itself)
//   capture.stats();
//   capture.close();
import { type BpfMap, type Collection, ObjectSpec, type RingBufferReader, WaggleError, loadFirst } from '../ebpf/index.js';
import { bpfObjectPath } from '../paths.js';
import { COUNTER, type CaptureStats, sumPerCpu } from './capture-stats.js';
import type { Exchange } from './exchange.js';
import type { StreamChunk, StreamEnd } from './stream.js';
import { ExchangeDecoder, reusableExchange } from './exchange-record.js';
import { isLegacySweep, legacySweep } from './legacy-sweep.js';
import { StreamDecoder, reusableStreamRecords } from './stream-record.js';
import { type ResolvedCaptureOptions, type SocketCaptureOptions, resolveCaptureOptions } from './options.js';

export const CAPTURE_OBJECT = 'capture/socket_capture';
/** The same programs reading kernel structs through the bpf_rdonly_cast kfunc (6.2+): cheaper, tried first. */
export const CAPTURE_OBJECT_KFUNC = 'capture/socket_capture_kfunc';
/**
 * The legacy build for 5.10–5.16 (no bpf_loop, no callbacks, no global functions
 * with pointer arguments; see bpf/include/waggle/legacy.h), tried last.
 */
export const CAPTURE_OBJECT_LEGACY = 'capture/socket_capture_legacy';
/** Run on demand (BPF_PROG_TEST_RUN), never attached. */
const SWEEP_PROGRAM = 'cap_sweep';
const WATCHED_BY_USER = 1;

function checkPid(pid: number, what: string): void {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0x3fffffff) {
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `${what}: pid must be a positive integer, got ${String(pid)}`);
  }
}

export class SocketCapture {
  private readonly watched: BpfMap<number, number>;
  private readonly excluded: BpfMap<number, number>;
  private readonly counters: BpfMap<number, number[]>;
  private readonly reader: RingBufferReader;
  /** The stream capture's reader and decoder, when onStreamChunk was given. */
  private readonly streams: { reader: RingBufferReader; decoder: StreamDecoder; verdicts: BpfMap<Uint8Array, Uint8Array> } | undefined;
  private streamDelivered = 0;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private readonly flushTimer: NodeJS.Timeout;
  private delivered = 0;
  private decodeErrors = 0;
  private callbackErrors = 0;
  private closed = false;

  private constructor(
    private readonly coll: Collection,
    private readonly onExchange: SocketCaptureOptions['onExchange'],
    private readonly onError: (error: unknown) => void,
    stream: Pick<SocketCaptureOptions, 'onStreamChunk' | 'onStreamEnd'>,
    readonly options: ResolvedCaptureOptions,
    /** The object that loaded: CAPTURE_OBJECT_KFUNC, CAPTURE_OBJECT where the kernel lacks the kfunc, CAPTURE_OBJECT_LEGACY before 5.17. */
    readonly object: string,
  ) {
    this.watched = coll.map<number, number>('watched');
    this.excluded = coll.map<number, number>('excluded');
    this.counters = coll.map<number, number[]>('capture_counters');
    const decoder = new ExchangeDecoder(coll.spec.btf!);
    const deliver = (ex: Exchange) => {
      this.delivered++;
      try {
        this.onExchange(ex);
      } catch (e) {
        this.callbackErrors++;
        this.onError(e);
      }
    };
    const undecoded = (reason: string) => {
      this.decodeErrors++;
      this.onError(new WaggleError('WAGGLE_ERR_KERNEL', `capture record not decoded: ${reason}`));
    };
    const reused = options.reuseExchange ? reusableExchange() : undefined;
    this.reader = coll.ringBuffer(
      'exchanges',
      reused
        ? (batch) =>
            batch.forEach((buf, off, len) => {
              const reason = decoder.decodeInto(buf, off, len, reused);
              if (reason === undefined) deliver(reused);
              else undecoded(reason);
            })
        : (batch) =>
            batch.forEach((buf, off, len) => {
              const ex = decoder.decode(buf, off, len);
              if (typeof ex === 'string') undecoded(ex);
              else deliver(ex);
            }),
      { onError: (e) => this.onError(e) },
    );
    this.streams = stream.onStreamChunk ? this.startStreams(stream.onStreamChunk, stream.onStreamEnd, undecoded) : undefined;
    // The agent never captures itself.
    this.excluded.update(process.pid, WATCHED_BY_USER);
    // Records below the kernel's wakeup threshold are read on this timer.
    this.flushTimer = setInterval(() => {
      if (this.closed) return;
      this.reader.consume();
      this.streams?.reader.consume();
    }, options.flushIntervalMs);
    this.flushTimer.unref();
    if (options.sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  /** Loads and attaches the capture programs. Nothing is captured until watch() or watchAllExcept(). */
  static async start(opts: SocketCaptureOptions): Promise<SocketCapture> {
    const options = resolveCaptureOptions(opts);
    const { coll, object } = loadCapture(options);
    try {
      for (const p of coll.spec.programs.values()) {
        if (p.name !== SWEEP_PROGRAM) coll.program(p.name).attach();
      }
      const onError = opts.onError ?? ((e: unknown) => process.emitWarning(`socket capture: ${String(e)}`));
      return new SocketCapture(coll, opts.onExchange, onError, opts, options, object);
    } catch (e) {
      coll.close();
      throw e;
    }
  }

  private startStreams(onChunk: (c: StreamChunk) => void, onEnd: ((e: StreamEnd) => void) | undefined, undecoded: (reason: string) => void) {
    const decoder = new StreamDecoder(this.coll.spec.btf!);
    const { chunk, end } = reusableStreamRecords();
    const reader = this.coll.ringBuffer(
      'stream_chunks',
      (batch) =>
        batch.forEach((buf, off, len) => {
          const what = decoder.decodeInto(buf, off, len, chunk, end);
          if (what !== 'chunk' && what !== 'end') return undecoded(what);
          this.streamDelivered++;
          try {
            if (what === 'chunk') onChunk(chunk);
            else onEnd?.(end);
          } catch (e) {
            this.callbackErrors++;
            this.onError(e);
          }
        }),
      { onError: (e) => this.onError(e) },
    );
    return { reader, decoder, verdicts: this.coll.map('stream_verdicts').raw() };
  }

  /**
   * Tells the kernel what to do with a streamed connection: keep streaming it
   * (a protocol module claimed it) or ignore it (no module knows it: then only
   * HTTP/1's fast path may still claim it). Until told, the kernel sends a
   * connection's first 2048 chunks and then skips (and counts) the rest.
   */
  setStreamVerdict(socketInode: number, verdict: 'stream' | 'ignore'): void {
    const key = this.streams?.decoder.keyOf(socketInode);
    if (!key || this.closed) return;
    this.streams!.verdicts.update(key, Uint8Array.of(verdict === 'stream' ? 1 : 2));
  }

  /** Captures this process's TCP exchanges, and those of the children it forks from now on. */
  watch(pid: number): void {
    checkPid(pid, 'watch');
    if (pid === process.pid) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `watch: pid ${pid} is the agent itself, which is never captured`);
    this.watched.update(pid, WATCHED_BY_USER);
  }

  /** Stops capturing this process (its children stay watched until they exit or are unwatched). */
  unwatch(pid: number): void {
    checkPid(pid, 'unwatch');
    this.watched.delete(pid);
  }

  /** Captures every process except these (and the agent). */
  watchAllExcept(pids: Iterable<number>): void {
    const keep = new Set([process.pid]);
    for (const pid of pids) {
      checkPid(pid, 'watchAllExcept');
      keep.add(pid);
    }
    for (const pid of [...this.excluded.keys()]) if (!keep.has(pid)) this.excluded.delete(pid);
    for (const pid of keep) this.excluded.update(pid, WATCHED_BY_USER);
    this.coll.setVariable('capture_all', 1);
  }

  /** Back to capturing only watched pids. */
  watchOnlyWatched(): void {
    this.coll.setVariable('capture_all', 0);
  }

  /** Pids in the kernel's watched set (watched by user space or inherited by fork). */
  watchedPids(): number[] {
    return [...this.watched.keys()];
  }

  /** Delivers every record already in the ring buffer now; returns how many. */
  drain(): number {
    return this.reader.consume() + (this.streams?.reader.consume() ?? 0);
  }

  /**
   * Ends exchanges idle past idleTimeoutMs (reported as incomplete: 'timeout'),
   * forgets idle connections, and returns what is still pending. Runs
   * periodically on its own.
   */
  sweep(): { inFlight: number; connections: number } {
    if (this.closed) return { inFlight: 0, connections: 0 };
    if (isLegacySweep(this.coll)) return legacySweep(this.coll, SWEEP_PROGRAM);
    this.coll.program(SWEEP_PROGRAM).testRun();
    return { inFlight: this.coll.variable<number>('sweep_pending'), connections: this.coll.variable<number>('sweep_states') };
  }

  stats(): CaptureStats {
    const { inFlight, connections } = this.sweep();
    const c = (i: number) => sumPerCpu(this.counters.lookup(i));
    return {
      exchanges: c(COUNTER.exchanges),
      incomplete: c(COUNTER.incomplete),
      delivered: this.delivered,
      ringBufferDrops: this.reader.kernelDrops(),
      evicted: Math.max(0, c(COUNTER.requestsTracked) - c(COUNTER.requestsEnded) - inFlight),
      inFlight,
      connections,
      pipelineOverflow: c(COUNTER.pipelineOverflow),
      notHttp: c(COUNTER.notHttp),
      framingLost: c(COUNTER.framingLost),
      orphanResponses: c(COUNTER.orphanResponses),
      watchFull: c(COUNTER.watchFull),
      connectionStateFull: c(COUNTER.connFull),
      streamConnections: c(COUNTER.streamConnections),
      streamRecords: c(COUNTER.streamRecords),
      streamUndecided: c(COUNTER.streamUndecided),
      streamReadFailed: c(COUNTER.streamReadFailed),
      streamRingBufferDrops: this.streams?.reader.kernelDrops() ?? 0,
      streamDelivered: this.streamDelivered,
      decodeErrors: this.decodeErrors,
      callbackErrors: this.callbackErrors,
    };
  }

  /** The loaded collection (programs' run-time statistics, maps) for diagnostics and benchmarks. */
  get collection(): Collection {
    return this.coll;
  }

  /** Detaches every program and frees every map; records not yet delivered are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    clearInterval(this.flushTimer);
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The kfunc build when this kernel has bpf_rdonly_cast, else the build with CO-RE
 * reads (5.17–6.1), else the legacy build (5.10–5.16). When all fail, the error
 * names each build's refusal.
 */
function loadCapture(options: ResolvedCaptureOptions): { coll: Collection; object: string } {
  // e.g. 6.1 refuses the kfunc build: "extern (func ksym) 'bpf_rdonly_cast': not found in kernel or module BTFs"
  const objects = { auto: [CAPTURE_OBJECT_KFUNC, CAPTURE_OBJECT, CAPTURE_OBJECT_LEGACY], core: [CAPTURE_OBJECT, CAPTURE_OBJECT_LEGACY], legacy: [CAPTURE_OBJECT_LEGACY] }[options.kernelReads];
  const { value, name } = loadFirst(objects, (name) => loadCaptureObject(name, options));
  return { coll: value, object: name };
}

function loadCaptureObject(name: string, options: ResolvedCaptureOptions): Collection {
  const spec = ObjectSpec.open(bpfObjectPath(name));
  try {
    spec.setVariable('request_capture', options.requestCaptureBytes);
    spec.setVariable('response_capture', options.responseCaptureBytes);
    spec.setVariable('idle_timeout_ns', options.idleTimeoutMs * 1e6);
    spec.setVariable('wakeup_bytes', Math.min(options.wakeupBytes, options.ringBufferBytes / 4));
    spec.map('conns').maxEntries = options.maxConnections;
    spec.map('exchanges').maxEntries = options.ringBufferBytes;
    spec.map('watched').maxEntries = options.maxWatchedPids;
    spec.setVariable('stream_enabled', options.streams ? 1 : 0);
    spec.setVariable('stream_head', options.streamHeadBytes);
    spec.setVariable('stream_tail', options.streamTailBytes);
    spec.setVariable('stream_segments', options.streamSegments);
    // Unused without streams: the smallest ring the kernel takes (one page).
    spec.map('stream_chunks').maxEntries = options.streams ? options.streamRingBufferBytes : 4096;
    return spec.load();
  } catch (e) {
    spec.close();
    throw e;
  }
}
