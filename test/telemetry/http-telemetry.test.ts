// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HttpFacts, HttpTelemetry, type RequestRecord, type Span } from '../../src/telemetry/index.js';
import { OK_RESPONSE, exchange, get, identity, response } from './helpers/exchanges.js';

/** What the HTTP metrics read of a record (its facts as the histograms label them), without the undefined fields. */
function metricView(r: RequestRecord) {
  const f = r.detail as HttpFacts;
  const o = {
    kind: f.kind,
    service: r.service,
    method: f.method,
    scheme: f.scheme,
    durationSeconds: (f.endNs - f.startNs) / 1e9,
    protocolVersion: f.protocolVersion,
    statusCode: f.statusCode,
    errorType: f.errorType,
    requestBodySize: f.requestBodySize,
    responseBodySize: f.responseBodySize,
    route: f.kind === 'server' ? f.route : undefined,
    serverAddress: f.metricServerAddress,
    serverPort: f.metricServerPort,
  };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<typeof o>;
}

function collect(opts: ConstructorParameters<typeof HttpTelemetry>[0] = {}) {
  const t = new HttpTelemetry(opts);
  const spans: Span[] = [];
  const observations: Array<ReturnType<typeof metricView>> = [];
  t.onSpan((s) => spans.push(s));
  t.onRequest((r) => observations.push(metricView(r)));
  return { t, spans, observations };
}

