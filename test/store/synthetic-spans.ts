// Spans shaped like the ones HTTP telemetry produces for the demo topology
// (loadgen → frontend → api → nginx, and api → an external host), for store and
// UI tests that run before or without the kernel pipeline.
import type { Span, SpanKind } from '../../src/telemetry/span.js';

export const PORTS = { frontend: 8080, api: 8081, nginx: 8082 } as const;
const PIDS: Record<string, number> = { loadgen: 4100, frontend: 4101, api: 4102, nginx: 4103 };
const EXES: Record<string, string> = { loadgen: 'node', frontend: 'node', api: 'python3', nginx: 'nginx' };

let counter = 0;
/** Unique ids, cheap enough to generate millions: a per-run random prefix and a counter. */
const RUN = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
function hex(bytes: number): string {
  counter++;
  return (RUN + counter.toString(16).padStart(bytes * 2 - 8, '0')).slice(-bytes * 2);
}

export interface HttpSpanInit {
  service: string;
  kind: Extract<SpanKind, 'server' | 'client'>;
  method?: string;
  route: string;
  status?: number;
  endMs: number;
  durationMs: number;
  /** Server: the local port; client: the port called. */
  port: number;
  /** Client: the host named in the URL (default 127.0.0.1). */
  host?: string;
  peerAddress?: string;
  /** Server: the caller's ephemeral port; client: this side's ephemeral port. */
  ephemeralPort?: number;
  /** Leave out network.local.* on client spans (telemetry may not record them). */
  noLocalEndpoint?: boolean;
  traceId?: string;
  parentSpanId?: string;
}

export function httpSpan(o: HttpSpanInit): Span {
  const method = o.method ?? 'GET';
  const status = o.status ?? 200;
  const error = o.kind === 'server' ? status >= 500 : status >= 400;
  const endNs = Math.round(o.endMs * 1e6);
  const attributes: Span['attributes'] = {
    'http.request.method': method,
    'http.response.status_code': status,
    'network.protocol.version': '1.1',
  };
  const ephemeral = o.ephemeralPort ?? 40000 + (counter % 20000);
  if (o.kind === 'server') {
    Object.assign(attributes, {
      'http.route': o.route,
      'url.path': o.route.replace('{id}', String(counter % 1000)),
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': o.port,
      'client.address': o.peerAddress ?? '127.0.0.1',
      'client.port': ephemeral,
      'network.peer.address': o.peerAddress ?? '127.0.0.1',
      'network.peer.port': ephemeral,
      'user_agent.original': 'waggle-demo-load/1.0',
    });
  } else {
    const host = o.host ?? '127.0.0.1';
    Object.assign(attributes, {
      'url.full': `http://${host}:${o.port}${o.route}`,
      'server.address': host,
      'server.port': o.port,
      'network.peer.address': o.peerAddress ?? '127.0.0.1',
      'network.peer.port': o.port,
    });
    if (!o.noLocalEndpoint) Object.assign(attributes, { 'network.local.address': '127.0.0.1', 'network.local.port': ephemeral });
  }
  if (error) attributes['error.type'] = String(status);
  return {
    traceId: o.traceId ?? hex(16),
    spanId: hex(8),
    ...(o.parentSpanId ? { parentSpanId: o.parentSpanId } : {}),
    name: `${method} ${o.route}`,
    kind: o.kind,
    startTimeUnixNs: endNs - Math.round(o.durationMs * 1e6),
    endTimeUnixNs: endNs,
    status: error ? 'error' : 'unset',
    attributes,
    service: {
      name: o.service,
      instanceId: `host-${PIDS[o.service] ?? 1}`,
      pid: PIDS[o.service] ?? 1,
      executableName: EXES[o.service] ?? o.service,
    },
  };
}

/**
 * One request through the demo: loadgen → frontend → api → nginx (+ api → an
 * external host on /api/external). Both ends of each call, with matching ephemeral
 * ports. Returns the spans in end order.
 */
export function demoRequest(endMs: number, pick: number): Span[] {
  const routes = [
    { front: '/', api: '/api/items', nginx: '/static/items.json', status: 200, ms: 4 },
    { front: '/checkout', api: '/api/orders/{id}', nginx: '/slow', status: 200, ms: 120 },
    { front: '/missing', api: '/api/missing', nginx: undefined, status: 404, ms: 2 },
    { front: '/fail', api: '/api/fail', nginx: undefined, status: 500, ms: 6 },
  ];
  const r = routes[pick % routes.length]!;
  const trace = hex(16);
  const spans: Span[] = [];
  const eph = () => 32768 + Math.floor(Math.random() * 28000);
  const e1 = eph();
  const e2 = eph();
  const e3 = eph();
  let t = endMs - r.ms - 6;
  if (r.nginx) {
    spans.push(httpSpan({ service: 'nginx', kind: 'server', route: r.nginx, endMs: t + r.ms, durationMs: r.ms, port: PORTS.nginx, ephemeralPort: e3, traceId: trace }));
    spans.push(httpSpan({ service: 'api', kind: 'client', route: r.nginx, endMs: t + r.ms + 0.3, durationMs: r.ms + 0.3, port: PORTS.nginx, ephemeralPort: e3, traceId: trace }));
  }
  t += r.ms + 1;
  const apiStatus = r.status;
  spans.push(httpSpan({ service: 'api', kind: 'server', route: r.api, status: apiStatus, endMs: t + 1, durationMs: r.ms + 2, port: PORTS.api, ephemeralPort: e2, traceId: trace }));
  spans.push(httpSpan({ service: 'frontend', kind: 'client', route: r.api.replace('{id}', '7'), status: apiStatus, endMs: t + 1.5, durationMs: r.ms + 2.5, port: PORTS.api, ephemeralPort: e2, traceId: trace }));
  spans.push(httpSpan({ service: 'frontend', kind: 'server', route: r.front, status: apiStatus, endMs: t + 3, durationMs: r.ms + 4, port: PORTS.frontend, ephemeralPort: e1, traceId: trace }));
  spans.push(httpSpan({ service: 'loadgen', kind: 'client', route: r.front, status: apiStatus, endMs: t + 3.5, durationMs: r.ms + 4.5, port: PORTS.frontend, ephemeralPort: e1, traceId: trace }));
  return spans;
}
