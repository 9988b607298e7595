// waggle-test: no-kernel
// detect() of the three messaging modules: greetings decide off any port;
// joined midway, the well-known port plus the right side's message shape;
// other protocols' first bytes are never claimed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amqp } from '../../../src/protocols/amqp/index.js';
import type { ProtocolModule } from '../../../src/protocols/module.js';
import { mqtt } from '../../../src/protocols/mqtt/index.js';
import { nats } from '../../../src/protocols/nats/index.js';

const detect = (m: ProtocolModule, bytes: Uint8Array | string, direction: 'in' | 'out', localPort: number, remotePort: number) => {
  const head = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return m.detect({ chunk: { direction, timeNs: 0, bytes: head.length, head, tail: new Uint8Array(0), lost: 0, tid: 1 }, localPort, remotePort });
};
const EPHEMERAL = 45678;
const OTHERS: string[] = ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '*1\r\n$4\r\nPING\r\n', 'PING\r\n', 'get key\r\n', '\x00\x00\x00\x08\x04\xd2\x16\x2f', 'SSH-2.0-OpenSSH_9.2\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'];

describe('messaging detect', () => {
  it('nats: INFO/CONNECT anywhere; PUB/MSG/+OK/-ERR only on 4222 and from the right side', () => {
    assert.equal(detect(nats, 'INFO {"server_id":"x"}\r\n', 'in', EPHEMERAL, 9999), 'client');
    assert.equal(detect(nats, 'INFO {"server_id":"x"}\r\n', 'out', 9999, EPHEMERAL), 'server');
    assert.equal(detect(nats, 'CONNECT {"verbose":false}\r\n', 'out', EPHEMERAL, 9999), 'client');
    assert.equal(detect(nats, 'PUB a 1\r\nx\r\n', 'out', EPHEMERAL, 4222), 'client');
    assert.equal(detect(nats, 'MSG a 1 1\r\nx\r\n', 'in', EPHEMERAL, 4222), 'client');
    assert.equal(detect(nats, 'PUB a 1\r\nx\r\n', 'in', 4222, EPHEMERAL), 'server');
    assert.equal(detect(nats, 'PUB a 1\r\nx\r\n', 'out', EPHEMERAL, 9999), undefined);
    assert.equal(detect(nats, 'MSG a 1 1\r\nx\r\n', 'out', EPHEMERAL, 4222), undefined, 'a client does not write MSG');
    assert.equal(detect(nats, 'PING\r\n', 'out', EPHEMERAL, 4222), undefined, 'PING alone says nothing');
  });

  it('mqtt: CONNECT anywhere; packets (or a lone first byte) only on 1883', () => {
    const connect = Uint8Array.from([0x10, 0x10, 0, 4, ...Buffer.from('MQTT'), 4, 2, 0, 60, 0, 4, ...Buffer.from('abcd')]);
    assert.equal(detect(mqtt, connect, 'out', EPHEMERAL, 9999), 'client');
    assert.equal(detect(mqtt, connect, 'in', 9999, EPHEMERAL), 'server');
    assert.equal(detect(mqtt, Uint8Array.from([0x10, 0x0c, 0, 6, ...Buffer.from('MQIsdp'), 3, 0]), 'out', EPHEMERAL, 9999), 'client');
    assert.equal(detect(mqtt, Uint8Array.from([0x10]), 'out', EPHEMERAL, 1883), 'client', "mqtt.js's first iovec");
    assert.equal(detect(mqtt, Uint8Array.from([0x10]), 'out', EPHEMERAL, 9999), undefined);
    assert.equal(detect(mqtt, Uint8Array.from([0x30, 0x05, 0, 1, 0x61, 0x68, 0x69]), 'out', EPHEMERAL, 1883), 'client');
    assert.equal(detect(mqtt, Uint8Array.from([0x00, 0x05]), 'out', EPHEMERAL, 1883), undefined);
  });

  it('amqp: the protocol header or connection.start anywhere; frames only on 5672', () => {
    assert.equal(detect(amqp, 'AMQP\x00\x00\x09\x01', 'out', EPHEMERAL, 9999), 'client');
    assert.equal(detect(amqp, 'AMQP\x00\x00\x09\x01', 'in', 9999, EPHEMERAL), 'server');
    const heartbeat = Uint8Array.from([8, 0, 0, 0, 0, 0, 0, 0xce]);
    assert.equal(detect(amqp, heartbeat, 'out', EPHEMERAL, 5672), 'client');
    assert.equal(detect(amqp, heartbeat, 'out', EPHEMERAL, 9999), undefined);
    assert.equal(detect(amqp, Uint8Array.from([8, 0, 0, 0, 0, 0, 0, 0x00]), 'out', EPHEMERAL, 5672), undefined, 'a wrong frame end');
  });

  it("other protocols' first bytes are never claimed, on any port", () => {
    for (const m of [nats, mqtt, amqp]) {
      for (const bytes of OTHERS) {
        for (const [dir, local, remote] of [['out', EPHEMERAL, 9999], ['in', 9999, EPHEMERAL], ['out', EPHEMERAL, 6379]] as const) {
          assert.equal(detect(m, bytes, dir, local, remote), undefined, `${m.name} ${JSON.stringify(bytes)}`);
        }
      }
    }
  });
});
