// --print-traces: one line per span for a person at a terminal.
//
//   14:03:07.512 app[4121] SERVER GET /users/{id} 200 2.41ms /users/42 ← 127.0.0.1:52344 trace=4bf92f3577b34da6a3ce929d0e0e4736
//   14:03:07.530 curl[4133] CLIENT GET 404 ERR 1.10ms → http://127.0.0.1:8080/missing trace=…
//
// Local time of the span's start, service name and pid, kind, span name, status
// code (or the error reason), ERR when the span is an error, duration, then what
// a person needs to find the request: the path (server) or scrubbed URL (client)
// and the peer. Only span attributes are printed, so secrets never are.
import type { Writable } from 'node:stream';
import type { Span } from '../telemetry/index.js';
import { semconv as sc } from '../telemetry/index.js';
import { BoundedLineWriter } from './bounded-writer.js';
import type { ExporterStats } from './self-metrics.js';

export function formatSpanLine(span: Span): string {
  const a = span.attributes;
  const ms = Math.max(0, span.endTimeUnixNs - span.startTimeUnixNs) / 1e6;
  const status = a[sc.ATTR_HTTP_RESPONSE_STATUS_CODE] ?? a[sc.ATTR_ERROR_TYPE] ?? '-';
  const parts = [clockTime(span.startTimeUnixNs), `${span.service.name}[${span.service.pid}]`, span.kind.toUpperCase(), span.name, String(status)];
  if (span.status === 'error') parts.push('ERR');
  parts.push(ms < 1000 ? `${ms.toFixed(2)}ms` : `${(ms / 1000).toFixed(2)}s`);
  if (span.kind === 'server') {
    const path = a[sc.ATTR_URL_PATH];
    if (path !== undefined && `${span.name}`.split(' ')[1] !== path) parts.push(String(path));
    parts.push(`← ${peer(a[sc.ATTR_CLIENT_ADDRESS] ?? a[sc.ATTR_NETWORK_PEER_ADDRESS], a[sc.ATTR_CLIENT_PORT] ?? a[sc.ATTR_NETWORK_PEER_PORT])}`);
  } else {
    const url = a[sc.ATTR_URL_FULL];
    parts.push(`→ ${url ?? peer(a[sc.ATTR_SERVER_ADDRESS], a[sc.ATTR_SERVER_PORT])}`);
  }
  parts.push(`trace=${span.traceId}`);
  return parts.join(' ');
}

function peer(address: unknown, port: unknown): string {
  if (address === undefined) return '?';
  const host = String(address).includes(':') ? `[${String(address)}]` : String(address);
  return port === undefined ? host : `${host}:${String(port)}`;
}

function clockTime(epochNs: number): string {
  const d = new Date(Math.floor(epochNs / 1e6));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export class ConsoleSpanPrinter {
  readonly #out: BoundedLineWriter;

  constructor(stream: Writable = process.stdout, maxBufferedBytes?: number) {
    this.#out = new BoundedLineWriter(stream, maxBufferedBytes);
  }

  /** The listener to pass to HttpTelemetry.onSpan. */
  readonly print = (span: Span): void => {
    this.#out.writeLine(formatSpanLine(span));
  };

  stats(): ExporterStats {
    return this.#out.stats();
  }
}
