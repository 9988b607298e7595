// The real stream capture (kernel) feeding the Redis and Memcached modules
// through the StreamTracker, every process watched but this one (as the agent
// with no selector): redis-cli, redis-benchmark and a Python memcached client
// against real servers; exact operations per process, client and server side.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SocketCapture, type StreamChunk, type StreamEnd } from '../../../src/capture/index.js';
import { memcached } from '../../../src/protocols/memcached/index.js';
import type { LocatedOperation } from '../../../src/protocols/module.js';
import { redis } from '../../../src/protocols/redis/index.js';
import { StreamTracker } from '../../../src/protocols/stream/index.js';
import { python3, sleep, startChild, within } from '../../helpers/process.js';
import { type RealServer, startMemcached, startRedis } from './helpers/servers.js';

interface Seen { protocol: string; pid: number; role: string; operation: string; error: string; incomplete: string }

describe('redis and memcached from the kernel stream capture', () => {
  let redisServer: RealServer;
  let mc: RealServer;
  let capture: SocketCapture;
  let tracker: StreamTracker;
  const seen: Seen[] = [];
  const errors: unknown[] = [];

  before(async () => {
    redisServer = await startRedis();
    mc = await startMemcached();
    tracker = new StreamTracker({
      modules: [redis, memcached],
      onOperation: (l: LocatedOperation) => seen.push({ protocol: l.protocol, pid: l.pid, role: l.op.role, operation: l.op.operation, error: l.op.errorType ?? '', incomplete: l.op.incomplete ?? '' }),
      setVerdict: (inode, v) => capture?.setStreamVerdict(inode, v),
      onError: (e) => errors.push(e),
    });
    capture = await SocketCapture.start({
      onExchange: () => undefined,
      onError: (e) => errors.push(e),
      onStreamChunk: (c: StreamChunk) => tracker.handleChunk(c),
      onStreamEnd: (e: StreamEnd) => tracker.handleEnd(e),
    });
    capture.watchAllExcept([process.pid]);
  });
  after(async () => {
    capture?.close();
    await redisServer?.stop();
    await mc?.stop();
  });

  /** Runs a client to its end, then waits until its connections' operations are in. */
  async function drive(cmd: string, args: string[], input: string): Promise<number> {
    const child = startChild(cmd, args);
    child.proc.stdin?.end(input);
    const st = await within(child.exited, 60_000, cmd);
    assert.equal(st.code, 0, child.errors());
    await sleep(300);
    capture.drain();
    await sleep(200);
    capture.drain();
    return child.pid;
  }

  const count = (filter: (s: Seen) => boolean) => {
    const out: Record<string, number> = {};
    for (const s of seen.filter(filter)) {
      const k = `${s.operation}${s.error ? ':' + s.error : ''}${s.incomplete ? '!' + s.incomplete : ''}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };

  it('redis-cli: 100 SET and 50 GET, exactly, on the client and on the server', async () => {
    const from = seen.length;
    const lines = [...Array.from({ length: 100 }, (_, i) => `SET key:${i} value-${i}`), ...Array.from({ length: 50 }, (_, i) => `GET key:${i}`)];
    const pid = await drive('redis-cli', ['-p', String(redisServer.port)], lines.join('\n') + '\n');
    const mine = seen.slice(from);
    assert.deepEqual(count((s) => mine.includes(s) && s.pid === pid), { 'COMMAND DOCS': 1, SET: 100, GET: 50 });
    assert.ok(mine.filter((s) => s.pid === pid).every((s) => s.role === 'client' && s.protocol === 'redis'));
    const server = count((s) => mine.includes(s) && s.role === 'server' && s.pid === redisServer.pid);
    assert.deepEqual(server, { 'COMMAND DOCS': 1, SET: 100, GET: 50 });
    assert.deepEqual(errors, []);
  });

  for (const p of [16, 1]) {
    it(`redis-benchmark -n 2000 -P ${p} -t set: exactly 2000 SET on each side`, async () => {
      const from = seen.length;
      const pid = await drive('redis-benchmark', ['-p', String(redisServer.port), '-n', '2000', '-P', String(p), '-t', 'set', '-q'], '');
      const mine = seen.slice(from);
      const client = count((s) => mine.includes(s) && s.pid === pid);
      assert.equal(client.SET, 2000, JSON.stringify(client));
      assert.deepEqual(Object.keys(client).filter((k) => k !== 'SET' && k !== 'CONFIG GET'), []);
      const server = count((s) => mine.includes(s) && s.role === 'server' && s.pid === redisServer.pid);
      assert.equal(server.SET, 2000, JSON.stringify(server));
      assert.deepEqual(errors, []);
    });
  }

  it('memcached: 100 set, 60 get hits, 25 misses, 20 noreply sets, 5 multi-gets, from Python', async () => {
    const from = seen.length;
    const script = String.raw`
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
f = s.makefile('rb')
def line(): return f.readline()
def until_end():
    while True:
        l = line()
        if l == b'END\r\n': return
        if l.startswith(b'VALUE'): f.readline()
for i in range(100):
    v = b'val-%d' % i
    s.sendall(b'set k%d 0 0 %d\r\n%s\r\n' % (i, len(v), v)); assert line() == b'STORED\r\n'
for i in range(60): s.sendall(b'get k%d\r\n' % i); until_end()
for i in range(25): s.sendall(b'get missing%d\r\n' % i); until_end()
for i in range(20): s.sendall(b'set q%d 0 0 1 noreply\r\nq\r\n' % i)
for i in range(5): s.sendall(b'get k1 k2 k3 nope\r\n'); until_end()
s.sendall(b'incr k1 1\r\n'); assert line().startswith(b'CLIENT_ERROR')
s.sendall(b'version\r\n'); assert line().startswith(b'VERSION')
s.close()
`;
    const pid = await drive(python3, ['-c', script, String(mc.port)], '');
    const mine = seen.slice(from);
    const expected = { set: 120, get: 90, 'incr:CLIENT_ERROR': 1, version: 1 };
    assert.deepEqual(count((s) => mine.includes(s) && s.pid === pid), expected);
    assert.deepEqual(count((s) => mine.includes(s) && s.role === 'server' && s.pid === mc.pid), expected);
    assert.deepEqual(errors, []);
  });
});
