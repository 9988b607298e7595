// waggle-test: no-kernel
// attachUi: how the agent mounts the UI on its one listener, beside /metrics,
// and feeds the live store from its request listeners.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { startHealthSampler } from '../../src/store/index.js';
import { RequestRecord } from '../../src/telemetry/index.js';
import type { Span } from '../../src/telemetry/span.js';
import { AgentHttpServer, attachUi } from '../../src/ui/index.js';
import { demoRequest } from '../store/synthetic-spans.js';

test('attachUi shares the listener with /metrics, feeds the store, exports its self-metrics, and detaches', async () => {
  const listeners = new Set<(r: RequestRecord) => void>();
  const onRequest = (l: (r: RequestRecord) => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };
  const emit = (spans: Span[]) => spans.forEach((s) => listeners.forEach((l) => l(RequestRecord.fromSpan(s))));

  const registry = new Registry();
  const server = new AgentHttpServer({ port: 0 });
  server.route('GET', '/metrics', async (_req, res) => {
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
  });
  const ui = attachUi(server, { onRequest, registry, features: () => ({ security: true, profiling: false }) });
  const sampler = startHealthSampler(ui.store, { watched: () => [{ pid: 1, service: 'x' }], counters: () => ({ 'records.received': 7 }) }, 60_000);
  await server.listen();
  try {
    const spans = [...demoRequest(Date.now(), 0), ...demoRequest(Date.now(), 1)];
    emit(spans);
    const overview = (await (await fetch(`${server.url}/api/overview`)).json()) as { services: Array<{ name: string }> };
    assert.deepEqual(overview.services.map((s) => s.name).sort(), ['api', 'frontend', 'loadgen', 'nginx']);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^waggle_store_spans_ingested_total ${spans.length}$`, 'm'));
    assert.deepEqual(((await (await fetch(`${server.url}/api/meta`)).json()) as { features: unknown }).features, { security: true, profiling: false });
    const health = (await (await fetch(`${server.url}/api/health`)).json()) as { latest: { watched: unknown[]; counters: Record<string, number> } };
    assert.equal(health.latest.watched.length, 1);
    assert.equal(health.latest.counters['records.received'], 7);

    ui.close();
    assert.equal(listeners.size, 0, 'closing the UI unsubscribes from requests');
  } finally {
    sampler.stop();
    ui.close();
    await server.close();
  }
});
