// The contract between the kernel's protocol-agnostic stream capture and the
// protocol modules: one read or write of a watched process on a TCP connection
// that the kernel did not frame itself (everything but HTTP/1's fast path).
import type { Endpoint } from './exchange.js';

/** in: the process read the bytes; out: it wrote them. */
export type Direction = 'in' | 'out';

export interface StreamChunk {
  /** Stable for the connection's life: `socket:[inode]`, as Exchange.connectionId and /proc/PID/fd name it. */
  connectionId: string;
  /** The socket's inode number. */
  socketInode: number;
  pid: number;
  tid: number;
  direction: Direction;
  /** Kernel monotonic nanoseconds at the syscall's exit. */
  timeNs: number;
  /** Bytes the syscall moved (one run: a buffer, or one iovec element). */
  bytes: number;
  /** Its first captured bytes (up to the configured head size). */
  head: Uint8Array;
  /**
   * Its last bytes when the head did not cover the whole run (up to the
   * configured tail size), else empty. The bytes between head and tail were not
   * captured: bytes - head.length - tail.length of them.
   */
  tail: Uint8Array;
  /**
   * Chunks of this connection the parser never got before this one (ring buffer
   * full, kernel budget while the connection was undecided, user-space drops).
   * Non-zero: the byte stream has a hole here; parsers resynchronise.
   */
  lost: number;
  /** This process's end and the other end (shared by the connection's chunks: do not modify). */
  local: Endpoint;
  remote: Endpoint;
  /** TLS plaintext from the process's OpenSSL calls (the socket's own bytes are ciphertext and never streamed). */
  tls?: boolean;
}

/** The connection closed: every chunk of it came before this. */
export interface StreamEnd {
  connectionId: string;
  socketInode: number;
  /** Kernel monotonic nanoseconds. */
  timeNs: number;
  /** Chunks lost after the last one delivered. */
  lost: number;
}
