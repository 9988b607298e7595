// Wires the stream platform into the agent: the capture's stream chunks go to a
// StreamTracker running the configured protocol modules; its operations go to
// `onOperation` (telemetry); its counters and the capture's stream counters go
// to /metrics.
import type { SocketCapture, StreamChunk, StreamEnd } from '../capture/index.js';
import type { SelfMetrics } from '../export/index.js';
import type { LocatedOperation } from '../protocols/module.js';
import { PROTOCOL_MODULES } from '../protocols/registry.js';
import { StreamTracker, type StreamTrackerStats } from '../protocols/stream/index.js';
import type { AgentConfig } from './config/index.js';

/** How often idle connections are ended (their pending operations reported incomplete). */
const SWEEP_INTERVAL_MS = 30_000;

export interface ProtocolStreams {
  /** Hooks for the capture; undefined when no protocol is configured (the kernel then streams nothing). */
  hooks: { onStreamChunk: (chunk: StreamChunk) => void; onStreamEnd: (end: StreamEnd) => void } | undefined;
  /** Once the capture is up: verdicts go to it, and /metrics reads both. */
  attach(capture: SocketCapture, self: SelfMetrics): void;
  close(): void;
}

export function createProtocolStreams(config: AgentConfig, onOperation: (located: LocatedOperation) => void, onError: (e: unknown) => void): ProtocolStreams {
  const wanted = new Set<string>(config.capture.protocols);
  const modules = PROTOCOL_MODULES.filter((m) => wanted.has(m.name));
  if (modules.length === 0) return { hooks: undefined, attach: () => undefined, close: () => undefined };
  let capture: SocketCapture | undefined;
  const tracker = new StreamTracker({
    modules,
    onOperation,
    onError,
    setVerdict: (inode, verdict) => capture?.setStreamVerdict(inode, verdict),
  });
  const timer = setInterval(() => tracker.sweep(Number(process.hrtime.bigint())), SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    hooks: { onStreamChunk: (c) => tracker.handleChunk(c), onStreamEnd: (e) => tracker.handleEnd(e) },
    attach(attached, self) {
      capture = attached;
      registerStreamMetrics(self, attached, tracker);
    },
    close() {
      clearInterval(timer);
      tracker.close();
    },
  };
}

function registerStreamMetrics(self: SelfMetrics, capture: SocketCapture, tracker: StreamTracker): void {
  let cached: { at: number; stats: StreamTrackerStats } | undefined;
  const stats = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 500) cached = { at: now, stats: tracker.stats() };
    return cached.stats;
  };
  const per = (read: (p: StreamTrackerStats['protocols'][number]) => number) => () => stats().protocols.map((p) => [{ protocol: p.protocol }, read(p)] as const);
  self.counter('protocol_connections_total', 'Streamed connections a protocol module claimed.', per((p) => p.connections), ['protocol']);
  self.counter('protocol_chunks_total', 'Stream chunks fed to each protocol module.', per((p) => p.chunks), ['protocol']);
  self.counter('protocol_chunks_lost_total', 'Stream chunks a protocol module never got (ring buffer full, or the kernel skipped them while the connection was undecided); the parser resynchronised after each hole.', per((p) => p.chunksLost), ['protocol']);
  self.counter('protocol_operations_total', 'Operations (requests, messages) each protocol module emitted.', per((p) => p.operations), ['protocol']);
  self.counter('protocol_incomplete_total', 'Operations whose response never came (closed, idle, evicted).', per((p) => p.incomplete), ['protocol']);
  self.counter('protocol_unparsed_total', 'Messages or byte runs a protocol module could not frame (it resynchronised).', per((p) => p.unparsed), ['protocol']);
  self.counter('protocol_pending_overflow_total', 'Requests dropped because a connection had too many pending.', per((p) => p.pendingOverflow), ['protocol']);
  self.counter('protocol_orphan_responses_total', 'Responses with no pending request (joined midway, or after lost chunks).', per((p) => p.orphanResponses), ['protocol']);
  self.counter(
    'protocol_events_total',
    "Protocol modules' own counters (http2: unknown_header_fields, header_list_overflow, header_blocks_lost, goaway_refused).",
    () => stats().protocols.flatMap((p) => Object.entries(p.events).map(([event, n]) => [{ protocol: p.protocol, event }, n] as const)),
    ['protocol', 'event'],
  );
  self.gauge('stream_connections', 'Streamed connections tracked in user space.', () => stats().connections);
  self.counter('stream_connections_ignored_total', 'Streamed connections no protocol module claimed (the kernel was told to stop streaming them).', () => stats().ignored);
  self.counter('stream_connections_evicted_total', 'Streamed connections ended early because the table was full.', () => stats().evicted);
  self.counter('stream_held_dropped_total', 'Chunks of undecided connections not held for their parser because the held-bytes cap was reached.', () => stats().heldDropped);
  self.counter('stream_errors_total', 'Exceptions from protocol parsers or the operation listener (swallowed).', () => stats().errors);
  let capCached: { at: number; stats: ReturnType<SocketCapture['stats']> } | undefined;
  const cap = () => {
    const now = Date.now();
    if (!capCached || now - capCached.at > 500) capCached = { at: now, stats: capture.stats() };
    return capCached.stats;
  };
  self.counter('stream_records_total', 'Stream chunk records the kernel sent.', () => cap().streamRecords);
  self.counter('stream_records_dropped_kernel_total', 'Stream records lost because the kernel ring buffer was full.', () => cap().streamRingBufferDrops);
  self.counter('stream_undecided_skipped_total', 'Chunks the kernel skipped because the agent had not yet decided on their connection.', () => cap().streamUndecided);
  self.counter('stream_stale_replaced_total', "Kernel stream entries of a closed socket found at a new connection's socket address, ended and replaced (a run read after the close had recreated them).", () => cap().streamStale);
}
