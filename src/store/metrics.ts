// The store's self-metrics on a prom-client registry: what it holds, its
// estimated memory, and everything it evicted or refused.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveStore } from './live-store.js';

export function registerStoreMetrics(store: LiveStore, registry: Registry): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  // Totals kept by the store, exposed as counters (reset + inc keeps them monotonic on scrape).
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  gauge('waggle_store_spans', 'Spans held by the live store for the UI.', () => store.spanCount);
  gauge('waggle_store_services', 'Services the live store tracks.', () => store.serviceCount);
  gauge('waggle_store_operations', 'Operations (routes, span names) with RED history in the live store.', () => store.operationTotal);
  gauge('waggle_store_edges', 'Service-map edges the live store tracks.', () => store.edgeCount);
  gauge('waggle_store_security_events', 'Security events held by the live store.', () => store.security.size);
  gauge('waggle_store_memory_bytes', 'Estimated memory held by the live store (sketches counted exactly, spans by sampled size).', () => store.byteEstimate());
  counter('waggle_store_spans_ingested_total', 'Spans fed to the live store.', () => store.spansIngested);
  counter('waggle_store_spans_not_kept_total', 'Spans counted in the aggregates but not kept as spans (per-service sampling by trace id, and rate limits on errors and slow spans).', () => store.spansNotKept);
  counter('waggle_store_spans_evicted_total', 'Spans the live store let go to stay within its span budget.', () => store.spansEvicted);
  counter('waggle_store_spans_late_total', 'Spans older than the live store history (kept as spans, not in aggregates).', () => store.spansLate);
  counter('waggle_store_spans_dropped_total', 'Spans refused because the live store already tracks its maximum number of services.', () => store.spansDroppedServiceCap);
  counter('waggle_store_operations_collapsed_total', 'Spans counted under "(other operations)" because a service reached its operation cap.', () => store.operationsCollapsed);
  gauge('waggle_store_traces', 'Whole (linked) traces held by the live store for the trace view.', () => store.traces.size);
  counter('waggle_store_traces_evicted_total', 'Traces the live store let go to stay within its trace budget.', () => store.traces.tracesEvicted);
  counter('waggle_store_trace_spans_dropped_total', 'Spans not kept because their trace already held the per-trace maximum.', () => store.traces.spansDropped);
  counter('waggle_store_edges_dropped_total', 'Spans left off the service map because it reached its edge cap.', () => store.edgesDropped);
}
