// A real RabbitMQ and the real amqplib through the recording proxy: N
// publishes → N producer operations with their destination, N deliveries → N
// consumer operations, a confirm channel's publishes ending at the broker's
// acks (an unroutable mandatory one failing no_route), basic.get, refused
// declares and a refused login — replayed from the client's side and the
// broker's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { amqp } from '../../../src/protocols/amqp/index.js';
import type { Operation } from '../../../src/protocols/module.js';
import { sleep, waitFor } from '../../helpers/process.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { replay, tally } from '../nats/support.js';
import { type Rabbit, startRabbit } from './broker.js';

const N = 40; // sendToQueue('orders')
const E = 10; // publish('events', 'order.created'), routed to 'orders'
const C = 25; // confirm channel, to 'confirmed'
const G = 3; // basic.get from 'confirmed'
const RPC = 4; // requests on direct reply-to
const WHOLE = 1 << 20;
const PAYLOAD = 'amqp-payload-never-emitted';
const make = (role: 'client' | 'server') => amqp.createParser(role);
const errors = (ops: Operation[]) => ops.filter((o) => o.errorType !== undefined).map((o) => `${o.operation} ${o.errorType}`);

describe('amqp: real rabbitmq-server and amqplib', { timeout: 120_000 }, () => {
  let rabbit: Rabbit;
  let proxy: RecordingProxy;
  before(async () => {
    rabbit = await startRabbit('real');
    proxy = await startRecordingProxy(rabbit.port);
  });
  after(async () => {
    await proxy?.close();
    await rabbit?.stop();
  });

  it('records a publisher, a consumer, a confirm channel, basic.get, refusals and a wrong password', async () => {
    const url = `amqp://guest:guest@127.0.0.1:${proxy.port}`;
    const body = Buffer.from(PAYLOAD);
    // 0: consumer first, so every message is delivered to it
    const cc = await amqplib.connect(url);
    const cch = await cc.createChannel();
    await cch.assertQueue('orders');
    let got = 0;
    await cch.consume('orders', (m) => {
      got++;
      cch.ack(m!);
    });
    // 1: publisher
    const pc = await amqplib.connect(url);
    const pch = await pc.createChannel();
    await pch.assertExchange('events', 'topic');
    await pch.bindQueue('orders', 'events', 'order.*');
    for (let i = 0; i < N; i++) pch.sendToQueue('orders', body);
    for (let i = 0; i < E; i++) pch.publish('events', 'order.created', body);
    await waitFor(() => got === N + E, 10_000);
    await pc.close();
    await cc.close();
    // 2: confirm channel
    const fc = await amqplib.connect(url);
    const fch = await fc.createConfirmChannel();
    await fch.assertQueue('confirmed');
    for (let i = 0; i < C; i++) fch.sendToQueue('confirmed', body);
    fch.publish('events', 'nobody.home', body, { mandatory: true });
    await fch.waitForConfirms();
    await fc.close();
    // 3: basic.get: G messages, then an empty queue
    const gc = await amqplib.connect(url);
    const gch = await gc.createChannel();
    for (let i = 0; i < G; i++) assert.ok(await gch.get('confirmed', { noAck: true }));
    await gch.assertQueue('empty');
    assert.equal(await gch.get('empty'), false);
    await gc.close();
    // 4: refusals: a passive declare of a missing queue, a publish to a missing exchange
    const rc = await amqplib.connect(url);
    rc.on('error', () => undefined);
    const r1 = await rc.createChannel();
    r1.on('error', () => undefined);
    await assert.rejects(r1.checkQueue('does-not-exist'));
    const r2 = await rc.createChannel();
    r2.on('error', () => undefined);
    const closed = new Promise((resolve) => r2.on('close', resolve));
    r2.publish('no-such-exchange', 'k', body);
    await closed;
    await rc.close();
    // 5: a wrong password
    await assert.rejects(amqplib.connect(`amqp://guest:wrong-s3cret@127.0.0.1:${proxy.port}`));
    await waitFor(() => proxy.connections() === 6, 2000);
    // 6: an RPC responder; 7: its requester on direct reply-to, plus a server-named queue
    const sc = await amqplib.connect(url);
    const sch = await sc.createChannel();
    await sch.assertQueue('rpc');
    await sch.consume('rpc', (m) => {
      sch.sendToQueue(m!.properties.replyTo as string, Buffer.from('pong'));
      sch.ack(m!);
    });
    const qc = await amqplib.connect(url);
    const qch = await qc.createChannel();
    let replies = 0;
    await qch.consume('amq.rabbitmq.reply-to', () => void replies++, { noAck: true });
    for (let i = 0; i < RPC; i++) {
      qch.sendToQueue('rpc', Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to' });
      await waitFor(() => replies === i + 1, 5000);
    }
    const { queue } = await qch.assertQueue('', { exclusive: true });
    assert.match(queue, /^amq\.gen-/);
    qch.sendToQueue(queue, body);
    qch.sendToQueue(queue, body);
    await qc.close();
    await sc.close();
    await waitFor(() => proxy.connections() === 8, 2000);
    await sleep(100);
  });

  it('publisher: exactly N + E basic.publish producer operations with exchange and routing key', () => {
    const { ops, parser } = replay(proxy.connection(1), 'client', make, WHOLE);
    assert.deepEqual(tally(ops), { 'exchange.declare events': 1, 'queue.bind orders': 1, 'basic.publish orders': N, 'basic.publish events': E });
    const pubs = ops.filter((o) => o.operation === 'basic.publish');
    for (const op of pubs) {
      assert.equal(op.spanKind, 'producer');
      assert.equal(op.attributes['messaging.operation.type'], 'send');
      assert.equal(op.attributes['messaging.system'], 'rabbitmq');
      assert.equal(op.attributes['messaging.message.body.size'], PAYLOAD.length);
    }
    assert.equal(pubs[0]!.attributes['messaging.rabbitmq.destination.routing_key'], 'orders');
    assert.equal(pubs[N]!.attributes['messaging.rabbitmq.destination.routing_key'], 'order.created');
    assert.deepEqual(errors(ops), []);
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('consumer: exactly N + E basic.deliver consumer operations', () => {
    const { ops, parser } = replay(proxy.connection(0), 'client', make, WHOLE);
    assert.deepEqual(tally(ops), { 'queue.declare orders': 1, 'basic.consume orders': 1, 'basic.deliver orders': N, 'basic.deliver events': E });
    for (const op of ops.filter((o) => o.operation === 'basic.deliver')) {
      assert.equal(op.spanKind, 'consumer');
      assert.equal(op.attributes['messaging.operation.type'], 'process');
      assert.equal(op.attributes['messaging.message.body.size'], PAYLOAD.length);
    }
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('confirm channel: each publish ends at its ack; the unroutable mandatory one fails no_route', () => {
    const { ops, parser } = replay(proxy.connection(2), 'client', make, WHOLE);
    assert.deepEqual(tally(ops), { 'queue.declare confirmed': 1, 'basic.publish confirmed': C, 'basic.publish events': 1 });
    assert.deepEqual(errors(ops), ['basic.publish no_route']);
    for (const op of ops.filter((o) => o.operation === 'basic.publish')) {
      assert.equal(op.incomplete, undefined);
      assert.ok(op.endNs > op.startNs, 'ends at the broker ack');
    }
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('basic.get: G receives with a body, one empty', () => {
    const { ops } = replay(proxy.connection(3), 'client', make, WHOLE);
    assert.deepEqual(tally(ops), { 'basic.get confirmed': G, 'queue.declare empty': 1, 'basic.get empty': 1 });
    const gets = ops.filter((o) => o.operation === 'basic.get');
    assert.deepEqual(gets.map((o) => o.attributes['messaging.message.body.size']), [PAYLOAD.length, PAYLOAD.length, PAYLOAD.length, undefined]);
    assert.equal(gets[G]!.attributes['messaging.batch.message_count'], 0);
    for (const op of gets) assert.equal(op.spanKind, undefined, 'a pull is a client span');
  });

  it("refusals: the broker's reply codes, on the client's side and the broker's", () => {
    const client = replay(proxy.connection(4), 'client', make, WHOLE).ops;
    assert.deepEqual(errors(client), ['queue.declare not_found', 'channel.close not_found']);
    assert.deepEqual(tally(client), { 'queue.declare does-not-exist': 1, 'basic.publish no-such-exchange': 1, 'channel.close': 1 });
    const server = replay(proxy.connection(4), 'server', make, WHOLE).ops;
    assert.deepEqual(server.map((o) => `${o.role} ${o.operation} ${o.errorType}`), ['server queue.declare not_found', 'server channel.close not_found']);
    const login = replay(proxy.connection(5), 'client', make, WHOLE).ops;
    assert.deepEqual(errors(login), ['connection.close access_refused']);
  });

  it("the broker's side emits only its refusals: nothing per message", () => {
    const confirm = replay(proxy.connection(2), 'server', make, WHOLE).ops;
    assert.deepEqual(confirm.map((o) => [o.role, o.operation, o.errorType, o.attributes['messaging.operation.type']]), [['server', 'basic.publish', 'no_route', undefined]]);
    for (const i of [0, 1, 3, 6, 7]) {
      const { ops, parser } = replay(proxy.connection(i), 'server', make, WHOLE);
      assert.deepEqual(ops, []);
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });

  it("at the kernel's default head (2048) and tail (256): what each connection's writes let through", () => {
    // amqplib and RabbitMQ write many small frames at once: the messages a
    // write's hole hides are lost (counted as unparsed), never invented.
    for (const [i, whole] of [[0, N + E], [1, N + E]] as const) {
      const { ops, parser } = replay(proxy.connection(i), 'client', make);
      const messages = ops.filter((o) => o.operation === 'basic.deliver' || o.operation === 'basic.publish').length;
      console.log(`connection ${i} at the default head: ${messages} of ${whole} messages, unparsed ${parser.stats.unparsed}`);
      assert.ok(messages > 0 && messages <= whole);
      assert.equal(messages < whole, parser.stats.unparsed > 0);
    }
  });

  it('RPC on direct reply-to and a server-named queue: bounded, temporary destinations', () => {
    const responder = replay(proxy.connection(6), 'client', make, WHOLE).ops;
    assert.deepEqual(tally(responder), { 'queue.declare rpc': 1, 'basic.consume rpc': 1, 'basic.deliver rpc': RPC, 'basic.publish amq.rabbitmq.reply-to': RPC });
    const requester = replay(proxy.connection(7), 'client', make, WHOLE).ops;
    assert.deepEqual(tally(requester), { 'basic.consume amq.rabbitmq.reply-to': 1, 'basic.publish rpc': RPC, 'basic.deliver amq.rabbitmq.reply-to': RPC, 'queue.declare': 1, 'basic.publish amq.gen': 2 });
    for (const op of [...responder, ...requester].filter((o) => o.operation === 'basic.publish' || o.operation === 'basic.deliver')) {
      const temp = String(op.attributes['messaging.destination.name']).startsWith('amq.');
      assert.equal(op.attributes['messaging.destination.temporary'], temp ? true : undefined);
      if (temp) assert.equal(op.attributes['messaging.rabbitmq.destination.routing_key'], op.attributes['messaging.destination.name']);
    }
  });

  it('never emits the password or a payload', () => {
    for (let i = 0; i < 8; i++) {
      for (const side of ['client', 'server'] as const) {
        const text = JSON.stringify(replay(proxy.connection(i), side, make).ops);
        assert.ok(!text.includes('s3cret') && !text.includes('guest') && !text.includes(PAYLOAD), text.slice(0, 200));
      }
    }
  });

  it('detect: the protocol header written is a client; connection.start read is a client too', () => {
    const [first, second] = proxy.connection(1);
    const view = (data: Buffer, direction: 'in' | 'out') => ({ direction, timeNs: 0, bytes: data.length, head: data, tail: new Uint8Array(0), lost: 0, tid: 1 });
    assert.equal(amqp.detect({ chunk: view(first!.data, 'out'), localPort: 40000, remotePort: 1 }), 'client');
    assert.equal(amqp.detect({ chunk: view(first!.data, 'in'), localPort: 1, remotePort: 40000 }), 'server');
    assert.equal(amqp.detect({ chunk: view(second!.data, 'in'), localPort: 40000, remotePort: 1 }), 'client');
  });
});
