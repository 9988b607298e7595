// What HTTP metrics and spans read of one HTTP request, whichever wire it came
// on: HttpFacts (HTTP/1, the kernel's exchanges) and HttpOperationFacts
// (HTTP/2, a protocol module's 'http' Operations) both provide it, so both
// become the same RequestRecords, series and spans.
import type { Endpoint } from '../capture/exchange.js';
import type { RequestTarget } from '../protocols/http1/index.js';
import type { RecordDetail } from './request-record.js';

export interface HttpRequestFacts extends RecordDetail {
  readonly kind: 'server' | 'client';
  /** The method token as sent, and normalised (http.request.method). */
  readonly methodOriginal: string;
  readonly method: string;
  readonly target: RequestTarget;
  readonly scheme: string;
  /** network.protocol.version ("1.1", "2"), when known. */
  readonly protocolVersion: string | undefined;
  readonly statusCode: number | undefined;
  readonly errorType: string | undefined;
  /** Kernel monotonic ns. */
  readonly startNs: number;
  readonly endNs: number;
  readonly requestBodySize: number | undefined;
  readonly responseBodySize: number | undefined;
  /** The other end of the connection (network.peer.*, client.* on the server side). */
  readonly peer: Endpoint;
  /** http.route (server) or url.template (client), bounded per service; set by telemetry. */
  route: string | undefined;
  /** server.address/port as the client metrics label them; set by telemetry. */
  metricServerAddress: string | undefined;
  metricServerPort: number | undefined;
  userAgent(): string | undefined;
}
