// Options of SocketCapture.start(), validated up front: a bad value is an error
// naming the field, never a silent clamp.
import { z } from 'zod';
import { WaggleError } from '../ebpf/index.js';
import type { Exchange } from './exchange.js';
import type { StreamChunk, StreamEnd } from './stream.js';

/** Compile-time capacities of bpf/capture/types.h. */
export const REQUEST_CAPTURE_MAX = 1024;
export const RESPONSE_CAPTURE_MAX = 512;
export const STREAM_HEAD_MAX = 4096;
export const STREAM_TAIL_MAX = 256;
export const STREAM_SEGMENTS_MAX = 8;

export const CAPTURE_DEFAULTS = {
  requestCaptureBytes: 512,
  responseCaptureBytes: 256,
  maxConnections: 4096,
  // Small enough to stay cache-warm: at 8 MiB every record landed on memory last
  // touched 8 MiB ago, and emitting cost ~0.6 µs more per exchange (nginx/Node, here).
  // 2 MiB still holds 2,000 records of the default capture sizes past a wakeup.
  ringBufferBytes: 2 << 20,
  idleTimeoutMs: 30_000,
  sweepIntervalMs: 5_000,
  flushIntervalMs: 200,
  wakeupBytes: 256 << 10,
  maxWatchedPids: 16384,
  streamHeadBytes: 2048,
  streamTailBytes: 256,
  streamSegments: 4,
  streamRingBufferBytes: 4 << 20,
} as const;

const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0;

const schema = z.strictObject({
  requestCaptureBytes: z.number().int().min(0).max(REQUEST_CAPTURE_MAX).default(CAPTURE_DEFAULTS.requestCaptureBytes),
  responseCaptureBytes: z.number().int().min(0).max(RESPONSE_CAPTURE_MAX).default(CAPTURE_DEFAULTS.responseCaptureBytes),
  maxConnections: z.number().int().min(16).max(1 << 20).default(CAPTURE_DEFAULTS.maxConnections),
  ringBufferBytes: z
    .number()
    .int()
    .min(1 << 16)
    .max(1 << 30)
    .refine(isPowerOfTwo, 'must be a power of two')
    .default(CAPTURE_DEFAULTS.ringBufferBytes),
  idleTimeoutMs: z.number().int().min(100).default(CAPTURE_DEFAULTS.idleTimeoutMs),
  /** 0 disables the periodic sweep (stats() still sweeps). */
  sweepIntervalMs: z.number().int().min(0).default(CAPTURE_DEFAULTS.sweepIntervalMs),
  maxWatchedPids: z.number().int().min(1).max(1 << 22).default(CAPTURE_DEFAULTS.maxWatchedPids),
  flushIntervalMs: z.number().int().min(1).default(CAPTURE_DEFAULTS.flushIntervalMs),
  wakeupBytes: z.number().int().min(0).default(CAPTURE_DEFAULTS.wakeupBytes),
  reuseExchange: z.boolean().default(false),
  kernelReads: z.enum(['auto', 'core', 'legacy']).default('auto'),
  hooks: z.enum(['auto', 'socket', 'fexit', 'syscalls']).default('auto'),
  streamHeadBytes: z.number().int().min(0).max(STREAM_HEAD_MAX).default(CAPTURE_DEFAULTS.streamHeadBytes),
  streamTailBytes: z.number().int().min(0).max(STREAM_TAIL_MAX).default(CAPTURE_DEFAULTS.streamTailBytes),
  streamSegments: z.number().int().min(1).max(STREAM_SEGMENTS_MAX).default(CAPTURE_DEFAULTS.streamSegments),
  streamRingBufferBytes: z
    .number()
    .int()
    .min(1 << 16)
    .max(1 << 30)
    .refine(isPowerOfTwo, 'must be a power of two')
    .default(CAPTURE_DEFAULTS.streamRingBufferBytes),
  streams: z.boolean(),
  tls: z.boolean().default(true),
  injectTraceparent: z.boolean().default(false),
});

