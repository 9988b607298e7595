// One HTTP measurement, the unit metric recorders aggregate: everything the
// semconv HTTP metrics need and nothing of higher cardinality (no path, no ids).
import type { ServiceIdentity } from './span.js';

export interface HttpObservation {
  kind: 'server' | 'client';
  service: ServiceIdentity;
  /** http.request.method, already normalised (`_OTHER` for unknown methods). */
  method: string;
  /** url.scheme */
  scheme: string;
  /** network.protocol.version ("1.1", "1.0"), when known. */
  protocolVersion?: string;
  /** http.response.status_code, when a response was seen. */
  statusCode?: number;
  /** http.route (server side), bounded per service. */
  route?: string;
  /** error.type, when the exchange failed (status code string, or a reason). */
  errorType?: string;
  /** server.address / server.port (client side), bounded per service. */
  serverAddress?: string;
  serverPort?: number;
  durationSeconds: number;
  requestBodySize?: number;
  responseBodySize?: number;
}

/** Something that aggregates HTTP observations into metrics (Prometheus, OTLP…). */
export interface HttpMetricsRecorder {
  recordHttp(o: HttpObservation): void;
  /** The service instance is gone: its series may be released (after the recorder's own grace period). */
  forgetService?(service: ServiceIdentity): void;
}
