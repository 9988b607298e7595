// waggle-test: no-kernel
// HTTP/2 operations (the http2 module's 'http' family) through HttpTelemetry:
// the same records, routes, series and spans as HTTP/1, with
// network.protocol.version "2"; gRPC operations through OperationTelemetry:
// rpc_server/client_duration_seconds with Beyla's labels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrometheusExporter } from '../../src/export/index.js';
import type { LocatedOperation, Operation } from '../../src/protocols/module.js';
import { HttpTelemetry, OperationTelemetry, type Span } from '../../src/telemetry/index.js';
import { parseSeries } from '../helpers/agent.js';
import { identity } from './helpers/exchanges.js';

const server = { address: '127.0.0.1', port: 8080 };
const client = { address: '127.0.0.1', port: 41000 };

function located(role: 'client' | 'server', attributes: Operation['attributes'], family: 'http' | 'rpc' = 'http', errorType?: string): LocatedOperation {
  const end = Number(process.hrtime.bigint());
  const op: Operation = { family, role, startNs: end - 3_000_000, endNs: end, name: 'x', operation: String(attributes['http.request.method'] ?? 'x'), attributes };
  if (errorType !== undefined) op.errorType = errorType;
  return { protocol: 'http2', op, pid: 4242, connectionId: 'c1', local: role === 'client' ? client : server, remote: role === 'client' ? server : client };
}

const get = (path: string, status: number, extra: Operation['attributes'] = {}): Operation['attributes'] => ({
  'http.request.method': 'GET',
  'url.path': path,
  'url.scheme': 'http',
  'network.protocol.version': '2',
  'http.request.header.host': '127.0.0.1:8080',
  'http.response.status_code': status,
  'http.request.body.size': 0,
  'http.response.body.size': 2,
  ...extra,
});

describe('HTTP/2 through HttpTelemetry', () => {
  it('server side: routes, span attributes, series labelled network_protocol_version="2"', async () => {
    const t = new HttpTelemetry({ routes: { patterns: ['/users/{id}'] } });
    const spans: Span[] = [];
    t.onSpan((s) => spans.push(s));
    const svc = identity('h2-server');
    for (let i = 0; i < 7; i++) t.handleOperation(located('server', get(`/users/${i}`, 200, { 'url.query': 'token=secret&x=1', 'user_agent.original': 'curl/7.88.1' })), svc);
    for (let i = 0; i < 3; i++) t.handleOperation(located('server', get('/users/9', 503)), svc);
    t.handleOperation(located('server', get('/users/1', 200), 'http', 'CANCEL'), svc);
    assert.equal(spans.length, 11);
    const s = spans[0]!;
    assert.equal(s.name, 'GET /users/{id}');
    assert.equal(s.kind, 'server');
    assert.deepEqual(
      { ...s.attributes },
      {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'server.address': '127.0.0.1',
        'server.port': 8080,
        'network.peer.address': '127.0.0.1',
        'network.peer.port': 41000,
        'network.transport': 'tcp',
        'network.protocol.version': '2',
        'user_agent.original': 'curl/7.88.1',
        'http.request.body.size': 0,
        'http.response.body.size': 2,
        'url.scheme': 'http',
        'url.path': '/users/0',
        'url.query': 'token=REDACTED&x=REDACTED',
        'http.route': '/users/{id}',
        'client.address': '127.0.0.1',
        'client.port': 41000,
      },
    );
    assert.equal(spans[7]!.status, 'error');
    assert.equal(spans[7]!.attributes['error.type'], '503');
    assert.equal(spans[10]!.attributes['error.type'], 'CANCEL');
    const text = await new PrometheusExporter({ metrics: t.metrics }).metricsText();
    const counts = parseSeries(text)
      .filter((x) => x.name === 'http_server_request_duration_seconds_count')
      .map((x) => `${x.labels.network_protocol_version} ${x.labels.http_route} ${x.labels.http_response_status_code} ${x.labels.error_type ?? ''} ${x.labels.url_scheme} = ${x.value}`)
      .sort();
    assert.deepEqual(counts, ['2 /users/{id} 200  http = 7', '2 /users/{id} 200 CANCEL http = 1', '2 /users/{id} 503 503 http = 3']);
    assert.equal(t.stats().operations, 11);
    t.close();
  });

  it('client side: url.full from the authority, server address and port labels', async () => {
    const t = new HttpTelemetry();
    const spans: Span[] = [];
    t.onSpan((s) => spans.push(s));
    t.handleOperation(located('client', get('/a', 404)), identity('h2-client'));
    assert.equal(spans[0]!.attributes['url.full'], 'http://127.0.0.1:8080/a');
    assert.equal(spans[0]!.attributes['error.type'], '404');
    const text = await new PrometheusExporter({ metrics: t.metrics }).metricsText();
    const c = parseSeries(text).find((x) => x.name === 'http_client_request_duration_seconds_count')!;
    assert.deepEqual([c.labels.server_address, c.labels.server_port, c.labels.network_protocol_version, c.value], ['127.0.0.1', '8080', '2', 1]);
    t.close();
  });
});

describe('gRPC through OperationTelemetry', () => {
  it('rpc_server_duration_seconds and rpc_client_duration_seconds with rpc_system, rpc_service, rpc_method, rpc_grpc_status_code', async () => {
    const t = new OperationTelemetry();
    const spans: Span[] = [];
    t.onSpan((s) => spans.push(s));
    const rpc = (status: number): Operation['attributes'] => ({ 'rpc.system': 'grpc', 'rpc.service': 'demo.Greeter', 'rpc.method': 'Find', 'rpc.grpc.status_code': status, 'network.protocol.version': '2' });
    for (let i = 0; i < 4; i++) t.handle(located('server', rpc(0), 'rpc'), identity('grpc-server'));
    for (let i = 0; i < 2; i++) t.handle(located('server', rpc(5), 'rpc'), identity('grpc-server'));
    t.handle(located('client', rpc(5), 'rpc', 'NOT_FOUND'), identity('grpc-client'));
    assert.equal(spans.length, 7);
    assert.equal(spans[6]!.attributes['error.type'], 'NOT_FOUND');
    assert.equal(spans[6]!.kind, 'client');
    const http = new HttpTelemetry();
    const text = await new PrometheusExporter({ metrics: http.metrics, operations: t.metrics }).metricsText();
    http.close();
    const rows = parseSeries(text)
      .filter((x) => x.name.startsWith('rpc_') && x.name.endsWith('_count'))
      .map((x) => `${x.name} ${x.labels.service_name} ${x.labels.rpc_system} ${x.labels.rpc_service} ${x.labels.rpc_method} ${x.labels.rpc_grpc_status_code} ${x.labels.error_type ?? '-'} ${x.labels.server_port ?? '-'} = ${x.value}`)
      .sort();
    assert.deepEqual(rows, [
      'rpc_client_duration_seconds_count grpc-client grpc demo.Greeter Find 5 NOT_FOUND 8080 = 1',
      'rpc_server_duration_seconds_count grpc-server grpc demo.Greeter Find 0 - - = 4',
      'rpc_server_duration_seconds_count grpc-server grpc demo.Greeter Find 5 - - = 2',
    ]);
    t.close();
  });
});
