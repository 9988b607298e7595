// waggle-test: no-kernel
// Fuzz: random memcached conversations (classic and meta, noreply, quiet,
// big blocks, pipelines) cut at random, capped to random head/tail sizes, with
// flipped bytes, garbage and lost chunks: never throws, state stays bounded,
// never more operations than commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { MAX_PENDING, MemcachedParser } from '../../../src/protocols/memcached/parser.js';

let seed = 0x1234567;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]) => a[int(a.length)]!;
const val = () => 'v'.repeat(pick([0, 1, 10, 3000, 100_000]));

interface Conversation { chunks: Array<{ dir: 'out' | 'in'; data: Buffer }>; commands: number }

function conversation(): Conversation {
  const chunks: Conversation['chunks'] = [];
  let commands = 0;
  for (let round = 0; round < 20; round++) {
    let out = '';
    let back = '';
    const n = 1 + int(pick([1, 5, 50]));
    for (let i = 0; i < n; i++) {
      commands++;
      const v = val();
      switch (int(9)) {
        case 0: out += `set k 0 0 ${v.length}\r\n${v}\r\n`; back += pick(['STORED\r\n', 'NOT_STORED\r\n', 'SERVER_ERROR out of memory\r\n']); break;
        case 1: out += `set k 0 0 ${v.length} noreply\r\n${v}\r\n`; break;
        case 2: { const keys = 1 + int(4); const hits = int(keys + 1); out += `get${' k'.repeat(keys)}\r\n`; back += `VALUE k 0 ${v.length}\r\n${v}\r\n`.repeat(hits) + 'END\r\n'; break; }
        case 3: out += 'incr n 1\r\n'; back += pick(['5\r\n', 'NOT_FOUND\r\n', 'CLIENT_ERROR cannot increment\r\n']); break;
        case 4: out += 'stats\r\n'; back += 'STAT pid 1\r\n'.repeat(int(200)) + 'END\r\n'; break;
        case 5: out += 'mg k v\r\n'; back += pick([`VA ${v.length}\r\n${v}\r\n`, 'EN\r\n']); break;
        case 6: out += 'mg k v q\r\nmn\r\n'; commands++; back += pick([`VA ${v.length}\r\n${v}\r\n`, '']) + 'MN\r\n'; break;
        case 7: out += 'delete k\r\n'; back += pick(['DELETED\r\n', 'NOT_FOUND\r\n']); break;
        default: out += 'version\r\n'; back += 'VERSION 1.6.18\r\n';
      }
    }
    for (const [dir, s] of [['out', out], ['in', back]] as const) {
      const b = Buffer.from(s, 'latin1');
      for (let at = 0; at < b.length; ) {
        const len = 1 + int(pick([5, 300, 5000, 200_000]));
        chunks.push({ dir, data: b.subarray(at, at + len) });
        at += len;
      }
    }
  }
  return { chunks, commands };
}

function mutate(data: Buffer): Buffer {
  const b = Buffer.from(data);
  switch (int(5)) {
    case 0: if (b.length) b[int(b.length)] = int(256); return b;
    case 1: return Buffer.concat([b, Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
    case 2: return b.subarray(0, int(b.length + 1));
    default: return b;
  }
}

function feedAll(conv: Conversation, o: { head: number; tail: number; mutate: boolean; role: 'client' | 'server' }) {
  const p = new MemcachedParser(o.role);
  const ops: Operation[] = [];
  const emit = (op: Operation) => ops.push(op);
  const internals = p as unknown as { pending: unknown[] };
  let t = 0;
  for (const c of conv.chunks) {
    if (o.mutate && int(50) === 0) continue;
    const data = o.mutate && int(10) === 0 ? mutate(c.data) : c.data;
    const head = data.subarray(0, Math.min(o.head, data.length));
    const tail = data.length > o.head ? data.subarray(Math.max(o.head, data.length - o.tail)) : data.subarray(0, 0);
    const direction = o.role === 'client' ? c.dir : c.dir === 'out' ? 'in' : 'out';
    const view: ChunkView = { direction, timeNs: ++t, bytes: data.length, head, tail, lost: o.mutate && int(40) === 0 ? 1 : 0, tid: 1 };
    p.feed(view, emit);
    assert.ok(internals.pending.length <= MAX_PENDING + 1);
  }
  p.end('closed', emit);
  return { p, ops };
}

describe('memcached fuzz', () => {
  it('whole conversations, any chunking: exactly one operation per command', () => {
    for (let i = 0; i < 30; i++) {
      const conv = conversation();
      for (const role of ['client', 'server'] as const) {
        const { p, ops } = feedAll(conv, { head: 1 << 30, tail: 0, mutate: false, role });
        assert.equal(ops.length, conv.commands);
        assert.ok(ops.every((op) => !op.incomplete && op.endNs >= op.startNs && op.role === role));
        assert.equal(p.stats.unparsed + p.stats.orphanResponses, 0);
      }
    }
  });

  it('capped heads and tails: never throws, never more operations than commands', () => {
    for (let i = 0; i < 60; i++) {
      const conv = conversation();
      const { p, ops } = feedAll(conv, { head: pick([16, 64, 512, 2048]), tail: pick([0, 16, 256]), mutate: false, role: pick(['client', 'server'] as const) });
      assert.ok(ops.length <= conv.commands);
      for (const v of Object.values(p.stats)) assert.ok(Number.isInteger(v) && v >= 0);
    }
  });

  it('flipped bytes, garbage, truncations and lost chunks: never throws, stays bounded', () => {
    for (let i = 0; i < 150; i++) {
      const conv = conversation();
      const { ops } = feedAll(conv, { head: pick([64, 2048, 1 << 30]), tail: pick([0, 256]), mutate: true, role: pick(['client', 'server'] as const) });
      assert.ok(ops.length <= conv.commands + conv.chunks.length * 2);
      assert.ok(ops.every((op) => op.operation.length <= 32 && String(op.attributes['db.query.text']).length < 300));
    }
  });

  it('pure random bytes', () => {
    for (let i = 0; i < 300; i++) {
      const p = new MemcachedParser(pick(['client', 'server'] as const));
      for (let j = 0; j < 20; j++) {
        const b = Buffer.from(Array.from({ length: int(300) }, () => (int(3) === 0 ? pick([13, 10, 32, 0x30, 0x56, 0x45]) : int(256))));
        p.feed({ direction: pick(['in', 'out'] as const), timeNs: j, bytes: b.length + int(3) * int(5000), head: b, tail: b.subarray(0, int(2) ? 0 : 10), lost: int(10) === 0 ? 1 : 0, tid: 1 }, () => undefined);
      }
      p.end('idle', () => undefined);
    }
  });
});
