// What the capture saw and what it could not keep. Kernel counters are per-CPU
// (capture_counters, enum capture_counter in bpf/capture/types.h), summed here.

/** Indexes of enum capture_counter. */
export const COUNTER = {
  exchanges: 0,
  incomplete: 1,
  connCreated: 2,
  connDeleted: 3,
  pipelineOverflow: 4,
  notHttp: 5,
  framingLost: 6,
  orphanResponses: 7,
  watchFull: 8,
  connFull: 9,
  requestsTracked: 10,
  requestsEnded: 11,
  streamConnections: 12,
  streamRecords: 13,
  streamUndecided: 14,
  streamReadFailed: 15,
  tlsRuns: 16,
  tlsUnbound: 17,
  tlsSockets: 18,
  tlsCipherSkipped: 19,
  tlsCallsLost: 20,
  streamStale: 21,
  connStale: 22,
  sockOtherIo: 23,
} as const;

export interface CaptureStats {
  /** Exchange records the kernel sent (complete or not). */
  exchanges: number;
  /** Of which marked incomplete (closed, timed out). */
  incomplete: number;
  /** Records decoded and handed to onExchange. */
  delivered: number;
  /** Records lost because the ring buffer was full. */
  ringBufferDrops: number;
  /** Exchanges lost because the LRU evicted their connection's state while they were in flight. */
  evicted: number;
  /** Exchanges in flight right now (requests waiting for, or receiving, their response). */
  inFlight: number;
  /** Connection states held (connections with HTTP traffic, until they close or go idle). */
  connections: number;
  /** Pipelined requests past the kernel's per-connection depth, not reported. */
  pipelineOverflow: number;
  /** Starts that looked like a request but whose request line was not HTTP/1.x. */
  notHttp: number;
  /** Messages whose length the kernel could not follow (ended by a fallback). */
  framingLost: number;
  /** Responses with no pending request on their connection (e.g. the request predates the capture). */
  orphanResponses: number;
  /** Children of watched processes not watched because the pid map was full. */
  watchFull: number;
  /** Connection states that could not be created. */
  connectionStateFull: number;
  /** Stream capture: connections streamed, chunk records sent, chunks skipped while undecided, chunks sent without their bytes, records lost to a full ring. */
  streamConnections: number;
  streamRecords: number;
  streamUndecided: number;
  streamReadFailed: number;
  streamRingBufferDrops: number;
  /** Chunks and ends decoded and handed to onStreamChunk/onStreamEnd. */
  streamDelivered: number;
  /**
   * TLS plaintext: runs fed from SSL_read/SSL_write returns; of which on an SSL
   * object whose socket was unknown (a pseudo connection: no tuple, no
   * streaming); sockets found to carry TLS; their ciphertext runs skipped; SSL
   * calls not followed (the per-thread call map was full).
   */
  tlsRuns: number;
  tlsUnbound: number;
  tlsSockets: number;
  tlsCipherSkipped: number;
  tlsCallsLost: number;
  /**
   * Kernel states (stream entries, HTTP/1 connection states) of a closed socket
   * found at a new socket's address and replaced: a run after the close had
   * recreated them (without this check the new connection's start was lost).
   */
  streamStale: number;
  connStale: number;
  /**
   * Socket hook runs not taken (hooks 'socket' or 'fexit'): socket I/O of a watched
   * process through another call than the read/write family (io_uring,
   * recvmmsg, splice), or kernel-internal I/O on another socket than the
   * syscall's. The syscall hooks do not see these either.
   */
  socketOtherIo: number;
  /** Records user space could not decode, and onExchange calls that threw. */
  decodeErrors: number;
  callbackErrors: number;
}

export function sumPerCpu(values: number[] | undefined): number {
  return values ? values.reduce((a, b) => a + b, 0) : 0;
}
