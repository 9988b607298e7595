// The stream capture (bpf/capture/stream.h): a watched server speaking a
// made-up line protocol sends every read and write to onStreamChunk, in order,
// with exact byte counts, head and tail bytes; its close arrives after its last
// chunk; an ignored connection stops streaming; HTTP/1 stays on its fast path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type StreamChunk, type StreamEnd } from '../../src/capture/index.js';
import { python3, sleep, startChild, type Child, waitFor } from '../helpers/process.js';
import { type Collected, collect } from './helpers/capture.js';
import { connect } from './helpers/raw-client.js';

// Answers "PING\n" with "+PONG\n", "BIG n\n" with n bytes ('a'…'z' repeating,
// then "!\n"), and echoes "GET …" lines back untouched, one sendall per answer.
const SERVER = String.raw`
import socket, socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            if line.startswith(b'PING'): self.wfile.write(b'+PONG\n')
            elif line.startswith(b'BIG '):
                n = int(line[4:])
                body = bytes(97 + i % 26 for i in range(n - 2)) + b'!\n'
                self.wfile.write(body)
            else: self.wfile.write(line)
            self.wfile.flush()
class S(socketserver.ThreadingTCPServer): allow_reuse_address = True; daemon_threads = True
s = S(('127.0.0.1', 0), H)
print('port', s.server_address[1], flush=True)
s.serve_forever()
`;

interface Kept { connectionId: string; direction: string; bytes: number; head: string; tail: string; lost: number; pid: number; localPort: number; remotePort: number }

describe('stream capture', () => {
  let server: Child;
  let port: number;
  let cap: Collected;
  const chunks: Kept[] = [];
  const ends: StreamEnd[] = [];
  const keep = (c: StreamChunk) =>
    chunks.push({
      connectionId: c.connectionId,
      direction: c.direction,
      bytes: c.bytes,
      head: Buffer.from(c.head).toString('latin1'),
      tail: Buffer.from(c.tail).toString('latin1'),
      lost: c.lost,
      pid: c.pid,
      localPort: c.local.port,
      remotePort: c.remote.port,
    });
  const of = (clientPort: number) => chunks.filter((c) => c.remotePort === clientPort);

  before(async () => {
    server = startChild(python3, ['-u', '-c', SERVER]);
    await server.waitForOutput(/port (\d+)/);
    port = Number(/port (\d+)/.exec(server.output())![1]);
    cap = await collect({ onStreamChunk: keep, onStreamEnd: (e) => ends.push({ ...e }), streamHeadBytes: 64, streamTailBytes: 16, streamSegments: 4 });
    cap.capture.watch(server.pid);
  });
  after(async () => {
    try {
      await cap?.close();
    } finally {
      server?.kill();
    }
  });

  test('each read and write is one chunk, in order, with the exact bytes; the close comes last', async () => {
    const client = await connect(port);
    for (let i = 0; i < 3; i++) {
      await client.write('PING\n');
      await client.waitFor((t) => t.split('+PONG').length - 1 === i + 1);
    }
    client.end();
    await client.closed;
    const mine = (await waitFor(() => {
      cap.capture.drain();
      const got = of(client.localPort);
      return got.length >= 6 && ends.some((e) => e.connectionId === got[0]!.connectionId) ? got : false;
    }, 5000)) as Kept[];
    assert.deepEqual(
      mine.map((c) => [c.direction, c.bytes, c.head, c.tail, c.lost]),
      [0, 1, 2].flatMap(() => [['in', 5, 'PING\n', '', 0], ['out', 6, '+PONG\n', '', 0]]),
    );
    assert.ok(mine.every((c) => c.pid === server.pid && c.localPort === port));
    assert.equal(new Set(mine.map((c) => c.connectionId)).size, 1);
    assert.match(mine[0]!.connectionId, /^socket:\[\d+\]$/);
    const end = ends.find((e) => e.connectionId === mine[0]!.connectionId)!;
    assert.equal(end.lost, 0);
  });

  test('a run longer than the head: 3 segments of 64 bytes, then the rest with its first 64 and last 16 bytes', async () => {
    const client = await connect(port);
    await client.write('BIG 1000\n');
    await client.waitFor((t) => t.endsWith('!\n'));
    const body = Buffer.from(client.received(), 'latin1');
    const out = (await waitFor(() => {
      cap.capture.drain();
      const got = of(client.localPort).filter((c) => c.direction === 'out');
      return got.reduce((a, c) => a + c.bytes, 0) >= 1000 ? got : false;
    }, 5000)) as Kept[];
    // One sendall, one write: streamSegments 4 × streamHeadBytes 64.
    assert.deepEqual(out.map((c) => c.bytes), [64, 64, 64, 808]);
    for (let i = 0; i < 3; i++) {
      assert.equal(out[i]!.head, body.subarray(i * 64, (i + 1) * 64).toString('latin1'));
      assert.equal(out[i]!.tail, '');
    }
    assert.equal(out[3]!.head, body.subarray(192, 256).toString('latin1'));
    assert.equal(out[3]!.tail, body.subarray(1000 - 16).toString('latin1'));
    assert.ok(out.every((c) => c.lost === 0));
    client.end();
  });

  test('an ignored connection streams nothing more; an HTTP/1 request on a fresh connection takes the fast path', async () => {
    const client = await connect(port);
    await client.write('PING\n');
    await client.waitFor((t) => t.includes('+PONG'));
    const first = (await waitFor(() => {
      cap.capture.drain();
      return of(client.localPort)[0];
    }, 5000))!;
    cap.capture.setStreamVerdict(Number(/\d+/.exec(first.connectionId)![0]), 'ignore');
    const before = of(client.localPort).length;
    for (let i = 0; i < 5; i++) {
      await client.write('PING\n');
      await client.waitFor((t) => t.split('+PONG').length - 1 === i + 2);
    }
    await sleep(100);
    cap.capture.drain();
    // The verdict takes effect at the next run: the chunk that read it was not sent.
    assert.equal(of(client.localPort).length, before);
    client.end();

    const http = await connect(port);
    await http.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
    await http.waitFor((t) => t.endsWith('\r\n\r\n'));
    await sleep(100);
    cap.capture.drain();
    assert.deepEqual(of(http.localPort), [], 'a request start never streams');
    http.end();
    const s = cap.capture.stats();
    assert.equal(s.streamRingBufferDrops, 0);
    assert.equal(s.streamReadFailed, 0);
  });
});

