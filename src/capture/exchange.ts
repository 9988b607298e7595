// The contract between kernel capture and protocol parsing: one request/response
// exchange on one TCP connection, as the kernel paired it. Capture produces
// these; parsers and telemetry consume them and never see the kernel.

export type Role = 'server' | 'client';

export interface Endpoint {
  /** IPv4 dotted or IPv6 textual address. */
  address: string;
  port: number;
}

/** The W3C trace context the kernel wrote into a request (traceparent injection). */
export interface CarriedContext {
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters: the id the request's CLIENT span must have (the remote server span's parent). */
  spanId: string;
}

export interface Exchange {
  pid: number;
  tid: number;
  /** server: this process accepted the connection and read the request; client: it connected and wrote it. */
  role: Role;
  /** This process's end of the connection. */
  local: Endpoint;
  /** The other end. */
  remote: Endpoint;
  /** Kernel monotonic nanoseconds (CLOCK_MONOTONIC / bpf_ktime_get_ns). */
  requestStartNs: number;
  requestEndNs: number;
  responseStartNs: number;
  responseEndNs: number;
  /** First bytes of the request and the response, as captured (capped). */
  request: Buffer;
  response: Buffer;
  /** Total bytes of request and response on the wire (may exceed the captured bytes). */
  requestBytes: number;
  responseBytes: number;
  /** Which protocol the kernel's detection rule matched, e.g. 'http1'. */
  protocol: string;
  /** Set when the exchange did not complete normally. */
  incomplete?: 'closed-before-response' | 'closed-mid-response' | 'evicted' | 'timeout';
  /** Per-connection identifier stable for the connection's life, for ordering keep-alive exchanges. */
  connectionId: string;
  /** Response status code the kernel's framing read (a hint; the response bytes are the truth). 0 or absent: none. */
  statusHint?: number;
  /**
   * The kernel could not follow the response's length (e.g. a malformed chunk size,
   * or no length on a connection that carried on) and ended it at its last byte
   * before the next response, the next request, the close or the idle timeout; or it
   * could not follow the request's. Exchanges around it may have merged.
   */
  framingLost?: boolean;
  /**
   * The bytes were TLS plaintext, seen in the process's OpenSSL calls
   * (SSL_read/SSL_write uprobes) rather than on the socket. The tuple is the
   * socket's, or all zeros when the SSL object's socket was not known.
   */
  tls?: boolean;
  /**
   * Client side, with traceparent injection on: the ids of the traceparent the
   * kernel wrote into the request (after its request line).
   */
  carried?: CarriedContext;
}
