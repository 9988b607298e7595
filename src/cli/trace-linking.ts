// Wires local trace linking (src/telemetry/trace-linker.ts) into the agent:
// every record's span goes through one TraceLinker, and span consumers (OTLP,
// console, --spans-file, the UI's traces) subscribe to its linked output instead
// of the raw spans. With traces.link off they get the raw spans, as before.
import type { SelfMetrics } from '../export/index.js';
import { HostAddresses, type RequestListeners, type SpanListener, TraceLinker } from '../telemetry/index.js';
import type { AgentConfig } from './config/index.js';

/** How often held spans are looked at (their hold is traces.link_hold_ms). */
const TICK_MS = 100;

export interface SpanSource {
  /**
   * Subscribes to finished spans (linked when traces.link is on); returns the
   * unsubscribe function. `lone: false`: the listener ignores roots nothing
   * was joined to (see TraceLinker.onSpan).
   */
  onSpan(listener: SpanListener, opts?: { lone?: boolean }): () => void;
  /** The linker, when linking is on. */
  readonly linker: TraceLinker | undefined;
  /** Releases every held span to the subscribers (run before the exporters close). */
  close(): void;
}

export function createSpanSource(config: AgentConfig, listeners: RequestListeners, self: SelfMetrics): SpanSource {
  if (!config.traces.link) return { onSpan: (l) => listeners.onSpan(l), linker: undefined, close: () => undefined };
  const hosts = new HostAddresses();
  const linker = new TraceLinker({
    holdMs: config.traces.link_hold_ms,
    maxSpans: config.traces.link_max_spans,
    isLocalAddress: (a) => hosts.has(a),
    connections: config.traces.link_connections,
  });
  self.registerTraceLinker(linker);
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  return {
    linker,
    onSpan(listener, opts) {
      // Spans are built only once someone wants them (a span per request costs about 1 µs).
      if (unsubscribe === undefined) {
        // The timer runs only while something is held: an idle agent is not woken 10 times a second.
        const tick = () => {
          linker.tick();
          if (linker.idle) {
            clearInterval(timer);
            timer = undefined;
          }
        };
        unsubscribe = listeners.onRequest((r) => {
          linker.add(r);
          if (timer === undefined && !linker.idle) {
            timer = setInterval(tick, TICK_MS);
            timer.unref();
          }
        });
      }
      return linker.onSpan(listener, opts);
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
      unsubscribe?.();
      linker.close();
    },
  };
}