// Accepts, waits until the client has reset the connection, then reads what
// the client sent before its reset: the read returns bytes of a socket the
// kernel has already closed.
const READS_AFTER_RESET = String.raw`
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(16)
print('port', s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    time.sleep(0.3)
    try: n = len(c.recv(100))
    except OSError: n = -1
    print('read', n, flush=True)
    c.close()
`;

describe('stream capture: a run read after the socket closed', () => {
  test('is streamed and ended at once: no entry is left for the next socket at that address to inherit', async () => {
    const server = startChild(python3, ['-u', '-c', READS_AFTER_RESET]);
    const chunks: StreamChunk[] = [];
    const ends: StreamEnd[] = [];
    let cap: Collected | undefined;
    try {
      await server.waitForOutput(/port (\d+)/);
      const port = Number(/port (\d+)/.exec(server.output())![1]);
      cap = await collect({ onStreamChunk: (c) => chunks.push({ ...c, head: Buffer.from(c.head) }), onStreamEnd: (e) => ends.push({ ...e }) });
      cap.capture.watch(server.pid);
      const client = await connect(port);
      await client.write('HELLO\n');
      client.sock.resetAndDestroy();
      await server.waitForOutput(/read -?\d+/);
      assert.match(server.output(), /read 6/, 'the server read the bytes sent before the reset');
      const mine = (await waitFor(() => {
        cap!.capture.drain();
        const c = chunks.find((x) => x.remote.port === client.localPort);
        return c && ends.some((e) => e.connectionId === c.connectionId) ? c : false;
      }, 5000).catch(() => undefined)) as StreamChunk | undefined;
      assert.ok(mine, `a chunk and an end for the connection (chunks ${chunks.length}, ends ${ends.length})`);
      assert.equal(Buffer.from(mine.head).toString('latin1'), 'HELLO\n');
      assert.equal(cap.capture.stats().streamStale, 0);
    } finally {
      await cap?.close();
      server.kill();
    }
  });
});
