// The UI's JSON API over the live store. Read-only; every answer is computed
// from bounded store state, and bad parameters are a 400 naming the parameter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveStore } from '../store/index.js';
import type { Span } from '../telemetry/span.js';
import { type AgentHttpServer, sendJson } from './http-server.js';
import { BadParam, enumParam, intParam, numberParam, pathRest, stringParam } from './query-params.js';

const HOUR_MS = 3600_000;

/** What the UI can show beyond the store: pages appear when their feature runs. */
export interface UiFeatures {
  security: boolean;
  profiling: boolean;
}

export function registerApiRoutes(server: AgentHttpServer, store: LiveStore, features: () => UiFeatures): void {
  const get = (path: string, handler: (url: URL, req: IncomingMessage, res: ServerResponse) => unknown) =>
    server.route('GET', path, (req, res, url) => {
      let body: unknown;
      try {
        body = handler(url, req, res);
      } catch (e) {
        if (e instanceof BadParam) return sendJson(res, 400, { error: e.message, param: e.param });
        throw e;
      }
      if (body === undefined) return sendJson(res, 404, { error: `not found: ${url.pathname}` });
      sendJson(res, 200, body);
    });

  get('/api/meta', () => ({ nowMs: store.now(), features: features() }));

  get('/api/overview', (url) => store.overview(intParam(url, 'window', { min: 10_000, max: HOUR_MS })));

  get('/api/services/*', (url) =>
    store.service(pathRest(url, '/api/services/', 'service'), {
      windowMs: intParam(url, 'window', { min: 10_000, max: HOUR_MS }),
      rangeMs: intParam(url, 'range', { min: 60_000, max: HOUR_MS }),
      operation: stringParam(url, 'operation', 1024),
    }),
  );

  get('/api/map', (url) => store.serviceMap(intParam(url, 'window', { min: 10_000, max: HOUR_MS })));

  get('/api/spans', (url) => {
    const r = store.spans({
      service: stringParam(url, 'service'),
      side: enumParam(url, 'side', ['server', 'client'] as const),
      operation: stringParam(url, 'operation'),
      status: enumParam(url, 'status', ['error', 'ok'] as const),
      minDurationMs: numberParam(url, 'minMs', { min: 0, max: 86_400_000 }),
      traceId: stringParam(url, 'traceId', 64),
      limit: intParam(url, 'limit', { min: 1, max: 1000 }),
    });
    return { nowMs: store.now(), ...r };
  });

  get('/api/spans/*', (url) => {
    const span = store.span(pathRest(url, '/api/spans/', 'span id'));
    if (!span) return undefined;
    return { span: redacted(span), trace: store.trace(span.traceId), wholeTrace: store.traces.trace(span.traceId) !== undefined };
  });

  // Whole traces (linked spans): a list filtered by service, callee (a map edge) and operation; one trace as a tree.
  get('/api/traces', (url) => ({
    nowMs: store.now(),
    traces: store.traces.list({
      service: stringParam(url, 'service'),
      calls: stringParam(url, 'calls'),
      operation: stringParam(url, 'operation'),
      limit: intParam(url, 'limit', { min: 1, max: 1000 }),
    }),
  }));

  get('/api/traces/*', (url) => store.traces.trace(pathRest(url, '/api/traces/', 'trace id')));

  get('/api/health', () => store.health.view(store.now()));

  get('/api/security/events', (url) => ({
    total: store.security.total,
    byType: Object.fromEntries(store.security.byType),
    events: store.security.list({
      limit: intParam(url, 'limit', { min: 1, max: 2000 }),
      afterSeq: intParam(url, 'afterSeq', { min: -1, max: Number.MAX_SAFE_INTEGER }),
      type: stringParam(url, 'type', 64),
    }),
  }));
}

const SECRET_ATTRIBUTE = /authorization|cookie|api[-_.]?key|token|secret|password/i;

/** Telemetry already keeps secrets out; this is the UI's own second line. */
function redacted(span: Span): Span {
  const attributes: Span['attributes'] = {};
  for (const [k, v] of Object.entries(span.attributes)) attributes[k] = SECRET_ATTRIBUTE.test(k) ? '[redacted]' : v;
  return { ...span, attributes };
}
