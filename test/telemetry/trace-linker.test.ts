// waggle-test: no-kernel
// TraceLinker's rules on hand-made records (the real programs are in test/agent/traces*.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestRecord, SpanDetail, type Span, type SpanKind, TraceLinker } from '../../src/telemetry/index.js';

interface Input {
  name: string;
  kind: SpanKind;
  pid: number;
  tid?: number;
  start: number;
  end: number;
  local?: string; // "address:port"
  remote?: string;
  traceparent?: { traceId: string; parentSpanId: string };
  /** The ids the kernel wrote into the request's traceparent (context propagation). */
  sent?: { traceId: string; spanId: string };
}

let ids = 0;
function record(i: Input): RequestRecord {
  const n = ++ids;
  const span: Span = {
    traceId: i.traceparent?.traceId ?? n.toString(16).padStart(32, 'a'),
    spanId: n.toString(16).padStart(16, 'b'),
    name: i.name,
    kind: i.kind,
    startTimeUnixNs: i.start,
    endTimeUnixNs: i.end,
    status: 'unset',
    attributes: {},
    service: { name: `svc${i.pid}`, instanceId: `i${i.pid}`, pid: i.pid, executableName: 'x' },
  };
  if (i.traceparent) span.parentSpanId = i.traceparent.parentSpanId;
  if (i.sent) Object.assign(span, { traceId: i.sent.traceId, spanId: i.sent.spanId, contextSent: true });
  const [la, lp] = (i.local ?? '127.0.0.1:1').split(':');
  const [ra, rp] = (i.remote ?? '127.0.0.1:2').split(':');
  const origin = i.tid === undefined ? undefined : { tid: i.tid, localAddress: la!, localPort: Number(lp) };
  return new RequestRecord(new SpanDetail(span), span.service, i.kind, i.name, i.start, i.end, false, undefined, ra, Number(rp), undefined, undefined, origin);
}

/** Adds the records in order at time 0, ticks past the hold, returns the released spans by name. */
function run(inputs: Input[], opts: { holdMs?: number; maxSpans?: number; connections?: boolean } = {}): { spans: Map<string, Span>; order: string[]; linker: TraceLinker } {
  const linker = new TraceLinker({ holdMs: opts.holdMs ?? 100, ...(opts.maxSpans ? { maxSpans: opts.maxSpans } : {}), ...(opts.connections === false ? { connections: false } : {}) });
  const spans = new Map<string, Span>();
  const order: string[] = [];
  linker.onSpan((s) => {
    spans.set(s.name, s);
    order.push(s.name);
  });
  for (const i of inputs) linker.add(record(i), 0);
  linker.tick(50);
  // (Without connection links a pure server's span has no possible parent: it leaves at once.)
  if (opts.connections !== false) assert.equal(spans.size, 0, 'nothing leaves before the hold');
  linker.tick(100);
  linker.tick(200);
  return { spans, order, linker };
}

const A_PORT = '127.0.0.1:8000';
const B_PORT = '127.0.0.1:8001';

