// A real nats-server and the real `nats` client through the recording proxy:
// N publishes → N producer operations on the subject, N deliveries → N
// consumer operations, request/reply as PUB + MSG on each side, replayed from
// the client's side and the server's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, headers, type NatsConnection } from 'nats';
import { nats } from '../../../src/protocols/nats/index.js';
import { type Child, startChild, waitFor } from '../../helpers/process.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { freePort, replay, tally } from './support.js';

const N = 50;
const H = 7;
const R = 5;
const F = 20;
const B = 10;
/** A head that holds every recorded chunk whole: what the parser makes of complete bytes. */
const WHOLE = 1 << 20;
const make = (role: 'client' | 'server') => nats.createParser(role);

describe('nats: real nats-server and nats.js', () => {
  let server: Child;
  let proxy: RecordingProxy;
  before(async () => {
    const port = await freePort();
    server = startChild('nats-server', ['-a', '127.0.0.1', '-p', String(port)]);
    await waitFor(async () => {
      try {
        const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    }, 10_000, 100);
    proxy = await startRecordingProxy(port);
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  const conns: NatsConnection[] = [];
  const open = async () => {
    const nc = await connect({ servers: `127.0.0.1:${proxy.port}`, reconnect: false });
    conns.push(nc);
    return nc;
  };

  it('records publish, subscribe, headers and request/reply', async () => {
    const sub = await open(); // connection 0: subscriber
    const pub = await open(); // connection 1: publisher
    const svc = await open(); // connection 2: responder
    const req = await open(); // connection 3: requester
    let got = 0;
    const s = sub.subscribe('orders.created', { callback: () => void got++ });
    await sub.flush();
    svc.subscribe('svc.echo', { callback: (_e, m) => m.respond(m.data) });
    await svc.flush();
    const h = headers();
    h.set('X-Kind', 'test');
    for (let i = 0; i < N; i++) pub.publish('orders.created', new TextEncoder().encode(`order-${i}-payload`));
    for (let i = 0; i < H; i++) pub.publish('orders.created', new TextEncoder().encode('with-headers'), { headers: h });
    await pub.flush();
    // One publish per write (a flush after each): what the kernel's 2048-byte head sees whole.
    for (let i = 0; i < F; i++) {
      pub.publish('orders.flushed', new TextEncoder().encode(`flushed-${i}`));
      await pub.flush();
    }
    // Payloads longer than the head: the hole falls inside the payload, framing survives it.
    for (let i = 0; i < B; i++) {
      pub.publish('orders.big', new Uint8Array(10_000).fill(0x41));
      await pub.flush();
    }
    for (let i = 0; i < R; i++) await req.request('svc.echo', new TextEncoder().encode(`ping ${i}`), { timeout: 5000 });
    await waitFor(() => got === N + H, 5000);
    s.unsubscribe();
    for (const nc of conns) await nc.close();
    await waitFor(() => proxy.connections() === 4 && proxy.chunks.length > 0, 2000);
  });

  it('publisher: exactly N PUB and H HPUB producer operations on the subject', () => {
    const { ops, parser } = replay(proxy.connection(1), 'client', make, WHOLE);
    assert.deepEqual(tally(ops), { 'PUB orders.created': N, 'HPUB orders.created': H, 'PUB orders.flushed': F, 'PUB orders.big': B });
    for (const op of ops) {
      assert.equal(op.spanKind, 'producer');
      assert.equal(op.attributes['messaging.operation.type'], 'send');
      assert.equal(op.attributes['messaging.system'], 'nats');
      assert.equal(op.errorType, undefined);
    }
    assert.equal(ops[0]!.attributes['messaging.message.body.size'], 'order-0-payload'.length);
    assert.equal(ops[N]!.attributes['messaging.message.body.size'], 'with-headers'.length);
    assert.equal(ops[0]!.name, 'PUB orders.created');
    assert.equal(ops.at(-1)!.attributes['messaging.message.body.size'], 10_000);
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it("publisher at the kernel's default head (2048) and tail (256): one publish a write is exact, a batched write loses what its hole hides", () => {
    const { ops, parser } = replay(proxy.connection(1), 'client', make);
    const t = tally(ops);
    assert.equal(t['PUB orders.flushed'], F);
    assert.equal(t['PUB orders.big'], B);
    // The N+H publishes went out in one write of ~2.6 KB: the head holds the
    // first ones, the tail the last, the hole the rest — counted, not guessed.
    const batched = (t['PUB orders.created'] ?? 0) + (t['HPUB orders.created'] ?? 0);
    assert.ok(batched > 0 && batched < N + H, `batched ${batched}`);
    assert.equal(parser.stats.unparsed, 1);
  });

  it('subscriber: exactly N MSG and H HMSG consumer operations', () => {
    const { ops, parser } = replay(proxy.connection(0), 'client', make, WHOLE);
    assert.deepEqual(tally(ops), { 'MSG orders.created': N, 'HMSG orders.created': H });
    for (const op of ops) {
      assert.equal(op.spanKind, 'consumer');
      assert.equal(op.attributes['messaging.operation.type'], 'process');
    }
    assert.equal(parser.stats.unparsed, 0);
  });

  it('request/reply: two operations per exchange on each side', () => {
    // Each request's reply subject is a fresh _INBOX.<random>: one bounded, temporary destination.
    const requester = replay(proxy.connection(3), 'client', make).ops;
    assert.deepEqual(tally(requester), { 'PUB svc.echo': R, 'MSG _INBOX': R });
    const responder = replay(proxy.connection(2), 'client', make).ops;
    assert.deepEqual(tally(responder), { 'MSG svc.echo': R, 'PUB _INBOX': R });
    for (const op of [...requester, ...responder]) {
      const inbox = op.attributes['messaging.destination.name'] === '_INBOX';
      assert.equal(op.attributes['messaging.destination.temporary'], inbox ? true : undefined);
    }
  });

  it("the server's side frames every connection and emits nothing per message", () => {
    for (let i = 0; i < 4; i++) {
      const { ops, parser } = replay(proxy.connection(i), 'server', make, WHOLE);
      assert.deepEqual(ops, []);
      assert.equal(parser.stats.unparsed, 0);
    }
  });

  it('detect: the client reads INFO first; the server writes it', () => {
    const first = proxy.connection(1)[0]!;
    const chunk = { direction: 'in' as const, timeNs: 0, bytes: first.data.length, head: first.data, tail: new Uint8Array(0), lost: 0, tid: 1 };
    assert.equal(nats.detect({ chunk, localPort: 40000, remotePort: 1234 }), 'client');
    assert.equal(nats.detect({ chunk: { ...chunk, direction: 'out' }, localPort: 1234, remotePort: 40000 }), 'server');
  });
});
