// A real mosquitto with mqtt.js (3.1.1 and 5, QoS 0/1/2) and the mosquitto_pub
// / mosquitto_sub CLIs through the recording proxy: N publishes → N producer
// operations on the topic, each delivery → one consumer operation, replayed
// from the client's side and the broker's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqttjs from 'mqtt';
import { mqtt } from '../../../src/protocols/mqtt/index.js';
import type { Operation } from '../../../src/protocols/module.js';
import { type Child, startChild, waitFor, within } from '../../helpers/process.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { replay, tally } from '../nats/support.js';
import { type Broker, startMosquitto } from './broker.js';

const Q0 = 20;
const Q1 = 15;
const Q2 = 10;
const CLI = 12;
const PER_CLIENT = Q0 + Q1 + Q2;
const ALL = 2 * PER_CLIENT + CLI;
const WHOLE = 1 << 20;
const make = (role: 'client' | 'server') => mqtt.createParser(role);
const byQos = (ops: Operation[], endAfterStart: boolean) => ops.filter((o) => (o.endNs > o.startNs) === endAfterStart).length;

describe('mqtt: real mosquitto, mqtt.js and the mosquitto CLIs', () => {
  let broker: Broker;
  let proxy: RecordingProxy;
  let sub: Child | undefined;
  before(async () => {
    broker = await startMosquitto();
    proxy = await startRecordingProxy(broker.port);
  });
  after(async () => {
    await sub?.stop();
    await proxy?.close();
    await broker?.stop();
  });

  it('records subscribers and publishers of both versions and QoS 0, 1, 2', async () => {
    const url = `mqtt://127.0.0.1:${proxy.port}`;
    // 0: mqtt.js v5 subscriber, QoS 2 (each delivery keeps its publish's QoS)
    const s5 = await mqttjs.connectAsync(url, { protocolVersion: 5, clientId: 'sub5', reconnectPeriod: 0 });
    let got = 0;
    s5.on('message', () => void got++);
    await s5.subscribeAsync('sensors/#', { qos: 2 });
    // 1: mosquitto_sub (3.1.1), exits after ALL messages
    sub = startChild('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(proxy.port), '-t', 'sensors/#', '-q', '1', '-C', String(ALL), '-V', 'mqttv311']);
    await waitFor(() => proxy.connection(1).filter((c) => c.from === 'server').length >= 2, 5000);
    for (const [version, topic] of [[4, 'sensors/v311'], [5, 'sensors/v5']] as const) {
      // 2, 3: publishers
      const p = await mqttjs.connectAsync(url, { protocolVersion: version, clientId: `pub${version}`, reconnectPeriod: 0 });
      for (let i = 0; i < Q0; i++) await p.publishAsync(topic, `q0-${i}`, { qos: 0 });
      for (let i = 0; i < Q1; i++) await p.publishAsync(topic, `q1-${i}`, { qos: 1 });
      for (let i = 0; i < Q2; i++) await p.publishAsync(topic, `q2-${i}`, { qos: 2 });
      await p.endAsync();
    }
    // 4: mosquitto_pub -l: one message per stdin line, QoS 1
    const pub = startChild('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(proxy.port), '-t', 'sensors/cli', '-q', '1', '-l']);
    for (let i = 0; i < CLI; i++) pub.write(`line ${i}\n`);
    pub.proc.stdin?.end();
    assert.equal((await within(pub.exited, 10_000, 'mosquitto_pub')).code, 0);
    await waitFor(() => got === ALL, 10_000);
    assert.equal((await within(sub.exited, 10_000, 'mosquitto_sub')).code, 0);
    await s5.endAsync();
    await waitFor(() => proxy.connections() === 5, 2000);
  });

  it('mqtt.js 3.1.1 and 5 publishers: exactly N publish operations per topic, QoS 1/2 ending at their acks', () => {
    for (const [i, topic] of [[2, 'sensors/v311'], [3, 'sensors/v5']] as const) {
      const { ops, parser } = replay(proxy.connection(i), 'client', make, WHOLE);
      assert.deepEqual(tally(ops), { connect: 1, [`publish ${topic}`]: PER_CLIENT });
      const pubs = ops.filter((o) => o.operation === 'publish');
      for (const op of pubs) {
        assert.equal(op.spanKind, 'producer');
        assert.equal(op.attributes['messaging.operation.type'], 'send');
        assert.equal(op.attributes['messaging.system'], 'mqtt');
        assert.equal(op.errorType, undefined);
        assert.equal(op.incomplete, undefined);
      }
      assert.equal(byQos(pubs, false), Q0, 'QoS 0 ends at its write');
      assert.equal(byQos(pubs, true), Q1 + Q2, 'QoS 1/2 end at PUBACK/PUBCOMP');
      assert.equal(pubs[0]!.attributes['messaging.message.body.size'], 'q0-0'.length);
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });

  it('mosquitto_pub -l: one publish operation per line', () => {
    const { ops, parser } = replay(proxy.connection(4), 'client', make);
    assert.deepEqual(tally(ops), { connect: 1, 'publish sensors/cli': CLI });
    assert.equal(parser.stats.unparsed, 0);
  });

  it('subscribers: exactly one consumer operation per delivered message', () => {
    for (const i of [0, 1]) {
      const { ops, parser } = replay(proxy.connection(i), 'client', make, WHOLE);
      assert.deepEqual(tally(ops), { connect: 1, 'subscribe sensors/#': 1, 'publish sensors/v311': PER_CLIENT, 'publish sensors/v5': PER_CLIENT, 'publish sensors/cli': CLI });
      for (const op of ops.filter((o) => o.operation === 'publish')) {
        assert.equal(op.spanKind, 'consumer');
        assert.equal(op.attributes['messaging.operation.type'], 'process');
      }
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });

  it("at the kernel's default head and tail the counts are the same (small packets, one write each)", () => {
    for (const i of [0, 1, 2, 3, 4]) {
      assert.deepEqual(tally(replay(proxy.connection(i), 'client', make).ops), tally(replay(proxy.connection(i), 'client', make, WHOLE).ops));
    }
  });

  it("the broker's side frames everything and emits nothing when nothing was refused", () => {
    for (let i = 0; i < 5; i++) {
      const { ops, parser } = replay(proxy.connection(i), 'server', make, WHOLE);
      assert.deepEqual(ops, []);
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });

  it('detect: CONNECT written is a client, read is a server', () => {
    const first = proxy.connection(2)[0]!;
    const chunk = { direction: 'out' as const, timeNs: 0, bytes: first.data.length, head: first.data, tail: new Uint8Array(0), lost: 0, tid: 1 };
    assert.equal(mqtt.detect({ chunk, localPort: 40000, remotePort: 1 }), 'client');
    assert.equal(mqtt.detect({ chunk: { ...chunk, direction: 'in' }, localPort: 1, remotePort: 40000 }), 'server');
  });
});
