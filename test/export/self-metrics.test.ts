// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SelfMetrics } from '../../src/export/index.js';

describe('SelfMetrics', () => {
  it('reads counters and gauges from their owners at scrape time', async () => {
    const registry = new Registry();
    const self = new SelfMetrics(registry, { processMetrics: false });
    let received = 10;
    let watched = 3;
    self.counter('records_received_total', 'Records read.', () => received);
    self.gauge('watched_processes', 'Processes watched.', () => watched);
    self.counter('drops_total', 'Drops by map.', () => [[{ map: 'events' }, 2], [{ map: 'conns' }, 5]] as const, ['map']);
    let text = await registry.metrics();
    assert.ok(text.includes('# TYPE waggle_records_received_total counter\nwaggle_records_received_total 10\n'));
    assert.ok(text.includes('# TYPE waggle_watched_processes gauge\nwaggle_watched_processes 3\n'));
    assert.ok(text.includes('waggle_drops_total{map="events"} 2\nwaggle_drops_total{map="conns"} 5'));
    received = 25;
    watched = 1;
    text = await registry.metrics();
    assert.ok(text.includes('waggle_records_received_total 25\n'));
    assert.ok(text.includes('waggle_watched_processes 1\n'));
  });

  it('exposes exporter counters by exporter name', async () => {
    const registry = new Registry();
    const self = new SelfMetrics(registry, { processMetrics: false });
    self.registerExporter('otlp_traces', { stats: () => ({ exported: 5, dropped: 1, failed: 2, exportFailures: 1 }) });
    self.registerExporter('console', { stats: () => ({ exported: 9, dropped: 0, failed: 0, exportFailures: 0 }) });
    const text = await registry.metrics();
    assert.ok(text.includes('waggle_exported_total{exporter="otlp_traces"} 5\nwaggle_exported_total{exporter="console"} 9'));
    assert.ok(text.includes('waggle_spans_dropped_total{exporter="otlp_traces"} 1'));
    assert.ok(text.includes('waggle_export_failures_total{exporter="otlp_traces"} 1'));
  });

  it('adds prefixed process metrics: CPU and RSS', async () => {
    const registry = new Registry();
    new SelfMetrics(registry);
    const text = await registry.metrics();
    assert.match(text, /\nwaggle_process_cpu_seconds_total [\d.]+\n/);
    assert.match(text, /\nwaggle_process_resident_memory_bytes \d+\n/);
  });
});
