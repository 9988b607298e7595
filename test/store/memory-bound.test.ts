// waggle-test: no-kernel
// Two million spans through the store (the demo's shape plus a high-cardinality
// route and many peers) over two hours of simulated time, so every ring wraps:
// the heap after the first quarter and at the end must be about the same.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LiveStore } from '../../src/store/index.js';
import { demoRequest, httpSpan } from './synthetic-spans.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

test('2,000,000 spans: heap and store estimate stay bounded', () => {
  const TOTAL = 2_000_000;
  const SIM_MS = 2 * 3600_000;
  const t0 = Date.UTC(2026, 0, 1);
  let now = t0;
  const store = new LiveStore({ now: () => now });
  const samples: Array<{ at: number; heap: number; estimate: number; spans: number }> = [];
  const base = heapMb();
  let n = 0;
  let i = 0;
  const started = process.hrtime.bigint();
  while (n < TOTAL) {
    now = t0 + Math.floor((n / TOTAL) * SIM_MS);
    i++;
    if (i % 5 === 0) {
      // A route the telemetry did not template (unbounded ids) and many distinct peers.
      store.addSpan(httpSpan({ service: 'api', kind: 'server', route: `/users/${i}`, endMs: now, durationMs: 1 + (i % 50), port: 8081 }));
      store.addSpan(httpSpan({ service: 'api', kind: 'client', route: '/x', host: `10.0.${(i >> 8) & 255}.${i & 255}`, peerAddress: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 80, endMs: now, durationMs: 3, noLocalEndpoint: true }));
      n += 2;
    } else {
      for (const s of demoRequest(now, i)) store.addSpan(s);
      n += i % 4 < 2 ? 6 : 4;
    }
    if (n >= (samples.length + 1) * (TOTAL / 4)) samples.push({ at: n, heap: heapMb(), estimate: store.byteEstimate() / 2 ** 20, spans: store.spanCount });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const line = samples.map((s) => `${(s.at / 1e6).toFixed(1)}M: heap +${(s.heap - base).toFixed(1)} MB, estimate ${s.estimate.toFixed(1)} MB, ${s.spans} spans`).join('; ');
  console.log(`# ingested ${n} spans in ${seconds.toFixed(1)} s (${Math.round(n / seconds)} spans/s incl. generating them); ${line}`);
  assert.equal(samples.length, 4);
  assert.ok(store.spanCount <= 10_000);
  const first = samples[0]!.heap;
  for (const s of samples.slice(1)) assert.ok(s.heap - first < 24, `heap grew from ${first.toFixed(1)} MB to ${s.heap.toFixed(1)} MB`);
  assert.ok(samples.every((s) => s.heap - base < 200), 'the store holds well under 200 MB');
  assert.ok(store.operationsCollapsed > 0 && store.edgesDropped > 0, 'the caps were exercised');
});
