// waggle-test: no-kernel
// --print-traces lines and JSON lines, written to real streams.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ConsoleSpanPrinter, JsonLinesSpanWriter, formatSpanLine } from '../../src/export/index.js';
import { HttpTelemetry, type Span } from '../../src/telemetry/index.js';
import { OK_RESPONSE, exchange, get, identity, response } from '../telemetry/helpers/exchanges.js';

function spansOf(...inputs: Parameters<typeof exchange>[0][]): Span[] {
  const t = new HttpTelemetry();
  const spans: Span[] = [];
  t.onSpan((s) => spans.push(s));
  for (const i of inputs) t.handleExchange(exchange(i), identity('shop', { pid: 321 }));
  t.close();
  return spans;
}

describe('console printer', () => {
  it('prints one readable line per span', () => {
    const [server, failed, client] = spansOf(
      { request: get('/users/42'), response: OK_RESPONSE, durationNs: 2_410_000, remote: { address: '10.0.0.7', port: 52344 } },
      { request: get('/boom'), response: response(500), durationNs: 1_500_000_000 },
      { role: 'client', request: get('/missing?key=v', 'Host: api.local:8080\r\n'), response: response(404), durationNs: 1_100_000 },
    );
    assert.match(formatSpanLine(server!), /^\d\d:\d\d:\d\d\.\d{3} shop\[321\] SERVER GET \/users\/\{id\} 200 2\.41ms \/users\/42 ← 10\.0\.0\.7:52344 trace=[0-9a-f]{32}$/);
    assert.match(formatSpanLine(failed!), / SERVER GET \/boom 500 ERR 1\.50s ← 127\.0\.0\.1:50000 trace=/);
    assert.match(formatSpanLine(client!), / CLIENT GET \/missing 404 ERR 1\.10ms → http:\/\/api\.local:8080\/missing\?key=REDACTED trace=/);
  });

  it('writes through a stream and counts what it drops when the stream is stuck', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const printer = new ConsoleSpanPrinter(out);
    const spans = spansOf({ request: get('/a'), response: OK_RESPONSE }, { request: get('/b'), response: OK_RESPONSE });
    spans.forEach(printer.print);
    await new Promise((r) => setImmediate(r));
    assert.equal(text.split('\n').filter(Boolean).length, 2);
    assert.deepEqual(printer.stats(), { exported: 2, dropped: 0, failed: 0, exportFailures: 0 });

    // A writable that never drains: past 1 KiB buffered, lines are dropped and counted.
    const stuck = new Writable({ highWaterMark: 16, write: () => {} });
    const bounded = new ConsoleSpanPrinter(stuck, 1024);
    for (let i = 0; i < 100; i++) bounded.print(spans[0]!);
    const st = bounded.stats();
    assert.equal(st.exported + st.dropped, 100);
    assert.ok(st.dropped > 80, `dropped ${st.dropped}`);
    assert.ok(stuck.writableLength < 1024 + 400);
  });
});

describe('JSON lines', () => {
  it('writes one JSON object per span with string nanosecond timestamps and the resource', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const w = new JsonLinesSpanWriter(out);
    const spans = spansOf(
      { request: get('/users/7', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n'), response: OK_RESPONSE },
      { request: get('/x'), response: '', incomplete: 'closed-before-response' },
    );
    spans.forEach(w.write);
    await new Promise((r) => setImmediate(r));
    const objs = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(objs.length, 2);
    const o = objs[0];
    assert.deepEqual(Object.keys(o), ['time', 'traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'durationMs', 'status', 'attributes', 'resource']);
    assert.equal(o.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(o.parentSpanId, 'b7ad6b7169203331');
    assert.equal(o.name, 'GET /users/{id}');
    assert.match(o.startTimeUnixNano, /^\d{19}$/);
    assert.ok(Math.abs(new Date(o.time).getTime() - Date.now()) < 10_000);
    assert.equal(o.durationMs, 2);
    assert.equal(o.attributes['http.route'], '/users/{id}');
    assert.deepEqual(o.resource, { 'service.name': 'shop', 'service.instance.id': 'shop-321', 'process.pid': 321, 'process.executable.name': 'python3' });
    assert.equal(objs[1].status, 'error');
    assert.equal(objs[1].statusMessage, 'closed-before-response');
  });
});
