// The `http` feature: the socket capture, sized by the configuration. Used by the
// agent and by `waggle doctor` (which starts it and closes it again).
import { type Exchange, SocketCapture, type StreamChunk, type StreamEnd } from '../../capture/index.js';
import type { AgentConfig } from '../config/index.js';
import type { FeatureBoard } from './status.js';

export interface HttpFeatureHooks {
  onExchange: (exchange: Exchange) => void;
  onError: (error: unknown) => void;
  /** The stream platform's hooks (protocol modules); without them the kernel streams nothing. */
  onStreamChunk?: (chunk: StreamChunk) => void;
  onStreamEnd?: (end: StreamEnd) => void;
}

/** Loads and attaches the capture; throws the kernel's refusal when it cannot. */
export function startHttpFeature(config: AgentConfig, hooks: HttpFeatureHooks): Promise<SocketCapture> {
  return SocketCapture.start({
    requestCaptureBytes: config.capture.request_bytes,
    responseCaptureBytes: config.capture.response_bytes,
    ringBufferBytes: config.capture.ring_buffer_bytes,
    maxConnections: config.capture.max_connections,
    tls: config.capture.tls,
    hooks: config.capture.hooks,
    injectTraceparent: config.traces.inject_traceparent,
    // One Exchange object overwritten record after record: telemetry reads it during the call only.
    reuseExchange: true,
    onExchange: hooks.onExchange,
    onError: hooks.onError,
    ...(hooks.onStreamChunk ? { onStreamChunk: hooks.onStreamChunk, streamHeadBytes: config.capture.stream_head_bytes, streamTailBytes: config.capture.stream_tail_bytes, streamSegments: config.capture.stream_segments } : {}),
    ...(hooks.onStreamEnd ? { onStreamEnd: hooks.onStreamEnd } : {}),
  });
}

/** The `http` feature's note: which hooks see the bytes, and why not better ones (the syscall exits cost every task's syscalls). */
export function httpHooksNote(capture: SocketCapture): string {
  if (capture.hooks === 'socket') return 'bytes seen on the socket tracepoints (sock_recv_length, sock_send_length)';
  if (capture.hooks === 'fexit') return `bytes seen at fexit of the inet layer's send and receive (${capture.hooksReason})`;
  return `bytes seen on the syscall exits, which put every syscall of every task on the traced slow path (${capture.hooksReason})`;
}

/** The `context-propagation` feature's state from the capture that started. */
export function recordInjectFeature(board: FeatureBoard, capture: SocketCapture): void {
  const s = capture.injectStatus;
  if (s.state === 'up') board.up('context-propagation');
  else if (s.state === 'off') board.off('context-propagation', s.reason);
  else board.disabled('context-propagation', INJECT_NOT_WANTED);
}

export const INJECT_NOT_WANTED = 'not asked for (--inject-traceparent or traces.inject_traceparent turns it on)';

/** The `tls` feature's state from the capture that started: up, off with the reason, or disabled by capture.tls. */
export function recordTlsFeature(board: FeatureBoard, capture: SocketCapture): void {
  const s = capture.tlsStatus;
  if (s.state === 'up') board.up('tls', s.libraries.length ? undefined : 'no libssl in the host library cache: hooked per process as they appear');
  else if (s.state === 'off') board.off('tls', s.reason);
  else board.disabled('tls', 'capture.tls is false');
}