describe('TraceLinker', () => {
  it('links a call to the request its thread serves, and the callee to the call across a local connection', () => {
    const { spans, linker } = run([
      // Arrival order is end order: B's server span, A's client span, A's server span.
      { name: 'B server', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: B_PORT, remote: '127.0.0.1:50000' },
      { name: 'A client', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT },
      { name: 'A server', kind: 'server', pid: 1, tid: 10, start: 0, end: 100, local: A_PORT, remote: '127.0.0.1:40000' },
    ]);
    const a = spans.get('A server')!;
    const c = spans.get('A client')!;
    const b = spans.get('B server')!;
    assert.equal(a.parentSpanId, undefined);
    assert.equal(c.parentSpanId, a.spanId);
    assert.equal(b.parentSpanId, c.spanId);
    assert.equal(c.traceId, a.traceId);
    assert.equal(b.traceId, a.traceId);
    assert.deepEqual(linker.stats().links, { thread: 1, event_loop: 0, connection: 1 });
  });

  it('a call whose ids went out in a traceparent gives its trace to the request it was made in; a second one there stays a root', () => {
    const sent1 = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16) };
    const sent2 = { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16) };
    const { spans, linker } = run([
      { name: 'call 1', kind: 'client', pid: 1, tid: 10, start: 10, end: 20, local: '10.0.0.1:50000', remote: '10.0.0.2:80', sent: sent1 },
      { name: 'call 2', kind: 'client', pid: 1, tid: 10, start: 30, end: 40, local: '10.0.0.1:50001', remote: '10.0.0.3:80', sent: sent2 },
      { name: 'request', kind: 'server', pid: 1, tid: 10, start: 0, end: 100, local: A_PORT, remote: '127.0.0.1:40000' },
    ]);
    const request = spans.get('request')!;
    const call1 = spans.get('call 1')!;
    const call2 = spans.get('call 2')!;
    // The ids another host already continues never change.
    assert.deepEqual([call1.traceId, call1.spanId], [sent1.traceId, sent1.spanId]);
    assert.deepEqual([call2.traceId, call2.spanId], [sent2.traceId, sent2.spanId]);
    assert.equal(call1.parentSpanId, request.spanId);
    assert.equal(request.traceId, sent1.traceId, 'the request joined the trace its call carried');
    assert.equal(call2.parentSpanId, undefined, 'its trace was already the first call\'s');
    assert.equal(linker.stats().parentUnknown.conflict, 1);
  });

  it('connections: false joins no server span to the client span at the other end', () => {
    const { spans, linker } = run(
      [
        { name: 'B server', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: B_PORT, remote: '127.0.0.1:50000' },
        { name: 'A client', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT },
        { name: 'A server', kind: 'server', pid: 1, tid: 10, start: 0, end: 100, local: A_PORT, remote: '127.0.0.1:40000' },
      ],
      { connections: false },
    );
    assert.equal(spans.get('A client')!.parentSpanId, spans.get('A server')!.spanId);
    assert.equal(spans.get('B server')!.parentSpanId, undefined);
    assert.deepEqual(linker.stats().links, { thread: 1, event_loop: 0, connection: 0 });
  });

  it('keeps concurrent requests of a threaded server apart, thread by thread', () => {
    const { spans } = run([
      { name: 'C1', kind: 'client', pid: 1, tid: 10, start: 10, end: 50 },
      { name: 'C2', kind: 'client', pid: 1, tid: 11, start: 12, end: 52 },
      { name: 'S1', kind: 'server', pid: 1, tid: 10, start: 0, end: 100 },
      { name: 'S2', kind: 'server', pid: 1, tid: 11, start: 1, end: 101 },
    ]);
    assert.equal(spans.get('C1')!.parentSpanId, spans.get('S1')!.spanId);
    assert.equal(spans.get('C2')!.parentSpanId, spans.get('S2')!.spanId);
    assert.notEqual(spans.get('S1')!.traceId, spans.get('S2')!.traceId);
  });

  it('leaves a call of a multiplexing thread with several requests in flight a root, counted; links it when one is in flight', () => {
    const { spans, linker } = run([
      { name: 'C busy', kind: 'client', pid: 3, tid: 3, start: 30, end: 60 },
      { name: 'S1', kind: 'server', pid: 3, tid: 3, start: 0, end: 100 },
      { name: 'S2', kind: 'server', pid: 3, tid: 3, start: 20, end: 120 },
      { name: 'C alone', kind: 'client', pid: 3, tid: 3, start: 130, end: 150 },
      { name: 'S3', kind: 'server', pid: 3, tid: 3, start: 125, end: 200 },
    ]);
    assert.equal(spans.get('C busy')!.parentSpanId, undefined);
    assert.equal(spans.get('C alone')!.parentSpanId, spans.get('S3')!.spanId);
    assert.equal(linker.stats().parentUnknown.concurrent_requests, 1);
    assert.equal(linker.stats().links.event_loop, 1);
  });

  it('on a multiplexing thread, a request read after the call began cannot own it; a call outliving its only request is its child', () => {
    const { spans, linker } = run([
      { name: 'C', kind: 'client', pid: 3, tid: 3, start: 30, end: 60 },
      { name: 'S1', kind: 'server', pid: 3, tid: 3, start: 0, end: 100 },
      { name: 'S2 later', kind: 'server', pid: 3, tid: 3, start: 31, end: 120 },
      { name: 'C fire-and-forget', kind: 'client', pid: 3, tid: 3, start: 140, end: 190 },
      { name: 'S3', kind: 'server', pid: 3, tid: 3, start: 130, end: 150 },
    ]);
    assert.equal(spans.get('C')!.parentSpanId, spans.get('S1')!.spanId);
    assert.equal(spans.get('C fire-and-forget')!.parentSpanId, spans.get('S3')!.spanId);
    assert.equal(linker.stats().parentUnknown.concurrent_requests, 0);
  });

  it('leaves a call made outside any request a root, uncounted', () => {
    const { spans, linker } = run([{ name: 'C', kind: 'client', pid: 1, tid: 10, start: 10, end: 50 }]);
    assert.equal(spans.get('C')!.parentSpanId, undefined);
    assert.deepEqual(Object.values(linker.stats().parentUnknown), [0, 0, 0, 0, 0, 0]);
  });

  it('honours a traceparent: children join its trace; the callee reading the same header gets our client span as parent', () => {
    const tp = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7' };
    const app = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '1111111111111111' };
    const { spans } = run([
      { name: 'B server', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: B_PORT, remote: '127.0.0.1:50000', traceparent: app },
      { name: 'A client', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT, traceparent: app },
      { name: 'A db', kind: 'client', pid: 1, tid: 10, start: 60, end: 70 },
      { name: 'A server', kind: 'server', pid: 1, tid: 10, start: 0, end: 100, traceparent: tp },
    ]);
    assert.equal(spans.get('A server')!.parentSpanId, tp.parentSpanId);
    assert.equal(spans.get('A db')!.parentSpanId, spans.get('A server')!.spanId);
    assert.equal(spans.get('A db')!.traceId, tp.traceId);
    assert.equal(spans.get('A client')!.parentSpanId, app.parentSpanId, 'the application propagated its own span: kept');
    assert.equal(spans.get('B server')!.parentSpanId, spans.get('A client')!.spanId);
    assert.equal(spans.get('B server')!.traceId, tp.traceId);
  });

  it('keeps a header that names another trace than the client span on the connection', () => {
    const other = { traceId: '0123456789abcdef0123456789abcdef', parentSpanId: '2222222222222222' };
    const { spans } = run([
      { name: 'B server', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: B_PORT, remote: '127.0.0.1:50000', traceparent: other },
      { name: 'A client', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT },
    ]);
    assert.equal(spans.get('B server')!.parentSpanId, other.parentSpanId);
    assert.equal(spans.get('B server')!.traceId, other.traceId);
  });

  it('matches a connection only on overlapping times (keep-alive reuse) and counts overlaps it cannot tell apart', () => {
    const { spans, linker } = run([
      { name: 'B1', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: B_PORT, remote: '127.0.0.1:50000' },
      { name: 'A1', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT },
      { name: 'B2', kind: 'server', pid: 2, tid: 20, start: 62, end: 78, local: B_PORT, remote: '127.0.0.1:50000' },
      { name: 'A2', kind: 'client', pid: 1, tid: 10, start: 60, end: 80, local: '127.0.0.1:50000', remote: B_PORT },
      { name: 'A3', kind: 'client', pid: 1, tid: 10, start: 90, end: 99, local: '127.0.0.1:50001', remote: B_PORT },
      { name: 'A4', kind: 'client', pid: 1, tid: 11, start: 91, end: 99, local: '127.0.0.1:50001', remote: B_PORT },
      { name: 'B3', kind: 'server', pid: 2, tid: 20, start: 92, end: 95, local: B_PORT, remote: '127.0.0.1:50001' },
    ]);
    assert.equal(spans.get('B1')!.parentSpanId, spans.get('A1')!.spanId);
    assert.equal(spans.get('B2')!.parentSpanId, spans.get('A2')!.spanId);
    assert.equal(spans.get('B3')!.parentSpanId, undefined);
    assert.equal(linker.stats().parentUnknown.ambiguous_connection, 1);
  });

  it('sees a dual-stack listener\'s IPv4-mapped addresses as the client\'s IPv4 ones', () => {
    const linker = new TraceLinker({ holdMs: 0 });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    const b = record({ name: 'B', kind: 'server', pid: 2, tid: 20, start: 12, end: 48 });
    const mapped = new RequestRecord(b.detail, b.service, 'server', 'B', 12, 48, false, undefined, '::ffff:127.0.0.1', 50000, undefined, undefined, { tid: 20, localAddress: '::ffff:127.0.0.1', localPort: 8001 });
    linker.add(mapped, 0);
    linker.add(record({ name: 'A', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT }), 0);
    linker.tick(1);
    assert.equal(out.find((s) => s.name === 'B')!.parentSpanId, out.find((s) => s.name === 'A')!.spanId);
  });

  it('a call arriving after its request left (another ring buffer, drained later) still joins its trace', () => {
    const linker = new TraceLinker({ holdMs: 100 });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    // The process is known to make calls (its server spans are indexed as parents).
    linker.add(record({ name: 'earlier', kind: 'client', pid: 1, tid: 10, start: -50, end: -40 }), 0);
    linker.add(record({ name: 'S', kind: 'server', pid: 1, tid: 10, start: 0, end: 100 }), 0);
    linker.tick(100); // S decided and released
    assert.deepEqual(out.map((s) => s.name), ['earlier', 'S']);
    linker.add(record({ name: 'db', kind: 'client', pid: 1, tid: 10, start: 20, end: 40 }), 150);
    linker.tick(250);
    assert.equal(out[2]!.name, 'db');
    assert.equal(out[2]!.parentSpanId, out[1]!.spanId);
    assert.equal(out[2]!.traceId, out[1]!.traceId);
    linker.add(record({ name: 'late', kind: 'client', pid: 1, tid: 10, start: 30, end: 50 }), 400);
    linker.tick(500); // S left the index one hold after its release: a root
    assert.equal(out[3]!.parentSpanId, undefined);
  });

  it('indexes only the requests of processes that call out: a pure server\'s first call after its request left stays a root, counted', () => {
    const linker = new TraceLinker({ holdMs: 100 });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    linker.add(record({ name: 'S1', kind: 'server', pid: 1, tid: 10, start: 0, end: 100 }), 0);
    linker.add(record({ name: 'S2', kind: 'server', pid: 1, tid: 10, start: 10, end: 90 }), 0);
    linker.tick(100);
    // S2 alone was not in flight at the call: an index without S1 would have linked it wrongly.
    linker.add(record({ name: 'db', kind: 'client', pid: 1, tid: 10, start: 95, end: 99 }), 150);
    linker.add(record({ name: 'S3', kind: 'server', pid: 1, tid: 10, start: 200, end: 300 }), 150);
    linker.add(record({ name: 'db2', kind: 'client', pid: 1, tid: 10, start: 220, end: 240 }), 150);
    linker.tick(300);
    const byName = new Map(out.map((s) => [s.name, s]));
    assert.equal(byName.get('db')!.parentSpanId, undefined);
    assert.equal(linker.stats().parentUnknown.not_indexed, 1);
    assert.equal(byName.get('db2')!.parentSpanId, byName.get('S3')!.spanId, 'a caller now: its requests are indexed');
  });

  it('holds at most maxSpans: the oldest leaves early, counted', () => {
    const linker = new TraceLinker({ holdMs: 1000, maxSpans: 2 });
    const out: string[] = [];
    linker.onSpan((s) => out.push(s.name));
    for (const n of ['a', 'b', 'c']) linker.add(record({ name: n, kind: 'server', pid: 1, tid: 1, start: 0, end: 1 }), 0);
    assert.deepEqual(out, ['a']);
    assert.equal(linker.stats().evicted, 1);
    assert.equal(linker.stats().held, 2);
    linker.close();
    assert.deepEqual(out, ['a', 'b', 'c']);
  });

  it('waits for an ancestor that arrives later, up to maxHoldMs', () => {
    const linker = new TraceLinker({ holdMs: 100, maxHoldMs: 1000 });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    linker.add(record({ name: 'B', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: B_PORT, remote: '127.0.0.1:50000' }), 0);
    linker.add(record({ name: 'A client', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '127.0.0.1:50000', remote: B_PORT }), 90);
    linker.add(record({ name: 'A server', kind: 'server', pid: 1, tid: 10, start: 0, end: 100 }), 180);
    linker.tick(100); // B decided (parent: A client), A client not yet decided: B waits
    assert.equal(out.length, 0);
    linker.tick(190); // A client decided (parent: A server, undecided)
    assert.equal(out.length, 0);
    linker.tick(280);
    assert.deepEqual(out.map((s) => s.name), ['B', 'A client', 'A server']);
    assert.equal(new Set(out.map((s) => s.traceId)).size, 1);
  });

  it('a child released before its late parent keeps its own trace (no conflict, no wrong id)', () => {
    const linker = new TraceLinker({ holdMs: 100, maxHoldMs: 100 });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    linker.add(record({ name: 'C', kind: 'client', pid: 1, tid: 10, start: 10, end: 50 }), 0);
    linker.tick(100);
    linker.add(record({ name: 'S', kind: 'server', pid: 1, tid: 10, start: 0, end: 5000 }), 150);
    linker.tick(300);
    assert.equal(out.length, 2);
    assert.equal(out[0]!.parentSpanId, undefined);
    assert.notEqual(out[0]!.traceId, out[1]!.traceId);
  });
  it('decides a server span on arrival when no local client can be its caller: a pure server\'s leaves at once, a caller\'s after its children', () => {
    const linker = new TraceLinker({ holdMs: 100, isLocalAddress: (a) => a.startsWith('127.') });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    linker.add(record({ name: 'pure', kind: 'server', pid: 2, tid: 20, start: 0, end: 10, local: '10.0.0.1:9000', remote: '192.0.2.9:50001' }), 0);
    assert.deepEqual(out.map((s) => s.name), ['pure'], 'a remote peer, a process that makes no calls: released on arrival');
    linker.add(record({ name: 'db', kind: 'client', pid: 1, tid: 10, start: 20, end: 40, local: '127.0.0.1:40000', remote: '127.0.0.1:5432' }), 0);
    linker.add(record({ name: 'S', kind: 'server', pid: 1, tid: 10, start: 0, end: 100, local: '10.0.0.1:8000', remote: '192.0.2.9:50000' }), 0);
    assert.equal(out.length, 1, 'a caller\'s request waits behind its children');
    linker.tick(100);
    assert.deepEqual(out.map((s) => s.name), ['pure', 'db', 'S']);
    assert.equal(out[1]!.parentSpanId, out[2]!.spanId);
    assert.equal(out[1]!.traceId, out[2]!.traceId);
    assert.equal(linker.stats().decidedOnArrival, 2);
    assert.equal(linker.stats().held, 0);
  });

  it('holds a server span whose peer is an address a local client called from (a container\'s, not the host\'s)', () => {
    const linker = new TraceLinker({ holdMs: 100, isLocalAddress: () => false });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    linker.add(record({ name: 'A client', kind: 'client', pid: 1, tid: 10, start: 10, end: 50, local: '172.17.0.2:40000', remote: '172.17.0.3:80' }), 0);
    linker.add(record({ name: 'B', kind: 'server', pid: 2, tid: 20, start: 12, end: 48, local: '172.17.0.3:80', remote: '172.17.0.2:40000' }), 0);
    assert.equal(out.length, 0);
    linker.tick(100);
    const byName = new Map(out.map((s) => [s.name, s]));
    assert.equal(byName.get('B')!.parentSpanId, byName.get('A client')!.spanId);
    assert.equal(linker.stats().decidedOnArrival, 0);
  });

  it('learns a caller that is not watched: its later requests to that port, on any connection, leave at once until a client span calls from there', () => {
    const linker = new TraceLinker({ holdMs: 100 });
    const out: Span[] = [];
    linker.onSpan((s) => out.push(s));
    linker.add(record({ name: 'first', kind: 'server', pid: 2, tid: 20, start: 0, end: 10, local: B_PORT, remote: '127.0.0.2:40001' }), 0);
    linker.tick(100);
    assert.deepEqual(out.map((s) => s.name), ['first']);
    assert.equal(linker.stats().quietCallers, 1);
    linker.add(record({ name: 'second', kind: 'server', pid: 2, tid: 20, start: 20, end: 30, local: B_PORT, remote: '127.0.0.2:40009' }), 110);
    assert.deepEqual(out.map((s) => s.name), ['first', 'second'], 'quiet caller, new connection: released on arrival');
    linker.add(record({ name: 'other', kind: 'server', pid: 2, tid: 20, start: 20, end: 30, local: B_PORT, remote: '127.0.0.3:40002' }), 110);
    linker.add(record({ name: 'other port', kind: 'server', pid: 2, tid: 20, start: 20, end: 30, local: A_PORT, remote: '127.0.0.2:40003' }), 110);
    assert.equal(out.length, 2, 'another caller address, or another port, is still held');
    // A client there becomes watched: its span wakes the caller, and the next exchange links again.
    linker.add(record({ name: 'A client', kind: 'client', pid: 1, tid: 10, start: 40, end: 60, local: '127.0.0.2:40010', remote: B_PORT }), 120);
    linker.add(record({ name: 'third', kind: 'server', pid: 2, tid: 20, start: 42, end: 58, local: B_PORT, remote: '127.0.0.2:40010' }), 120);
    assert.equal(linker.stats().quietCallersWoken, 1);
    assert.equal(linker.stats().quietCallers, 0);
    linker.tick(300);
    const byName = new Map(out.map((s) => [s.name, s]));
    assert.equal(byName.get('third')!.parentSpanId, byName.get('A client')!.spanId);
    assert.equal(byName.get('second')!.parentSpanId, undefined);
    assert.equal(linker.stats().held, 0);
    // Seen once, never quiet again: a server span from there with no client span is held and does not make it quiet.
    linker.add(record({ name: 'unwatched', kind: 'server', pid: 2, tid: 20, start: 400, end: 410, local: B_PORT, remote: '127.0.0.2:40011' }), 400);
    linker.tick(500);
    assert.equal(linker.stats().quietCallers, 2, 'only 127.0.0.3 on B and 127.0.0.2 on A');
    linker.add(record({ name: 'fourth', kind: 'server', pid: 2, tid: 20, start: 600, end: 610, local: B_PORT, remote: '127.0.0.2:40012' }), 600);
    assert.equal(linker.stats().held, 1);
  });
  it('is idle (nothing for tick() to do) once nothing is held or findable; a quiet pure server\'s requests leave it idle', () => {
    const linker = new TraceLinker({ holdMs: 100 });
    linker.onSpan(() => undefined, { lone: false });
    assert.equal(linker.idle, true);
    linker.add(record({ name: 'first', kind: 'server', pid: 2, tid: 20, start: 0, end: 10, local: B_PORT, remote: '127.0.0.2:40001' }), 0);
    assert.equal(linker.idle, false, 'held');
    linker.tick(100);
    assert.equal(linker.idle, true, 'released; a pure server\'s request is no possible parent');
    linker.add(record({ name: 'second', kind: 'server', pid: 2, tid: 20, start: 20, end: 30, local: B_PORT, remote: '127.0.0.2:40002' }), 110);
    assert.equal(linker.idle, true, 'a quiet caller\'s request is decided on arrival and built into nothing');
    linker.add(record({ name: 'call', kind: 'client', pid: 1, tid: 10, start: 40, end: 60, local: '127.0.0.5:40010', remote: A_PORT }), 120);
    assert.equal(linker.idle, false, 'a client span is held');
    linker.tick(220);
    assert.equal(linker.idle, false, 'released, still findable by a late callee on its connection');
    linker.tick(400);
    assert.equal(linker.idle, true, 'expired');
  });

  it('builds no Span for a lone root when every listener ignores lone roots (the trace view), unless it continues a trace', () => {
    const linker = new TraceLinker({ holdMs: 100, isLocalAddress: (a) => a.startsWith('127.') });
    const joinedOnly: Span[] = [];
    linker.onSpan((s) => joinedOnly.push(s), { lone: false });
    const remote = { local: '10.0.0.1:9000', remote: '192.0.2.9:50001' };
    const plain = record({ name: 'plain', kind: 'server', pid: 2, tid: 20, start: 0, end: 10, ...remote });
    linker.add(plain, 0);
    assert.equal(plain.spanBuilt, false);
    assert.equal(linker.stats().loneUnbuilt, 1);
    const continued = record({ name: 'continued', kind: 'server', pid: 2, tid: 20, start: 20, end: 30, ...remote, traceparent: { traceId: 'c'.repeat(32), parentSpanId: 'd'.repeat(16) } });
    linker.add(continued, 0);
    assert.deepEqual(joinedOnly.map((s) => s.name), ['continued'], 'a span with a remote parent joins a trace elsewhere');
    const all: Span[] = [];
    linker.onSpan((s) => all.push(s));
    linker.add(record({ name: 'wanted', kind: 'server', pid: 2, tid: 20, start: 40, end: 50, ...remote }), 0);
    assert.deepEqual(all.map((s) => s.name), ['wanted'], 'a listener of every span gets lone roots');
    assert.equal(linker.stats().loneUnbuilt, 1);
  });
});
