// SocketCapture: loads bpf/capture/socket_capture.bpf.c, keeps its pid filter,
// and turns its ring-buffer records into Exchanges.
//
//   const capture = await SocketCapture.start({ onExchange: (ex) => … });
//   capture.watch(pid);             // and the children it forks from now on
//   capture.watchAllExcept([pid]);  // or: everything but these (never the agent itself)
//   capture.stats();
//   capture.close();
import { type BpfMap, type Collection, type Link, ObjectSpec, type RingBufferReader, WaggleError, loadFirst } from '../ebpf/index.js';
import { bpfObjectPath } from '../paths.js';
import { COUNTER, type CaptureStats, sumPerCpu } from './capture-stats.js';
import type { Exchange } from './exchange.js';
import type { StreamChunk, StreamEnd } from './stream.js';
import { ExchangeDecoder, reusableExchange } from './exchange-record.js';
import { isLegacySweep, legacySweep } from './legacy-sweep.js';
import { StreamDecoder, reusableStreamRecords } from './stream-record.js';
import { type ResolvedCaptureOptions, type SocketCaptureOptions, resolveCaptureOptions } from './options.js';
import { TLS_PROGRAMS, type TlsProbeStats, TlsProbes } from './tls-probes.js';
import { TraceparentInjector, type TraceparentInjectorStats } from './traceparent-injector.js';
import { ALL_HOOK_PROGRAMS, type CaptureHooks, fexitTargets, hookPrograms, planHooks } from './hook-choice.js';

