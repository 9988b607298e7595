// waggle-test: no-kernel
// Fuzz: real HTTP/2 and gRPC conversations (recorded once through the proxy)
// re-cut at random, capped to random head/tail sizes, started midway, with
// flipped bytes, garbage runs and lost chunks: the parser never throws, never
// emits more operations than there were requests, and pure garbage emits none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Http2Parser } from '../../../src/protocols/http2/index.js';
import { detectHttp2 } from '../../../src/protocols/http2/detect.js';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { type RecordedChunk, startRecordingProxy } from '../helpers/record-proxy.js';
import { callGreeter, type GrpcServer, startGrpcJsServer } from './grpc-peers.js';
import { type H2Server, nodeClient, startH2Server } from './servers.js';

let seed = 0x2545f491;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]) => a[int(a.length)]!;

interface Recording {
  chunks: RecordedChunk[];
  requests: number;
}

/** Re-cuts one direction's bytes into random runs (same order of directions kept by interleaving runs). */
function recut(chunks: readonly RecordedChunk[]): RecordedChunk[] {
  const out: RecordedChunk[] = [];
  for (const c of chunks) {
    for (let at = 0; at < c.data.length; ) {
      const len = 1 + int(pick([5, 64, 3000, 40_000]));
      out.push({ ...c, data: c.data.subarray(at, at + len) });
      at += len;
    }
  }
  return out;
}

function mutate(rec: Recording, side: 'client' | 'server'): ChunkView[] {
  let chunks = rnd() < 0.5 ? recut(rec.chunks) : [...rec.chunks];
  if (rnd() < 0.3) chunks = chunks.slice(int(chunks.length));
  const head = pick([16, 100, 2048, 8192]);
  const tail = pick([0, 16, 256]);
  const views: ChunkView[] = [];
  let lost = 0;
  for (const c of chunks) {
    if (rnd() < 0.03) {
      lost++;
      continue;
    }
    let data = c.data;
    if (rnd() < 0.05) {
      data = Buffer.from(data);
      for (let i = 0; i < 1 + int(4); i++) if (data.length > 0) data[int(data.length)] = int(256);
    }
    if (rnd() < 0.02) data = Buffer.from(Array.from({ length: 1 + int(500) }, () => int(256)));
    const bytes = data.length;
    const h = data.subarray(0, Math.min(head, bytes));
    const t = bytes > head ? data.subarray(Math.max(head, bytes - tail)) : data.subarray(0, 0);
    views.push({ direction: c.from === side ? 'out' : 'in', timeNs: c.timeNs, bytes, head: h, tail: t, lost, tid: 1 });
    lost = 0;
  }
  return views;
}

describe('http2 fuzz', () => {
  const recordings: Recording[] = [];
  let h2: H2Server;
  let grpcServer: GrpcServer;
  before(async () => {
    h2 = await startH2Server(50_000);
    grpcServer = await startGrpcJsServer();
    let proxy = await startRecordingProxy(h2.port);
    const paths = Array.from({ length: 60 }, (_, i) => pick(['/big', `/users/${i}`, '/status/500', '/x?y=1']));
    await nodeClient(proxy.port, paths, 8, Buffer.alloc(300, 1));
    await proxy.close();
    recordings.push({ chunks: proxy.connection(0), requests: 60 });
    proxy = await startRecordingProxy(grpcServer.port);
    await callGreeter(proxy.port, 20, 5, 30, 5);
    await proxy.close();
    for (let c = 0; c < proxy.connections(); c++) recordings.push({ chunks: proxy.connection(c), requests: 30 });
  });
  after(async () => {
    await h2?.close();
    await grpcServer?.close();
  });

  it('1200 mutated replays: no throw, never more operations than requests', () => {
    let emitted = 0;
    for (let round = 0; round < 1200; round++) {
      const rec = pick(recordings);
      const side = pick(['client', 'server'] as const);
      const parser = new Http2Parser(side);
      const ops: Operation[] = [];
      const emit = (op: Operation) => ops.push(op);
      const views = mutate(rec, side);
      for (const v of views) {
        parser.feed(v, emit);
        if (round % 7 === 0) detectHttp2({ chunk: v, localPort: 1, remotePort: 2 });
      }
      parser.end(pick(['closed', 'idle', 'evicted'] as const), emit);
      assert.ok(ops.length <= rec.requests, `round ${round}: ${ops.length} > ${rec.requests}`);
      for (const op of ops) {
        assert.ok(op.endNs >= op.startNs);
        assert.ok(op.family === 'http' || op.family === 'rpc');
      }
      emitted += ops.length;
    }
    assert.ok(emitted > 1200 * 5, `replays kept most operations (${emitted})`);
  });

  it('garbage alone emits nothing and is counted', () => {
    for (let round = 0; round < 300; round++) {
      const parser = new Http2Parser(pick(['client', 'server'] as const));
      const ops: Operation[] = [];
      for (let i = 0; i < 20; i++) {
        const data = Buffer.from(Array.from({ length: 1 + int(3000) }, () => int(256)));
        parser.feed({ direction: pick(['in', 'out'] as const), timeNs: i, bytes: data.length, head: data, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
      }
      parser.end('closed', (op) => ops.push(op));
      assert.equal(ops.length, 0, `round ${round}`);
    }
  });
});
