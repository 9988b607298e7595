// The agent's telemetry for protocol operations (databases, caches, brokers):
// an OperationTelemetry that publishes to the same listeners as HTTP (so the
// exporters' onSpan and the UI store's onRequest get operations too), with its
// self-metrics. Its metrics go to the Prometheus and OTLP exporters
// (`operations:` option); the stream platform calls handle(located, identity).
import type { SelfMetrics } from '../export/index.js';
import { type HttpTelemetry, type MonotonicClock, OperationTelemetry } from '../telemetry/index.js';

export function createOperationTelemetry(http: HttpTelemetry, self: SelfMetrics, clock?: MonotonicClock): OperationTelemetry {
  const operations = new OperationTelemetry({ listeners: http.listeners, ...(clock ? { clock } : {}) });
  self.registerOperationTelemetry(operations);
  return operations;
}