describe('HttpTelemetry: server spans', () => {
  it('builds a semconv server span', () => {
    const { t, spans, observations } = collect();
    const svc = identity();
    const ex = exchange({ request: get('/users/42?token=abc&x', 'Host: shop.local:8080\r\nUser-Agent: curl/8.0\r\n'), response: OK_RESPONSE, durationNs: 3_000_000 });
    t.handleExchange(ex, svc);
    assert.equal(spans.length, 1);
    const s = spans[0]!;
    assert.equal(s.name, 'GET /users/{id}');
    assert.equal(s.kind, 'server');
    assert.equal(s.status, 'unset');
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.equal(s.parentSpanId, undefined);
    assert.equal(s.service, svc);
    assert.deepEqual(s.attributes, {
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'server.address': 'shop.local',
      'server.port': 8080,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': 50000,
      'network.transport': 'tcp',
      'network.protocol.version': '1.1',
      'user_agent.original': 'curl/8.0',
      'http.request.body.size': 0,
      'http.response.body.size': 2,
      'url.scheme': 'http',
      'url.path': '/users/42',
      'url.query': 'token=REDACTED&x',
      'http.route': '/users/{id}',
      'client.address': '127.0.0.1',
      'client.port': 50000,
    });
    const durationNs = s.endTimeUnixNs - s.startTimeUnixNs;
    assert.ok(Math.abs(durationNs - 3_000_000) <= 512, `duration ${durationNs}`);
    assert.ok(Math.abs(s.startTimeUnixNs / 1e6 - Date.now()) < 100, 'wall-clock start');
    assert.deepEqual(observations, [
      {
        kind: 'server',
        service: svc,
        method: 'GET',
        scheme: 'http',
        durationSeconds: (ex.responseEndNs - ex.requestStartNs) / 1e9,
        protocolVersion: '1.1',
        statusCode: 200,
        requestBodySize: 0,
        responseBodySize: 2,
        route: '/users/{id}',
      },
    ]);
  });

  it('honours an incoming traceparent', () => {
    const { t, spans } = collect();
    t.handleExchange(exchange({ request: get('/', 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n'), response: OK_RESPONSE }), identity());
    t.handleExchange(exchange({ request: get('/', 'traceparent: garbage\r\n'), response: OK_RESPONSE }), identity());
    assert.equal(spans[0]!.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(spans[0]!.parentSpanId, '00f067aa0ba902b7');
    assert.notEqual(spans[0]!.spanId, '00f067aa0ba902b7');
    assert.notEqual(spans[1]!.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(spans[1]!.parentSpanId, undefined);
  });

  it('sets error.type per semconv: 5xx on servers, not 4xx', () => {
    const { t, spans, observations } = collect();
    t.handleExchange(exchange({ request: get('/a'), response: response(404) }), identity());
    t.handleExchange(exchange({ request: get('/a'), response: response(503) }), identity());
    assert.equal(spans[0]!.attributes['error.type'], undefined);
    assert.equal(spans[0]!.status, 'unset');
    assert.equal(spans[1]!.attributes['error.type'], '503');
    assert.equal(spans[1]!.status, 'error');
    assert.equal(spans[1]!.statusMessage, undefined, 'no description for status-code errors');
    assert.equal(observations[1]!.errorType, '503');
  });

  it('marks incomplete exchanges with the reason', () => {
    const { t, spans } = collect();
    t.handleExchange(exchange({ request: get('/slow'), response: '', incomplete: 'closed-before-response', responseStartNs: 0, responseEndNs: 0 }), identity());
    const s = spans[0]!;
    assert.equal(s.attributes['error.type'], 'closed-before-response');
    assert.equal(s.attributes['http.response.status_code'], undefined);
    assert.equal(s.status, 'error');
    assert.equal(s.statusMessage, 'closed-before-response');
    assert.ok(s.endTimeUnixNs >= s.startTimeUnixNs);
  });

  it('reports unknown methods as _OTHER and names the span HTTP', () => {
    const { t, spans } = collect({ routes: { unmatched: 'unset' } });
    t.handleExchange(exchange({ request: 'PROPFIND /dav HTTP/1.1\r\n\r\n', response: response(207) }), identity());
    assert.equal(spans[0]!.name, 'HTTP');
    assert.equal(spans[0]!.attributes['http.request.method'], '_OTHER');
    assert.equal(spans[0]!.attributes['http.request.method_original'], 'PROPFIND');
  });

  it('uses Content-Length, and zero for HEAD/204/304 bodies', () => {
    const { t, observations } = collect();
    t.handleExchange(exchange({ request: 'POST /p HTTP/1.1\r\nContent-Length: 300\r\n\r\n' + 'x'.repeat(100), requestBytes: 341, response: response(201, 'created') }), identity());
    t.handleExchange(exchange({ request: 'HEAD /p HTTP/1.1\r\n\r\n', response: 'HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n' }), identity());
    t.handleExchange(exchange({ request: get('/p'), response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' }), identity());
    assert.equal(observations[0]!.requestBodySize, 300);
    assert.equal(observations[0]!.responseBodySize, 7);
    assert.equal(observations[1]!.responseBodySize, 0);
    assert.equal(observations[2]!.responseBodySize, 15, 'chunked: bytes after the head on the wire');
  });
});

describe('HttpTelemetry: client spans', () => {
  it('builds a client span with a scrubbed url.full and server.address from Host', () => {
    const { t, spans, observations } = collect();
    t.handleExchange(
      exchange({
        role: 'client',
        local: { address: '10.0.0.5', port: 41000 },
        remote: { address: '10.0.0.9', port: 8443 },
        request: 'GET /search?q=secret+stuff&page=2 HTTP/1.1\r\nHost: api.example.com:8443\r\nUser-Agent: node\r\n\r\n',
        response: response(404),
      }),
      identity('frontend'),
    );
    const s = spans[0]!;
    assert.equal(s.kind, 'client');
    assert.equal(s.name, 'GET /search');
    assert.equal(s.attributes['url.full'], 'http://api.example.com:8443/search?q=REDACTED&page=REDACTED');
    assert.equal(s.attributes['url.template'], '/search');
    assert.equal(s.attributes['server.address'], 'api.example.com');
    assert.equal(s.attributes['server.port'], 8443);
    assert.equal(s.attributes['network.peer.address'], '10.0.0.9');
    assert.equal(s.attributes['error.type'], '404', '4xx is an error on the client side');
    assert.equal(s.attributes['http.route'], undefined);
    assert.equal(s.attributes['client.address'], undefined);
    assert.equal(observations[0]!.serverAddress, 'api.example.com');
    assert.equal(observations[0]!.serverPort, 8443);
    assert.equal(observations[0]!.route, undefined);
  });

  it('TLS plaintext (ex.tls): https in the metrics, url.scheme on server spans, an https url.full without the default port on client spans', () => {
    const { t, spans, observations } = collect();
    const tls = { role: 'client' as const, tls: true, remote: { address: '10.0.0.9', port: 443 }, request: 'GET /a?k=v HTTP/1.1\r\nHost: api.example.com\r\n\r\n', response: response(200) };
    t.handleExchange(exchange(tls), identity('frontend'));
    t.handleExchange(exchange({ request: get('/b'), response: OK_RESPONSE, tls: true }), identity());
    t.handleExchange(exchange({ request: get('/c'), response: OK_RESPONSE }), identity());
    assert.equal(spans[0]!.attributes['url.full'], 'https://api.example.com/a?k=REDACTED');
    assert.equal(spans[1]!.attributes['url.scheme'], 'https');
    assert.equal(spans[2]!.attributes['url.scheme'], 'http');
    assert.deepEqual(
      observations.map((o) => o.scheme),
      ['https', 'https', 'http'],
    );
  });

  it('falls back to the peer when there is no Host header, and omits the default port', () => {
    const { t, spans } = collect();
    t.handleExchange(exchange({ role: 'client', remote: { address: '::1', port: 80 }, request: 'GET /x HTTP/1.0\r\n\r\n', response: response(200) }), identity());
    assert.equal(spans[0]!.attributes['url.full'], 'http://[::1]/x');
    assert.equal(spans[0]!.attributes['server.address'], '::1');
    assert.equal(spans[0]!.attributes['server.port'], 80);
  });

  it('caps distinct server addresses per service in metrics', () => {
    const { t, observations, spans } = collect({ maxClientPeersPerService: 3 });
    for (let i = 0; i < 10; i++) {
      t.handleExchange(exchange({ role: 'client', request: get('/', `Host: host${i}.example\r\n`), response: OK_RESPONSE }), identity());
    }
    assert.deepEqual(
      observations.map((o) => o.serverAddress),
      ['host0.example', 'host1.example', 'host2.example', ...Array(7).fill('_OTHER')],
    );
    assert.equal(spans[9]!.attributes['server.address'], 'host9.example', 'spans keep the real address');
    assert.equal(t.stats().peersCollapsed, 7);
  });
});

describe('HttpTelemetry: robustness and bounds', () => {
  it('counts parse failures by message and reason, and still reports a bad response', () => {
    const { t, spans } = collect();
    t.handleExchange(exchange({ request: Buffer.from([0x16, 0x03, 0x01, 0, 5]), response: '' }), identity());
    t.handleExchange(exchange({ request: 'GE', response: '' }), identity());
    t.handleExchange(exchange({ request: get('/x'), response: '\x00\x01garbage' }), identity());
    const st = t.stats();
    assert.equal(st.exchanges, 3);
    assert.equal(st.requests, 1);
    assert.deepEqual(
      st.parseFailures.sort((a, b) => a.reason.localeCompare(b.reason)),
      [
        { message: 'request', reason: 'not-http', count: 1 },
        { message: 'response', reason: 'not-http', count: 1 },
        { message: 'request', reason: 'truncated-start-line', count: 1 },
      ],
    );
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.attributes['error.type'], 'malformed-response');
  });

  it('ignores other protocols', () => {
    const { t, spans } = collect();
    t.handleExchange(exchange({ request: get('/'), protocol: 'redis' }), identity());
    assert.equal(spans.length, 0);
    assert.equal(t.stats().otherProtocol, 1);
  });

  it('splits pipelined requests into one span each, paired in order', () => {
    const { t, spans } = collect();
    const request = get('/a') + 'POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc' + get('/c');
    const resp = response(200, 'A') + response(201, 'B') + response(404, 'C');
    t.handleExchange(exchange({ request, response: resp }), identity());
    assert.deepEqual(
      spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['http.request.body.size'], s.attributes['http.response.body.size']]),
      [
        ['GET /a', 200, undefined, 1],
        ['POST /b', 201, 3, 1],
        ['GET /c', 404, undefined, 1],
      ],
    );
  });

  it('does not split when disabled', () => {
    const { t, spans } = collect({ splitPipelined: false });
    t.handleExchange(exchange({ request: get('/a') + get('/b'), response: OK_RESPONSE }), identity());
    assert.equal(spans.length, 1);
  });

  it('drops (and counts) services past the cap, and forgetService frees a slot', () => {
    const { t, spans } = collect({ maxServices: 2 });
    const a = identity('a', { pid: 1 });
    const b = identity('b', { pid: 2 });
    const c = identity('c', { pid: 3 });
    for (const s of [a, b, c, a]) t.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), s);
    assert.deepEqual(spans.map((s) => s.service.name), ['a', 'b', 'a']);
    assert.equal(t.stats().servicesRejected, 1);
    assert.equal(t.stats().services, 2);
    t.forgetService(a);
    t.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), c);
    assert.equal(spans.at(-1)!.service.name, 'c');
  });

  it('at the cap, reclaims instances idle past idleServiceMs', async () => {
    const { t, spans } = collect({ maxServices: 1, idleServiceMs: 20 });
    t.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity('old', { pid: 1 }));
    t.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity('new', { pid: 2 }));
    assert.equal(t.stats().servicesRejected, 1, 'the old one is not idle yet');
    await new Promise((r) => setTimeout(r, 1100));
    t.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity('new', { pid: 2 }));
    assert.deepEqual(spans.map((s) => s.service.name), ['old', 'new']);
    assert.equal(t.stats().services, 1);
  });

  it('isolates a throwing listener', () => {
    const t = new HttpTelemetry();
    const seen: string[] = [];
    t.onSpan(() => {
      throw new Error('boom');
    });
    t.onSpan((s) => seen.push(s.name));
    t.onRequest(() => {
      throw new Error('boom');
    });
    t.handleExchange(exchange({ request: get('/'), response: OK_RESPONSE }), identity());
    assert.deepEqual(seen, ['GET /']);
    assert.equal(t.stats().listenerErrors, 2);
  });

  it('10,000 distinct /users/<id> give one route; arbitrary names are bounded by fan-out and the cap', () => {
    const { t, observations } = collect();
    for (let i = 0; i < 10_000; i++) t.handleExchange(exchange({ request: get(`/users/${100_000 + i}`), response: OK_RESPONSE }), identity());
    assert.deepEqual(new Set(observations.map((o) => o.route)), new Set(['/users/{id}']));
    const names = (i: number) => `/${'abcdefghij'[i % 10]}${'klmnopqrst'[Math.floor(i / 10) % 10]}${'uvwxyzabcd'[Math.floor(i / 100)]}`;
    observations.length = 0;
    for (let i = 0; i < 1000; i++) t.handleExchange(exchange({ request: get(names(i)), response: OK_RESPONSE }), identity());
    assert.equal(new Set(observations.map((o) => o.route)).size, 10, "9 new names beside 'users' fill the root's 10 slots, then {var}");

    const raw = collect({ routes: { unmatched: 'path', maxRoutesPerService: 20 } });
    for (let i = 0; i < 1000; i++) raw.t.handleExchange(exchange({ request: get(names(i)), response: OK_RESPONSE }), identity());
    const routes = new Set(raw.observations.map((o) => o.route));
    assert.equal(routes.size, 21);
    assert.ok(routes.has('/**'));
    assert.equal(raw.t.stats().routesCollapsed.get('shop'), 980);
  });

  it('never throws on random exchanges', () => {
    const { t } = collect();
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 5000; i++) {
      const req = Buffer.from(get(`/p${i}`) + 'x'.repeat(Math.floor(rand() * 50)), 'latin1');
      for (let k = 0; k < 3; k++) req[Math.floor(rand() * req.length)] = Math.floor(rand() * 256);
      const res = Buffer.from(OK_RESPONSE, 'latin1');
      res[Math.floor(rand() * res.length)] = Math.floor(rand() * 256);
      t.handleExchange(exchange({ request: req, response: res, role: i % 2 ? 'client' : 'server', requestBytes: Math.floor(rand() * 1e6) }), identity());
    }
    assert.equal(t.stats().internalErrors, 0);
  });
});

