// waggle-test: no-kernel
// The parser on hand-made byte streams: chunk splits anywhere, holes skipped by
// bulk length, RESP3 attributes, MULTI aborts, overflow, lost chunks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { MAX_PENDING, RedisParser } from '../../../src/protocols/redis/parser.js';

const cmd = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

let t = 0;
function view(s: string | Buffer, direction: 'in' | 'out', head = 1 << 20, tail = 256, lost = 0): ChunkView {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  const h = b.subarray(0, Math.min(head, b.length));
  const tl = b.length > head ? b.subarray(Math.max(head, b.length - tail)) : b.subarray(0, 0);
  return { direction, timeNs: ++t, bytes: b.length, head: h, tail: tl, lost, tid: 1 };
}

function run(chunks: ChunkView[], role: 'client' | 'server' = 'client') {
  const p = new RedisParser(role);
  const ops: Operation[] = [];
  for (const c of chunks) p.feed(c, (o) => ops.push(o));
  p.end('closed', (o) => ops.push(o));
  return { ops, p, names: ops.map((o) => `${o.operation}${o.errorType ? ':' + o.errorType : ''}${o.incomplete ? '!' + o.incomplete : ''}`) };
}

describe('redis framing', () => {
  it('splits at every byte give the same operations', () => {
    const out = cmd('SET', 'a', '1') + cmd('GET', 'a') + 'PING\r\n' + cmd('HGETALL', 'h');
    const back = '+OK\r\n$1\r\n1\r\n+PONG\r\n%1\r\n$1\r\nf\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n';
    for (let i = 1; i < out.length; i++) {
      const j = i % back.length || 1;
      const r = run([view(out.slice(0, i), 'out'), view(out.slice(i), 'out'), view(back.slice(0, j), 'in'), view(back.slice(j), 'in')]);
      assert.deepEqual(r.names, ['SET', 'GET', 'PING', 'HGETALL'], `split at ${i}/${j}`);
      assert.equal(r.p.stats.unparsed, 0);
    }
  });

  it('a bulk string longer than the head is skipped across the hole by its length', () => {
    const big = 'v'.repeat(100_000);
    const r = run([view(cmd('SET', 'k', big) + cmd('GET', 'k'), 'out', 2048), view('+OK\r\n', 'in'), view(`$${big.length}\r\n${big}\r\n`, 'in', 2048)]);
    assert.deepEqual(r.names, ['SET', 'GET']);
    assert.equal(r.p.stats.unparsed, 0);
  });

  it('EXEC answered with an error or a nil: the queued commands end with EXECABORT', () => {
    const r = run([view(cmd('MULTI') + cmd('SET', 'a', '1') + cmd('NOSUCH') + cmd('EXEC'), 'out'), view('+OK\r\n+QUEUED\r\n-ERR unknown command\r\n-EXECABORT Transaction discarded\r\n', 'in'), view(cmd('MULTI') + cmd('GET', 'a') + cmd('EXEC'), 'out'), view('+OK\r\n+QUEUED\r\n*-1\r\n', 'in')]);
    assert.deepEqual(r.names, ['MULTI', 'NOSUCH:ERR', 'SET:EXECABORT', 'EXEC:EXECABORT', 'MULTI', 'GET:EXECABORT', 'EXEC']);
  });

  it('RESP3 blob errors keep their code; an error inside EXEC reaches its command', () => {
    const r = run([view(cmd('MULTI') + cmd('INCR', 's') + cmd('GET', 's') + cmd('EXEC') + cmd('X'), 'out'), view('+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n!21\r\nERR not an integer xx\r\n$1\r\na\r\n!9\r\nNOAUTH no\r\n', 'in')]);
    assert.deepEqual(r.names, ['MULTI', 'INCR:ERR', 'GET', 'EXEC', 'X:NOAUTH']);
  });

  it('pending commands beyond the cap are counted and their replies skipped in order', () => {
    const n = MAX_PENDING + 10;
    const r = run([view(cmd('PING').repeat(n), 'out'), view('+PONG\r\n'.repeat(n), 'in')]);
    assert.equal(r.ops.length, MAX_PENDING);
    assert.equal(r.p.stats.pendingOverflow, 10);
    assert.equal(r.p.stats.orphanResponses, 0);
  });

  it('lost chunks end the pending commands as lost and pairing restarts at a value start', () => {
    const r = run([view(cmd('GET', 'a') + cmd('GET', 'b'), 'out'), view('$1\r\n1\r\n', 'in'), view('$1\r\n2\r\n', 'in', 1 << 20, 256, 3), view(cmd('SET', 'c', '1'), 'out'), view('+OK\r\n', 'in')]);
    assert.deepEqual(r.names, ['GET', 'GET!lost', 'SET']);
    // Missing chunks are the platform's count (chunksLost), not garbage of ours.
    assert.equal(r.p.stats.unparsed, 0);
  });

  it('replies with no command are orphans; garbage is counted and skipped', () => {
    const r = run([view('+OK\r\n', 'in'), view('\x00\x01garbage\r\n', 'in'), view(cmd('GET', 'a'), 'out'), view('$-1\r\n', 'in')]);
    assert.deepEqual(r.names, ['GET']);
    assert.equal(r.p.stats.orphanResponses, 1);
    assert.ok(r.p.stats.unparsed >= 1);
  });

  it('the server side pairs reads with writes the same way', () => {
    const r = run([view(cmd('SET', 'a', '1') + cmd('INCR', 'a'), 'in'), view('+OK\r\n:2\r\n', 'out')], 'server');
    assert.deepEqual(r.names, ['SET', 'INCR']);
    assert.ok(r.ops.every((o) => o.role === 'server'));
  });
});
