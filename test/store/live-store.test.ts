// waggle-test: no-kernel
// The live store: exact RED counts, windows and timelines, the service map,
// spans kept under a flood, caps, forgetting, and its self-metrics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { LOCAL_CALLERS_LABEL, LiveStore, OTHER_OPERATIONS, opKey, registerStoreMetrics } from '../../src/store/index.js';
import { PORTS, demoRequest, httpSpan } from './synthetic-spans.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0); // slot-aligned

function clock(start = T0) {
  let now = start;
  return { now: () => now, set: (t: number) => (now = t), advance: (ms: number) => (now += ms) };
}

describe('live store', () => {
  test('N server spans give exactly N in the overview, errors exact, rate over the window', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now });
    // 600 requests over the first 60 s, 1 in 10 a 500.
    for (let i = 0; i < 600; i++) {
      store.addSpan(httpSpan({ service: 'api', kind: 'server', route: '/items', status: i % 10 === 0 ? 500 : 200, endMs: T0 + i * 100, durationMs: 5 + (i % 5), port: 8081 }));
    }
    c.set(T0 + 60_000);
    const o = store.overview(60_000);
    assert.equal(o.services.length, 1);
    const s = o.services[0]!;
    assert.equal(s.name, 'api');
    assert.equal(s.server?.count, 600);
    assert.equal(s.server?.errors, 60);
    assert.equal(s.server?.errorRatio, 0.1);
    // The 60 s window here spans the 6 complete slots plus the empty current one (0 s in): 600 / 60 s.
    assert.equal(s.server?.rate, 10);
    assert.ok(s.server!.p50Ms! >= 6.5 && s.server!.p50Ms! <= 7.5, `p50 ${s.server?.p50Ms}`);
    assert.ok(s.server!.p99Ms! >= 8.6 && s.server!.p99Ms! <= 9.4, `p99 ${s.server?.p99Ms}`);
    assert.equal(s.client, null);
    assert.equal(s.instances.length, 1);
    assert.equal(s.instances[0]!.executable, 'python3');
    // Sparkline: one point per complete 10 s slot since the service appeared (up to 15 min): six of 100 = 10/s.
    assert.deepEqual(s.spark, [10, 10, 10, 10, 10, 10]);
    c.set(T0 + 15 * 60_000);
    assert.equal(store.overview().services[0]!.spark.length, 89);
  });

  test('service page: per-operation table, timeline, histogram and heatmap agree', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now });
    for (let i = 0; i < 300; i++) {
      store.addSpan(httpSpan({ service: 'api', kind: 'server', route: '/fast', endMs: T0 + i * 100, durationMs: 1.5, port: 8081 }));
      if (i % 3 === 0) store.addSpan(httpSpan({ service: 'api', kind: 'server', route: '/slow', endMs: T0 + i * 100, durationMs: 300, port: 8081 }));
      if (i % 2 === 0) store.addSpan(httpSpan({ service: 'api', kind: 'client', route: '/static', host: 'cdn.example', endMs: T0 + i * 100, durationMs: 40, port: 443, peerAddress: '203.0.113.9' }));
    }
    c.set(T0 + 30_000);
    const v = store.service('api', { windowMs: 60_000, rangeMs: 15 * 60_000 })!;
    assert.ok(v);
    assert.deepEqual(
      v.server!.operations.map((o) => [o.name, o.count]),
      [
        ['GET /fast', 300],
        ['GET /slow', 100],
      ],
    );
    assert.equal(v.client!.operations[0]!.peer, 'cdn.example:443');
    assert.equal(v.client!.operations[0]!.count, 150);
    // Histogram: 300 under 2 ms, 100 under 500 ms.
    const h = v.server!.histogram;
    assert.equal(h.reduce((a, b) => a + b, 0), 400);
    assert.equal(h[v.boundsMs.indexOf(2)], 300);
    assert.equal(h[v.boundsMs.indexOf(500)], 100);
    // Timeline: 10 s steps; the three complete slots hold 100 + 34/33/33 spans.
    const tl = v.server!.timeline;
    assert.equal(tl.stepMs, 10_000);
    assert.deepEqual(tl.rate.slice(-3), [13.4, 13.3, 13.3]);
    assert.equal(tl.t.at(-1), T0 + 20_000);
    assert.deepEqual(
      tl.heatmap.slice(-3).map((row) => row.reduce((a, b) => a + b, 0)),
      [134, 133, 133],
    );
    // Narrowed to one operation.
    const only = store.service('api', { operation: opKey('server', 'GET /slow', undefined) })!;
    assert.deepEqual(only.server!.timeline.rate.slice(-3), [3.4, 3.3, 3.3]);
    assert.equal(store.service('nope'), undefined);
  });

  test('service map: demo topology with edges joined across both ends, external peers, unwatched local callers', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now, localAddresses: () => ['127.0.0.1', '192.0.2.2'] });
    for (let i = 0; i < 400; i++) store.addSpans(demoRequest(T0 + i * 50, i));
    // api calls an external host by name.
    for (let i = 0; i < 40; i++) store.addSpan(httpSpan({ service: 'api', kind: 'client', route: '/v1/rates', host: 'rates.example.com', peerAddress: '198.51.100.7', port: 443, endMs: T0 + i * 100, durationMs: 30 }));
    // curl (not watched) hits the frontend 25 times from loopback; a remote host 10 times.
    for (let i = 0; i < 25; i++) store.addSpan(httpSpan({ service: 'frontend', kind: 'server', route: '/', endMs: T0 + i * 100, durationMs: 3, port: PORTS.frontend }));
    for (let i = 0; i < 10; i++) store.addSpan(httpSpan({ service: 'frontend', kind: 'server', route: '/', endMs: T0 + i * 100, durationMs: 3, port: PORTS.frontend, peerAddress: '203.0.113.50' }));
    c.set(T0 + 20_000);
    const m = store.serviceMap(60_000);
    const label = (id: string) => m.nodes.find((n) => n.id === id)!.label;
    const edges = Object.fromEntries(m.edges.map((e) => [`${label(e.from)} -> ${label(e.to)}`, e]));
    assert.deepEqual(Object.keys(edges).sort(), [
      '203.0.113.50 -> frontend',
      'api -> nginx',
      'api -> rates.example.com:443',
      'frontend -> api',
      'loadgen -> frontend',
      `${LOCAL_CALLERS_LABEL} -> frontend`,
    ]);
    assert.equal(edges['loadgen -> frontend']!.count, 400);
    assert.equal(edges['loadgen -> frontend']!.side, 'client');
    assert.equal(edges['frontend -> api']!.count, 400);
    assert.equal(edges['api -> nginx']!.count, 200);
    assert.equal(edges['api -> rates.example.com:443']!.count, 40);
    assert.equal(edges[`${LOCAL_CALLERS_LABEL} -> frontend`]!.count, 25);
    assert.equal(edges['203.0.113.50 -> frontend']!.count, 10);
    // Errors: /fail is a 500 (1 in 4) and /missing a 404 (client-side error): 2 in 4 on the client edge.
    assert.equal(edges['frontend -> api']!.errors, 200);
    assert.equal(m.nodes.find((n) => n.label === 'nginx')!.type, 'service');
    // Client-side operations and spans name the service listening at the peer.
    const frontendCalls = store.service('frontend')!.client!.operations;
    assert.ok(frontendCalls.length > 0 && frontendCalls.every((o) => o.peerService === 'api'), JSON.stringify(frontendCalls.map((o) => o.peerService)));
    assert.equal(store.service('api')!.client!.operations.find((o) => o.peer === 'rates.example.com:443')!.peerService, null);
    assert.ok(store.spans({ service: 'loadgen', limit: 5 }).spans.every((s) => s.peerService === 'frontend'));
    assert.equal(m.nodes.find((n) => n.label === 'rates.example.com:443')!.type, 'external');
  });

  test('the map joins the two ends even without the client local port (no double edge)', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now, localAddresses: () => ['127.0.0.1'] });
    for (let i = 0; i < 100; i++) {
      store.addSpan(httpSpan({ service: 'frontend', kind: 'client', route: '/api/items', endMs: T0 + i * 100, durationMs: 5, port: PORTS.api, noLocalEndpoint: true }));
      store.addSpan(httpSpan({ service: 'api', kind: 'server', route: '/api/items', endMs: T0 + i * 100 - 1, durationMs: 4, port: PORTS.api }));
    }
    c.set(T0 + 10_000);
    const m = store.serviceMap(60_000);
    assert.equal(m.edges.length, 1);
    assert.equal(m.edges[0]!.from, 'service:frontend');
    assert.equal(m.edges[0]!.to, 'service:api');
    assert.equal(m.edges[0]!.count, 100);
  });

  test('spans: bounded, errors and slow spans survive a flood, filters and traces work', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now, maxSpans: 1000 });
    const errorIds: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const err = i % 5000 === 0;
      const s = httpSpan({ service: i % 2 ? 'a' : 'b', kind: 'server', route: '/x', status: err ? 503 : 200, endMs: T0 + i, durationMs: 2, port: 1 });
      if (err) errorIds.push(s.spanId);
      store.addSpan(s);
    }
    assert.ok(store.spanCount <= 1000, `${store.spanCount} spans kept`);
    assert.equal(store.spansEvicted + store.spansNotKept, 50_000 - store.spanCount);
    assert.ok(store.spansNotKept > 40_000, 'busy services keep a sample, not every span');
    const errors = store.spans({ status: 'error', limit: 100 }).spans;
    assert.deepEqual(errors.map((s) => s.spanId).sort(), [...errorIds].sort());
    assert.ok(errors.every((s) => s.statusCode === 503 && s.service === 'b'));
    assert.equal(store.spans({ service: 'a', limit: 10 }).spans.length, 10);
    assert.ok(store.spans({ service: 'a', limit: 10 }).spans.every((s) => s.service === 'a'));
    // Newest first.
    const recent = store.spans({ limit: 3 }).spans;
    assert.ok(recent[0]!.startMs >= recent[1]!.startMs && recent[1]!.startMs >= recent[2]!.startMs);

    const s2 = new LiveStore({ now: c.now });
    const req = demoRequest(T0, 1);
    s2.addSpans(req);
    const trace = s2.trace(req[0]!.traceId);
    assert.equal(trace.length, 6);
    assert.equal(s2.span(req[0]!.spanId)?.attributes['http.route'], '/slow');
    assert.equal(s2.spans({ minDurationMs: 100 }).spans.length, 6);
    assert.equal(s2.spans({ minDurationMs: 200 }).spans.length, 0);
    assert.equal(s2.spans({ operation: 'orders' }).spans.length, 2);
    assert.equal(s2.spans({ side: 'client' }).spans.length, 3);
  });

  test('caps: services refused and counted, operations collapse, late spans counted', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now, maxServices: 3, maxOperationsPerService: 10 });
    for (let i = 0; i < 5; i++) store.addSpan(httpSpan({ service: `s${i}`, kind: 'server', route: '/', endMs: T0, durationMs: 1, port: 1 }));
    assert.equal(store.serviceCount, 3);
    assert.equal(store.spansDroppedServiceCap, 2);
    for (let i = 0; i < 1000; i++) store.addSpan(httpSpan({ service: 's0', kind: 'server', route: `/users/${i}`, endMs: T0 + 1, durationMs: 1, port: 1 }));
    const v = store.service('s0', { windowMs: 60_000 })!;
    assert.equal(v.server!.operations.length, 11);
    const other = v.server!.operations.find((o) => o.name === OTHER_OPERATIONS)!;
    assert.equal(other.count, 1000 - 9);
    assert.equal(v.server!.summary.count, 1001);
    assert.equal(store.operationsCollapsed, 991);
    c.set(T0 + 2 * 3600_000);
    store.addSpan(httpSpan({ service: 's0', kind: 'server', route: '/', endMs: T0 + 2 * 3600_000, durationMs: 1, port: 1 }));
    store.addSpan(httpSpan({ service: 's0', kind: 'server', route: '/', endMs: T0 + 3600_000, durationMs: 1, port: 1 }));
    assert.equal(store.spansLate, 1);
  });

  test('idle services, operations and edges are forgotten after the history ends', () => {
    const c = clock();
    const store = new LiveStore({ now: c.now });
    store.addSpans(demoRequest(T0, 0));
    assert.equal(store.serviceCount, 4);
    c.set(T0 + 3600_000 + 20_000);
    store.sweep();
    assert.equal(store.serviceCount, 0);
    assert.equal(store.spanCount, 0);
    assert.equal(store.edgeCount, 0);
    assert.equal(store.operationTotal, 0);
  });

  test('self-metrics on a prom-client registry', async () => {
    const c = clock();
    const store = new LiveStore({ now: c.now, maxSpans: 10 });
    let sent = 0;
    for (let i = 0; i < 5; i++) {
      const spans = demoRequest(T0 + i * 10, i);
      sent += spans.length;
      store.addSpans(spans);
    }
    const registry = new Registry();
    registerStoreMetrics(store, registry);
    const text = await registry.metrics();
    assert.match(text, new RegExp(`^waggle_store_spans_ingested_total ${sent}$`, 'm'));
    assert.match(text, /^waggle_store_spans \d+$/m);
    assert.match(text, /^waggle_store_services 4$/m);
    assert.match(text, /^waggle_store_memory_bytes \d+/m);
    assert.match(text, new RegExp(`^waggle_store_spans_evicted_total ${store.spansEvicted}$`, 'm'));
    assert.ok(store.spansEvicted > 0);
  });

  test('security events and health snapshots', () => {
    const store = new LiveStore();
    for (let i = 0; i < 2500; i++) store.addSecurityEvent({ time: new Date(T0 + i).toISOString(), type: i % 2 ? 'process_exec' : 'policy', policy: 'p', process: { pid: i, binary: '/usr/bin/cat' } });
    assert.equal(store.security.size, 2000);
    const last = store.security.list({ limit: 5 });
    assert.deepEqual(last.map((e) => e.seq), [2499, 2498, 2497, 2496, 2495]);
    assert.equal(store.security.list({ afterSeq: 2497 }).length, 2);
    assert.equal(store.security.list({ type: 'policy', limit: 3 }).every((e) => e.type === 'policy'), true);

    const features = [
      { name: 'http', title: 'RED metrics', state: 'off' as const, reason: "the verifier rejected program 'cap_read': too large" },
      { name: 'discovery', title: 'kernel events', state: 'up' as const },
    ];
    store.health.record({ timeMs: T0, features, watched: [{ pid: 1, service: 'a' }], counters: { 'records.received': 100, 'records.dropped.kernel': 0 }, gauges: {}, cpuSeconds: 1, rssBytes: 50e6, heapUsedBytes: 20e6 });
    store.health.record({ timeMs: T0 + 5000, features, watched: [{ pid: 1, service: 'a' }], counters: { 'records.received': 600, 'records.dropped.kernel': 5 }, gauges: {}, cpuSeconds: 1.5, rssBytes: 51e6, heapUsedBytes: 21e6 });
    const h = store.health.view(T0 + 5000);
    assert.equal(h.cpuPercent, 10);
    assert.deepEqual(h.latest?.features, features, 'the latest snapshot carries every feature with its reason');
    assert.deepEqual(
      h.counters.map((x) => [x.name, x.total, x.rate, x.drop]),
      [
        ['records.received', 600, 100, false],
        ['records.dropped.kernel', 5, 1, true],
      ],
    );
    assert.deepEqual(h.history.rates['records.received'], [null, 100]);
  });

  test('bad options name the field', () => {
    assert.throws(() => new LiveStore({ maxSpans: 0 }), /store maxSpans: expected a positive integer/);
    assert.throws(() => new LiveStore({ maxServices: 1.5 }), /store maxServices/);
  });
});
