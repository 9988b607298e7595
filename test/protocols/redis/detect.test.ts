// waggle-test: no-kernel
// Which first chunks are Redis, and from which side.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView } from '../../../src/protocols/module.js';
import { redis } from '../../../src/protocols/redis/index.js';

const chunk = (s: string, direction: 'in' | 'out'): ChunkView => {
  const b = Buffer.from(s, 'latin1');
  return { direction, timeNs: 0, bytes: b.length, head: b, tail: new Uint8Array(0), lost: 0, tid: 1 };
};
const detect = (s: string, direction: 'in' | 'out', localPort = 40000, remotePort = 7000) => redis.detect({ chunk: chunk(s, direction), localPort, remotePort });

describe('redis detect', () => {
  it('a command array on any port: its writer is the client, its reader the server', () => {
    assert.equal(detect('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n', 'out'), 'client');
    assert.equal(detect('*1\r\n$4\r\nPING\r\n', 'in', 7000, 40000), 'server');
    assert.equal(detect('*2\r\n$5\r\nhello\r\n$1\r\n3\r\n', 'out'), 'client');
  });

  it('with the port hint, an array read from 6379 is a reply (joined midway)', () => {
    assert.equal(detect('*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n', 'in', 40000, 6379), 'client');
    assert.equal(detect('*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n', 'out', 6379, 40000), 'server');
  });

  it('inline commands and replies only with the port hint', () => {
    assert.equal(detect('PING\r\n', 'out', 40000, 6379), 'client');
    assert.equal(detect('PING\r\n', 'in', 6379, 40000), 'server');
    assert.equal(detect('PING\r\n', 'out'), undefined);
    for (const reply of ['+OK\r\n', '-ERR x\r\n', ':12\r\n', '$5\r\nhello\r\n', '%1\r\n', '~0\r\n', '>3\r\n', '_\r\n', '#t\r\n', ',1.5\r\n', '(123\r\n', '=7\r\ntxt:abc\r\n', '|1\r\n']) {
      assert.equal(detect(reply, 'in', 40000, 6379), 'client', reply);
      assert.equal(detect(reply, 'out', 6379, 40000), 'server', reply);
      assert.equal(detect(reply, 'in'), undefined, reply);
    }
  });

  it('other protocols are not Redis', () => {
    for (const s of ['GET / HTTP/1.1\r\n\r\n', 'INFO {"server_id":"x"}\r\n', '\x00\x00\x00\x08\x04\xd2\x16\x2f', 'get k\r\n', 'VALUE k 0 1\r\n', '*\r\n', '*x\r\n', '*1\r\n$1\r\n\x00\r\n', '*2\r\n:1\r\n']) {
      assert.equal(detect(s, 'out'), undefined, JSON.stringify(s));
      assert.equal(detect(s, 'in'), undefined, JSON.stringify(s));
    }
    // On the port, only what parses: not binary, not a half line.
    assert.equal(detect('\x16\x03\x01\x02\x00', 'out', 40000, 6379), undefined);
    assert.equal(detect('?what\r\n', 'in', 40000, 6379), undefined);
  });
});
