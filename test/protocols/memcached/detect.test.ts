// waggle-test: no-kernel
// Which first chunks are memcached, and from which side.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView } from '../../../src/protocols/module.js';
import { memcached } from '../../../src/protocols/memcached/index.js';

const chunk = (s: string, direction: 'in' | 'out'): ChunkView => {
  const b = Buffer.from(s, 'latin1');
  return { direction, timeNs: 0, bytes: b.length, head: b, tail: new Uint8Array(0), lost: 0, tid: 1 };
};
const detect = (s: string, direction: 'in' | 'out', localPort = 40000, remotePort = 7000) => memcached.detect({ chunk: chunk(s, direction), localPort, remotePort });

describe('memcached detect', () => {
  it('command lines of the exact shape, on any port', () => {
    for (const s of ['set k 0 0 5\r\nhello\r\n', 'set k 0 0 5 noreply\r\nhello\r\n', 'get a b c\r\n', 'gets a\r\n', 'cas k 1 0 2 99\r\nab\r\n', 'incr n 1\r\n', 'delete k\r\n', 'touch k 10\r\n', 'gat 10 a b\r\n', 'version\r\n', 'stats\r\n', 'mg k v\r\n', 'ms k 2 T0\r\nhi\r\n', 'mn\r\n']) {
      assert.equal(detect(s, 'out'), 'client', s);
      assert.equal(detect(s, 'in', 7000, 40000), 'server', s);
    }
  });

  it('with the port hint: any known command towards 11211, any reply from it', () => {
    assert.equal(detect('stats items\r\n', 'out', 40000, 11211), 'client');
    assert.equal(detect('flush_all 10\r\n', 'in', 11211, 40000), 'server');
    for (const r of ['VALUE k 0 5\r\nhello\r\nEND\r\n', 'END\r\n', 'STORED\r\n', 'NOT_FOUND\r\n', '42\r\n', 'SERVER_ERROR out of memory\r\n', 'STAT pid 1\r\n', 'VA 2\r\nhi\r\n', 'HD\r\n', 'EN\r\n']) {
      assert.equal(detect(r, 'in', 40000, 11211), 'client', r);
      assert.equal(detect(r, 'out', 11211, 40000), 'server', r);
      assert.equal(detect(r, 'in'), undefined, r);
    }
  });

  it('other protocols are not memcached', () => {
    for (const s of ['GET / HTTP/1.1\r\n\r\n', '*1\r\n$4\r\nPING\r\n', 'PING\r\n', 'PUB a 5\r\nhello\r\n', 'CONNECT {}\r\n', 'get\r\n', 'set k x y z\r\n', '\x80\x00\x00\x05']) {
      assert.equal(detect(s, 'out'), undefined, JSON.stringify(s));
    }
    // Redis' inline "get k" on its port is Redis'.
    assert.equal(detect('get k\r\n', 'out', 40000, 6379), undefined);
    assert.equal(detect('\x80\x01\x00\x03', 'out', 40000, 11211), undefined);
  });
});