export interface SocketCaptureOptions {
  /** Called for every exchange, on the event loop, in the order the kernel finished them. */
  onExchange: (exchange: Exchange) => void;
  /**
   * Stream capture: every TCP connection of a watched process that HTTP/1's
   * fast path does not claim sends its reads and writes here (head and tail
   * bytes of each), in order; then onStreamEnd when it closes. Without
   * onStreamChunk the kernel streams nothing.
   */
  onStreamChunk?: (chunk: StreamChunk) => void;
  onStreamEnd?: (end: StreamEnd) => void;
  /** First bytes of each streamed read/write captured (default 2048, at most 4096). */
  streamHeadBytes?: number;
  /** Last bytes of a streamed read/write longer than the head (default 256, at most 256). */
  streamTailBytes?: number;
  /**
   * Records one streamed read/write may be sent as, each of streamHeadBytes, the
   * last with the rest's head and tail (default 4, at most 8): a run is seen
   * whole up to segments × head bytes.
   */
  streamSegments?: number;
  /** The stream ring buffer's size in bytes (a power of two, default 4 MiB). */
  streamRingBufferBytes?: number;
  /**
   * TLS plaintext through uprobes on OpenSSL's SSL_read/SSL_write (default
   * true): the host's libssl is hooked at start, and the libssl or executable
   * (node) of each watched process as it is watched. When the uprobes cannot
   * be attached, the capture runs without it (tlsStatus says why).
   */
  tls?: boolean;
  /**
   * Write a W3C traceparent into the outgoing plaintext HTTP/1 requests of
   * watched processes (sockops + sk_msg; default false): client exchanges then
   * carry the ids written (Exchange.carried). It changes bytes on the wire and
   * needs CAP_NET_ADMIN and cgroup v2; when it cannot load, the capture runs
   * without it (injectStatus says why).
   */
  injectTraceparent?: boolean;
  /** Called when onExchange throws or a record cannot be decoded (default: a process warning). */
  onError?: (error: unknown) => void;
  /** First bytes of each request kept (default 512, at most 1024). */
  requestCaptureBytes?: number;
  /** First bytes of each response kept (default 256, at most 512). */
  responseCaptureBytes?: number;
  /** Connections with an exchange in flight tracked at once (LRU beyond; evictions are counted). */
  maxConnections?: number;
  /** Ring buffer size in bytes (a power of two). */
  ringBufferBytes?: number;
  /**
   * How the programs read kernel structs: 'auto' uses the bpf_rdonly_cast kfunc
   * where the kernel has it (6.2+) and CO-RE helper reads elsewhere; 'core' always
   * uses the CO-RE build (what 6.1 runs; for tests and comparisons); 'legacy' the
   * build for 5.10–5.16 (bounded loops, no bpf_loop; what those kernels run).
   * 'auto' and 'core' fall back to the legacy build where the kernel refuses theirs.
   */
  kernelReads?: 'auto' | 'core' | 'legacy';
  /**
   * Where the bytes are seen: 'socket' on the socket layer's send/receive
   * tracepoints (kernels 6.5+), which only socket I/O runs; 'fexit' at the
   * exits of the inet layer's send and receive (before 6.5, on kernels with BPF
   * trampolines), the same where the tracepoints are missing; 'syscalls' on the
   * exits of the read/write-family syscalls (every kernel; once any syscall
   * tracepoint is on, every syscall of every task takes the traced slow path);
   * 'auto' the first where the kernel has it.
   */
  hooks?: 'auto' | 'socket' | 'fexit' | 'syscalls';
  /** An exchange idle this long is reported as incomplete ('timeout'). */
  idleTimeoutMs?: number;
  /** How often idle exchanges are looked for. */
  sweepIntervalMs?: number;
  /** Size of the kernel's watched-pid map (watched pids and their children). */
  maxWatchedPids?: number;
  /**
   * The kernel wakes the reader once this many bytes of records are waiting
   * (0: the kernel's default, a wakeup whenever the reader has caught up); below
   * that, records are read every flushIntervalMs. At most a quarter of
   * ringBufferBytes is used, so the buffer cannot fill before a wakeup.
   * Batching is what keeps the reader's CPU per exchange low under load: each
   * wakeup costs the agent tens of µs (measured at ~10k exchanges/s: 1.3 µs per
   * exchange with 64 KiB and 100 ms, 0.8 µs with 256 KiB and 250 ms). Default 256 KiB.
   */
  wakeupBytes?: number;
  /** Longest a record waits in the ring buffer when traffic is light (default 200 ms). */
  flushIntervalMs?: number;
  /**
   * Hand onExchange the same Exchange object for every record, overwritten each
   * time (no allocation per record): read it during the call, never keep it.
   * Default false: a new Exchange per record.
   */
  reuseExchange?: boolean;
}

export type ResolvedCaptureOptions = z.infer<typeof schema>;

export function resolveCaptureOptions(opts: SocketCaptureOptions): ResolvedCaptureOptions {
  if (typeof opts?.onExchange !== 'function') {
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', 'capture option onExchange: must be a function');
  }
  const { onExchange: _onExchange, onError: _onError, onStreamChunk, onStreamEnd: _onStreamEnd, ...rest } = opts;
  const parsed = schema.safeParse({ ...rest, streams: typeof onStreamChunk === 'function' });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `capture option ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