describe('HttpTelemetry: one RequestRecord per request', () => {
  it('hands every listener the same record, builds its Span once and only on demand', () => {
    const t = new HttpTelemetry();
    const records: RequestRecord[] = [];
    const built: boolean[] = [];
    t.onRequest((r) => records.push(r));
    t.onRequest((r) => {
      built.push(r.spanBuilt);
      if (records.length === 2) r.span(); // the second request's span is asked for
    });
    t.handleExchange(exchange({ request: get('/a'), response: OK_RESPONSE }), identity());
    t.handleExchange(exchange({ request: get('/b'), response: OK_RESPONSE }), identity());
    assert.equal(records.length, 2);
    assert.deepEqual(built, [false, false]);
    assert.equal(records[0]!.spanBuilt, false, 'nobody asked: no Span built');
    assert.equal(records[1]!.spanBuilt, true);
    assert.equal(records[1]!.span(), records[1]!.span(), 'built once');
    assert.equal(records[1]!.span().name, 'GET /b');
    assert.equal(records[1]!.family, 'http');

    const spans: Span[] = [];
    const seen: RequestRecord[] = [];
    const t2 = new HttpTelemetry();
    t2.onRequest((r) => {
      seen.push(r);
      r.span();
    });
    t2.onSpan((s) => spans.push(s));
    t2.handleExchange(exchange({ request: get('/c'), response: OK_RESPONSE }), identity());
    assert.equal(spans.length, 1);
    assert.equal(spans[0], seen[0]!.span(), 'span listeners get the Span the record built');
    t.close();
    t2.close();
  });
});