/** Whether TLS plaintext capture runs: off with its reason when its uprobes could not attach. */
export type TlsStatus = { state: 'up'; libraries: string[] } | { state: 'off'; reason: string } | { state: 'disabled' };
/** Whether traceparent injection runs: off with its reason when its programs could not load or attach. */
export type InjectStatus = { state: 'up' } | { state: 'off'; reason: string } | { state: 'disabled' };

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
/** Keep `watched` and `excluded` across forks and exits; another object's programs may take over (handOverLifecycle). */
const LIFECYCLE_PROGRAMS = new Set(['cap_fork', 'cap_exit']);
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
  /** cap_fork/cap_exit's links while capture's own programs keep its pid sets. */
  private lifecycleLinks: Link[] = [];
  private handedOver = false;
  /** The OpenSSL uprobes, when TLS capture is up. */
  private tls: TlsProbes | undefined;
  /** TLS plaintext capture: up, off (with the reason) or disabled by the options. */
  tlsStatus: TlsStatus = { state: 'disabled' };
  /** The traceparent writer, when injection is up. */
  private injector: TraceparentInjector | undefined;
  /** Traceparent injection: up, off (with the reason) or disabled by the options. */
  injectStatus: InjectStatus = { state: 'disabled' };

  private constructor(
    private readonly coll: Collection,
    private readonly onExchange: SocketCaptureOptions['onExchange'],
    private readonly onError: (error: unknown) => void,
    stream: Pick<SocketCaptureOptions, 'onStreamChunk' | 'onStreamEnd'>,
    readonly options: ResolvedCaptureOptions,
    /** The object that loaded: CAPTURE_OBJECT_KFUNC, CAPTURE_OBJECT where the kernel lacks the kfunc, CAPTURE_OBJECT_LEGACY before 5.17. */
    readonly object: string,
    /** Where the bytes are seen: the socket layer's tracepoints, fexit on the inet layer, or the syscall exits (hook-choice.ts). */
    readonly hooks: CaptureHooks,
    /** Why the better hooks were passed over (undefined on the socket tracepoints). */
    readonly hooksReason: string | undefined,
  ) {
    this.watched = coll.map<number, number>('watched');
    this.excluded = coll.map<number, number>('excluded');
    this.counters = coll.map<number, number[]>('capture_counters');
    const decoder = new ExchangeDecoder(coll.spec.btf!);
    const deliver = (ex: Exchange) => {
      this.delivered++;
      if (this.injector !== undefined && ex.role === 'client') ex.carried = this.injector.take(ex);
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
    // The ids the kernel wrote into requests were reported during their sends, before
    // their exchanges ended: read them once per batch, before the batch's exchanges.
    this.reader = coll.ringBuffer(
      'exchanges',
      reused
        ? (batch) => {
            this.injector?.readWritten();
            batch.forEach((buf, off, len) => {
              const reason = decoder.decodeInto(buf, off, len, reused);
              if (reason === undefined) deliver(reused);
              else undecoded(reason);
            });
          }
        : (batch) => {
            this.injector?.readWritten();
            batch.forEach((buf, off, len) => {
              const ex = decoder.decode(buf, off, len);
              if (typeof ex === 'string') undecoded(ex);
              else deliver(ex);
            });
          },
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
    const { coll, object, hooks, hooksReason, lifecycle } = startCapture(options);
    try {
      const onError = opts.onError ?? ((e: unknown) => process.emitWarning(`socket capture: ${String(e)}`));
      const capture = new SocketCapture(coll, opts.onExchange, onError, opts, options, object, hooks, hooksReason);
      capture.lifecycleLinks = lifecycle;
      if (options.tls) capture.startTls();
      if (options.injectTraceparent) capture.startInjector();
      return capture;
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

  /** Loads the traceparent writer on capture's pid sets; injection is off with the reason when that fails. */
  private startInjector(): void {
    try {
      // Before any watchAllExcept(): the injector starts in watched-only mode, as capture does.
      this.injector = TraceparentInjector.start(this.lifecycleMaps());
      this.injectStatus = { state: 'up' };
    } catch (e) {
      this.injectStatus = { state: 'off', reason: String((e as Error)?.message ?? e) };
    }
  }

  /** The traceparent writer's counters, when injection is up. */
  injectStats(): TraceparentInjectorStats | undefined {
    return this.injector?.stats();
  }

  /** Hooks the host's libssl; TLS capture is off with the reason when that fails. */
  private startTls(): void {
    if (!this.coll.spec.programs.has('tls_return')) {
      this.tlsStatus = { state: 'off', reason: `TLS capture needs a kernel whose verifier takes the plain capture build (Linux 5.17+): the ${this.object} build loaded here leaves the TLS programs out, which exceed the legacy build's verifier budget` };
      return;
    }
    const probes = new TlsProbes(this.coll, (e) => this.onError(e));
    try {
      const attached = probes.attachHostLibraries();
      this.tls = probes;
      this.tlsStatus = { state: 'up', libraries: attached.map((b) => b.path) };
    } catch (e) {
      probes.close();
      this.tlsStatus = { state: 'off', reason: `OpenSSL uprobes could not be attached: ${String((e as Error)?.message ?? e)}` };
    }
  }

  /**
   * Hooks the OpenSSL a process carries (its libssl, or its executable when it
   * links OpenSSL in, as node does), when TLS capture is up. watch() does it;
   * call it for processes captured in watch-all mode. Resolves when done; never rejects.
   */
  async scanTls(pid: number): Promise<void> {
    if (this.tls && !this.closed) await this.tls.watchProcess(pid);
  }

  /** The OpenSSL uprobes' state, when TLS capture is up. */
  tlsStats(): TlsProbeStats | undefined {
    return this.tls?.stats();
  }

  /** Captures this process's TCP exchanges, and those of the children it forks from now on. */
  watch(pid: number): void {
    checkPid(pid, 'watch');
    if (pid === process.pid) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `watch: pid ${pid} is the agent itself, which is never captured`);
    this.watched.update(pid, WATCHED_BY_USER);
    void this.scanTls(pid);
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
    // A shared set is kept by the kernel (forks inherit, exits remove): only added to.
    if (!this.handedOver) for (const pid of [...this.excluded.keys()]) if (!keep.has(pid)) this.excluded.delete(pid);
    for (const pid of keep) this.excluded.update(pid, WATCHED_BY_USER);
    this.coll.setVariable('capture_all', 1);
    this.injector?.setAll(true);
  }

  /** Back to capturing only watched pids. */
  watchOnlyWatched(): void {
    this.coll.setVariable('capture_all', 0);
    this.injector?.setAll(false);
  }

  /**
   * The pid sets capture's fork/exit programs keep (`watched`: tgid → 1 set by
   * user space, 2 inherited; `excluded`), for an object that will keep them
   * instead: it reuses these maps (MapSpec.reuse), then handOverLifecycle().
   */
  lifecycleMaps(): { watched: BpfMap<number, number>; excluded: BpfMap<number, number> } {
    return { watched: this.watched, excluded: this.excluded };
  }

  /**
   * Another object's programs on sched_process_fork/exit now keep
   * lifecycleMaps() (children of watched processes watched at fork, exited
   * pids removed), so capture's own detach: a fork or an exit runs one BPF
   * program fewer. For the life of this capture; the other object must outlive it.
   */
  handOverLifecycle(): void {
    for (const link of this.lifecycleLinks.splice(0)) link.close();
    this.handedOver = true;
  }

  /** Whether capture's fork/exit programs were detached for another object's (handOverLifecycle). */
  get lifecycleHandedOver(): boolean {
    return this.handedOver;
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
      tlsRuns: c(COUNTER.tlsRuns),
      tlsUnbound: c(COUNTER.tlsUnbound),
      tlsSockets: c(COUNTER.tlsSockets),
      tlsCipherSkipped: c(COUNTER.tlsCipherSkipped),
      tlsCallsLost: c(COUNTER.tlsCallsLost),
      streamStale: c(COUNTER.streamStale),
      connStale: c(COUNTER.connStale),
      socketOtherIo: c(COUNTER.sockOtherIo),
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
    this.tls?.close();
    this.injector?.close(); // before capture's maps, which it shares
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

interface StartedCapture {
  coll: Collection;
  object: string;
  hooks: CaptureHooks;
  hooksReason: string | undefined;
  /** cap_fork/cap_exit's links. */
  lifecycle: Link[];
}

/**
 * Loads and attaches the capture on the best hooks this kernel takes
 * (hook-choice.ts): fexit, where the kernel names its targets, is tried and
 * falls back to the syscall exits when it cannot load or attach (no BPF
 * trampolines), with the refusal kept in the reason.
 */
function startCapture(options: ResolvedCaptureOptions): StartedCapture {
  const { tries, passedOver } = planHooks(options.hooks);
  const reasons = [...passedOver];
  for (let i = 0; ; i++) {
    const hooks = tries[i]!;
    try {
      const { coll, object } = loadCapture(options, hooks);
      try {
        const lifecycle = attachCapture(coll);
        return { coll, object, hooks, hooksReason: reasons.length ? reasons.join('; ') : undefined, lifecycle };
      } catch (e) {
        coll.close();
        throw e;
      }
    } catch (e) {
      if (i === tries.length - 1) throw e;
      reasons.push(`the ${hooks} hooks were refused: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}

/** Attaches every loaded program but the on-demand sweep and the per-binary TLS uprobes (startTls); returns the lifecycle links. */
function attachCapture(coll: Collection): Link[] {
  const lifecycle: Link[] = [];
  for (const p of coll.spec.programs.values()) {
    if (p.name === SWEEP_PROGRAM || TLS_PROGRAMS.includes(p.name) || !p.autoload) continue;
    const link = coll.program(p.name).attach();
    if (LIFECYCLE_PROGRAMS.has(p.name)) lifecycle.push(link);
  }
  return lifecycle;
}

/**
 * The kfunc build when this kernel has bpf_rdonly_cast, else the build with CO-RE
 * reads (5.17–6.1), else the legacy build (5.10–5.16). When all fail, the error
 * names each build's refusal.
 */
function loadCapture(options: ResolvedCaptureOptions, hooks: CaptureHooks): { coll: Collection; object: string } {
  // e.g. 6.1 refuses the kfunc build: "extern (func ksym) 'bpf_rdonly_cast': not found in kernel or module BTFs"
  const objects = { auto: [CAPTURE_OBJECT_KFUNC, CAPTURE_OBJECT, CAPTURE_OBJECT_LEGACY], core: [CAPTURE_OBJECT, CAPTURE_OBJECT_LEGACY], legacy: [CAPTURE_OBJECT_LEGACY] }[options.kernelReads];
  const { value, name } = loadFirst(objects, (name) => loadCaptureObject(name, options, hooks));
  return { coll: value, object: name };
}

function loadCaptureObject(name: string, options: ResolvedCaptureOptions, hooks: CaptureHooks): Collection {
  const spec = ObjectSpec.open(bpfObjectPath(name));
  try {
    // Only the chosen set's programs load (the legacy build has no socket tracepoint programs).
    const wanted = new Set(hookPrograms(hooks, fexitTargets().includes('inet_sendpage')));
    for (const n of wanted) if (!spec.programs.has(n)) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `the ${name} build has no program ${n} for the ${hooks} hooks`);
    for (const n of ALL_HOOK_PROGRAMS) if (spec.programs.has(n)) spec.program(n).autoload = wanted.has(n);
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
    // The legacy build has no TLS programs (startTls says so).
    for (const name of TLS_PROGRAMS) if (spec.programs.has(name)) spec.program(name).autoload = options.tls;
    return spec.load();
  } catch (e) {
    spec.close();
    throw e;
  }
}
