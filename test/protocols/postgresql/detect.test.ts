// waggle-test: no-kernel
// detect(): startup-phase messages on any port, message shapes only with 5432.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView } from '../../../src/protocols/module.js';
import { postgresql } from '../../../src/protocols/postgresql/index.js';
import { execute, parse, query, ready, rowDescription, sslRequest, startup, sync } from './helpers/wire.js';

function chunk(bytes: Buffer, direction: 'in' | 'out'): ChunkView {
  return { direction, timeNs: 1, bytes: bytes.length, head: bytes, tail: new Uint8Array(0), lost: 0, tid: 1 };
}
const detect = (b: Buffer, direction: 'in' | 'out', localPort = 40000, remotePort = 6000) => postgresql.detect({ chunk: chunk(b, direction), localPort, remotePort });

describe('postgresql detect', () => {
  it('StartupMessage, SSLRequest, GSSENCRequest, CancelRequest on any port', () => {
    const cancel = Buffer.from([0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 0, 0, 0, 2]);
    const gss = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);
    for (const b of [startup({ user: 'u' }), sslRequest(), gss, cancel]) {
      assert.equal(detect(b, 'out'), 'client');
      assert.equal(detect(b, 'in'), 'server');
    }
  });

  it('midway: frontend messages to port 5432, backend messages from it', () => {
    assert.equal(detect(query('SELECT 1'), 'out', 40000, 5432), 'client');
    assert.equal(detect(query('SELECT 1'), 'in', 5432, 40000), 'server');
    assert.equal(detect(Buffer.concat([parse('', 'SELECT $1'), execute(), sync()]), 'out', 40000, 5432), 'client');
    assert.equal(detect(Buffer.concat([rowDescription(), ready()]), 'in', 40000, 5432), 'client');
    assert.equal(detect(ready(), 'out', 5432, 40000), 'server');
  });

  it('midway without the port hint, or with other protocols: not claimed', () => {
    assert.equal(detect(query('SELECT 1'), 'out'), undefined);
    for (const other of ['GET / HTTP/1.1\r\n\r\n', '*1\r\n$4\r\nPING\r\n', 'PING\r\n', 'CONNECT {}\r\n', '\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00', 'AMQP\x00\x00\x09\x01']) {
      assert.equal(detect(Buffer.from(other, 'latin1'), 'out', 40000, 5432), undefined, JSON.stringify(other));
      assert.equal(detect(Buffer.from(other, 'latin1'), 'in', 40000, 5432), undefined, JSON.stringify(other));
    }
    // A MySQL greeting (3-byte length, sequence 0, protocol 10).
    assert.equal(detect(Buffer.from('4a0000000a382e302e3333', 'hex'), 'in', 40000, 3306), undefined);
    assert.equal(detect(Buffer.alloc(0), 'out', 40000, 5432), undefined);
  });
});
