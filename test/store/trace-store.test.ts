// waggle-test: no-kernel
// TraceStore: linked spans grouped by trace, bounded, and shown as a tree.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceStore } from '../../src/store/index.js';
import { httpSpan } from './synthetic-spans.js';

/** a chain root → … → leaf in one trace, released leaf first as the linker does. */
function chain(traceId: string, services: string[], t0 = 1_000): ReturnType<typeof httpSpan>[] {
  const spans = services.map((service, i) => {
    const s = httpSpan({ service, kind: i % 2 === 0 ? 'server' : 'client', route: `/r${i}`, port: 8000, endMs: t0 + 100 - i, durationMs: 100 - 2 * i, traceId });
    return s;
  });
  for (let i = 1; i < spans.length; i++) spans[i]!.parentSpanId = spans[i - 1]!.spanId;
  return spans.reverse();
}

describe('TraceStore', () => {
  it('groups spans by trace and lays them out depth first, children by start time', () => {
    const store = new TraceStore();
    const tid = 'a'.repeat(32);
    const spans = chain(tid, ['frontend', 'frontend', 'api', 'api']);
    // A second child of the root, started later than the first.
    const late = httpSpan({ service: 'frontend', kind: 'client', route: '/late', port: 8000, endMs: 1_099, durationMs: 5, traceId: tid });
    late.parentSpanId = spans.at(-1)!.spanId;
    for (const s of [...spans, late]) store.add(s);
    const view = store.trace(tid)!;
    assert.deepEqual(view.spans.map((s) => [s.service, s.name, s.depth]), [
      ['frontend', spans[3]!.name, 0],
      ['frontend', spans[2]!.name, 1],
      ['api', spans[1]!.name, 2],
      ['api', spans[0]!.name, 3],
      ['frontend', late.name, 1],
    ]);
    assert.equal(view.dropped, 0);
    const [item] = store.list();
    assert.equal(item!.service, 'frontend');
    assert.equal(item!.name, spans[3]!.name);
    assert.equal(item!.spanCount, 5);
    assert.deepEqual(item!.services, ['api', 'frontend']);
  });

  it('filters by service, by an edge (a span of one service whose parent is of the other) and by operation', () => {
    const store = new TraceStore();
    for (const s of chain('b'.repeat(32), ['frontend', 'frontend', 'api'])) store.add(s);
    for (const s of chain('c'.repeat(32), ['api', 'api', 'nginx'])) store.add(s);
    assert.deepEqual(store.list({ service: 'api' }).map((t) => t.traceId[0]), ['c', 'b']);
    assert.deepEqual(store.list({ service: 'frontend', calls: 'api' }).map((t) => t.traceId[0]), ['b']);
    assert.deepEqual(store.list({ service: 'api', calls: 'nginx' }).map((t) => t.traceId[0]), ['c']);
    assert.deepEqual(store.list({ service: 'nginx', calls: 'api' }), []);
    assert.deepEqual(store.list({ operation: '/R2' }).map((t) => t.traceId[0]), ['c', 'b']);
  });

  it('does not keep a lone root (a span nothing was joined to)', () => {
    const store = new TraceStore();
    store.add(httpSpan({ service: 'x', kind: 'server', route: '/alone', port: 8000, endMs: 1_000, durationMs: 1, traceId: 'd'.repeat(32) }));
    assert.equal(store.size, 0);
    assert.equal(store.lone, 1);
  });

  it('is bounded: the least recently touched trace leaves, spans past the per-trace cap are counted', () => {
    const store = new TraceStore({ maxTraces: 2, maxSpansPerTrace: 2 });
    for (const id of ['1', '2', '3']) for (const s of chain(id.repeat(32), ['x', 'x', 'x'])) store.add(s);
    assert.equal(store.size, 2);
    assert.equal(store.tracesEvicted, 1);
    assert.equal(store.trace('1'.repeat(32)), undefined);
    assert.equal(store.spansDropped, 3); // one of each trace, the evicted one's included
    assert.equal(store.trace('3'.repeat(32))!.dropped, 1);
    assert.equal(store.list()[0]!.spanCount, 3);
  });
});
