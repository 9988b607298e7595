// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OtlpTraceExporter, createSampler } from '../../src/export/index.js';
import { HttpTelemetry, type Span } from '../../src/telemetry/index.js';
import { OK_RESPONSE, exchange, get, identity } from '../telemetry/helpers/exchanges.js';

function spans(n: number, headers = ''): Span[] {
  const t = new HttpTelemetry();
  const out: Span[] = [];
  t.onSpan((s) => out.push(s));
  for (let i = 0; i < n; i++) t.handleExchange(exchange({ request: get('/', headers), response: OK_RESPONSE }), identity());
  t.close();
  return out;
}

describe('trace samplers', () => {
  it('traceidratio keeps about the ratio, and decides the same for the same trace id', () => {
    const all = spans(10_000);
    const keep = createSampler({ name: 'traceidratio', ratio: 0.25 });
    const kept = all.filter(keep).length;
    assert.ok(kept > 2250 && kept < 2750, `kept ${kept} of 10000`);
    for (const s of all.slice(0, 100)) assert.equal(keep(s), keep({ ...s, spanId: 'ffffffffffffffff' }));
  });

  it('always_on, always_off, ratio 0 and 1', () => {
    const [s] = spans(1);
    assert.equal(createSampler({ name: 'always_on', ratio: 1 })(s!), true);
    assert.equal(createSampler({ name: 'always_off', ratio: 1 })(s!), false);
    assert.equal(createSampler({ name: 'traceidratio', ratio: 0 })(s!), false);
    assert.equal(createSampler({ name: 'traceidratio', ratio: 1 })(s!), true);
  });

  it('parent-based samplers follow the incoming traceparent flag', () => {
    const [sampled] = spans(1, 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n');
    const [notSampled] = spans(1, 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n');
    const [root] = spans(1);
    assert.equal(sampled!.parentSampled, true);
    assert.equal(notSampled!.parentSampled, false);
    assert.equal(root!.parentSampled, undefined);
    const off = createSampler({ name: 'parentbased_always_off', ratio: 1 });
    const on = createSampler({ name: 'parentbased_always_on', ratio: 1 });
    assert.deepEqual([off(sampled!), off(notSampled!), off(root!)], [true, false, false]);
    assert.deepEqual([on(sampled!), on(notSampled!), on(root!)], [true, false, true]);
  });

  it('the OTLP trace exporter counts what its sampler leaves out', async () => {
    const traces = new OtlpTraceExporter({ url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json', headers: {}, timeoutMs: 1000, compression: 'none', sampler: { name: 'always_off', ratio: 1 }, maxQueueSize: 10, maxExportBatchSize: 10, scheduleDelayMs: 60_000 });
    spans(5).forEach(traces.export);
    assert.equal(traces.sampledOut, 5);
    assert.equal(traces.queued, 0);
    await traces.shutdown();
    assert.deepEqual(traces.stats(), { exported: 0, dropped: 0, failed: 0, exportFailures: 0 });
  });
});
