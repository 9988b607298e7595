// waggle-test: no-kernel
// Fuzz: random conversations (RESP2/RESP3 replies, nested aggregates, big
// bulks, pipelines, MULTI, pushes) cut at random, capped to random head/tail
// sizes, with flipped bytes, garbage and lost chunks: the parser never throws,
// its state stays bounded, and it never emits more operations than commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { MAX_HELD, MAX_PENDING, RedisParser } from '../../../src/protocols/redis/parser.js';

let seed = 0x9e3779b9;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]) => a[int(a.length)]!;

const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
const cmd = (...a: string[]) => `*${a.length}\r\n${a.map(bulk).join('')}`;
const str = () => 'x'.repeat(pick([0, 1, 5, 100, 3000, 70_000]));

function reply(depth = 0): string {
  const k = int(depth > 2 ? 10 : 16);
  switch (k) {
    case 0: return '+OK\r\n';
    case 1: return `-${pick(['ERR bad', 'WRONGTYPE op', 'NOAUTH x'])}\r\n`;
    case 2: return `:${int(1e6)}\r\n`;
    case 3: return bulk(str());
    case 4: return '$-1\r\n';
    case 5: return '_\r\n';
    case 6: return ',3.14\r\n';
    case 7: return '#t\r\n';
    case 8: return '(12345678901234567890\r\n';
    case 9: return `!${'ERR blob'.length}\r\nERR blob\r\n`;
    case 10: { const n = int(4); return `*${n}\r\n${Array.from({ length: n }, () => reply(depth + 1)).join('')}`; }
    case 11: { const n = int(3); return `%${n}\r\n${Array.from({ length: 2 * n }, () => reply(depth + 1)).join('')}`; }
    case 12: { const n = int(3); return `~${n}\r\n${Array.from({ length: n }, () => reply(depth + 1)).join('')}`; }
    case 13: return `|1\r\n+key\r\n:1\r\n${reply(depth + 1)}`;
    case 14: return `*${int(3000)}\r\n`.replace(/^\*(\d+)\r\n$/, (_m, n: string) => `*${n}\r\n${':1\r\n'.repeat(Number(n))}`);
    default: return '*-1\r\n';
  }
}

interface Conversation { chunks: Array<{ dir: 'out' | 'in'; data: Buffer }>; commands: number }

function conversation(): Conversation {
  const chunks: Conversation['chunks'] = [];
  let commands = 0;
  for (let round = 0; round < 20; round++) {
    const n = 1 + int(pick([1, 4, 40]));
    let out = '';
    let back = '';
    for (let i = 0; i < n; i++) {
      const kind = int(10);
      if (kind === 0) {
        out += cmd('MULTI') + cmd('SET', 'a', str()) + cmd('EXEC');
        back += '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n';
        commands += 3;
      } else if (kind === 1) {
        out += 'PING\r\n';
        back += '+PONG\r\n';
        commands++;
      } else {
        out += cmd(pick(['GET', 'SET', 'HSET', 'LRANGE', 'CLIENT']), ...Array.from({ length: int(4) }, str));
        back += reply();
        commands++;
      }
      if (int(8) === 0) back += '>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n';
    }
    for (const [dir, s] of [['out', out], ['in', back]] as const) {
      const b = Buffer.from(s, 'latin1');
      for (let at = 0; at < b.length; ) {
        const len = 1 + int(pick([7, 300, 5000, 200_000]));
        chunks.push({ dir, data: b.subarray(at, at + len) });
        at += len;
      }
    }
  }
  return { chunks, commands };
}

function mutate(data: Buffer): Buffer {
  const b = Buffer.from(data);
  switch (int(6)) {
    case 0: if (b.length) b[int(b.length)] = int(256); return b;
    case 1: return Buffer.concat([b, Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
    case 2: return b.subarray(0, int(b.length + 1));
    default: return b;
  }
}

function feedAll(conv: Conversation, opts: { head: number; tail: number; mutate: boolean; role: 'client' | 'server' }) {
  const p = new RedisParser(opts.role);
  const ops: Operation[] = [];
  const emit = (o: Operation) => ops.push(o);
  const internals = p as unknown as { pending: unknown[]; held: unknown[] };
  let t = 0;
  for (const c of conv.chunks) {
    const data = opts.mutate && int(10) === 0 ? mutate(c.data) : c.data;
    const lost = opts.mutate && int(40) === 0 ? 1 + int(5) : 0;
    if (opts.mutate && int(50) === 0) continue; // a chunk silently missing
    const head = data.subarray(0, Math.min(opts.head, data.length));
    const tail = data.length > opts.head ? data.subarray(Math.max(opts.head, data.length - opts.tail)) : data.subarray(0, 0);
    const direction = opts.role === 'client' ? c.dir : c.dir === 'out' ? 'in' : 'out';
    const view: ChunkView = { direction, timeNs: ++t, bytes: data.length, head, tail, lost, tid: 1 };
    p.feed(view, emit);
    assert.ok(internals.pending.length <= MAX_PENDING + 1);
    assert.ok(internals.held.length <= MAX_HELD);
  }
  p.end(pick(['closed', 'idle', 'evicted'] as const), emit);
  return { p, ops };
}

describe('redis fuzz', () => {
  it('whole conversations, any chunking: exactly one operation per command, none orphaned', () => {
    for (let i = 0; i < 30; i++) {
      const conv = conversation();
      for (const role of ['client', 'server'] as const) {
        const { p, ops } = feedAll(conv, { head: 1 << 30, tail: 0, mutate: false, role });
        assert.equal(ops.length, conv.commands);
        assert.ok(ops.every((o) => !o.incomplete && o.endNs >= o.startNs && o.role === role));
        assert.equal(p.stats.unparsed + p.stats.orphanResponses, 0);
      }
    }
  });

  it('capped heads and tails: never throws, never more operations than commands', () => {
    for (let i = 0; i < 60; i++) {
      const conv = conversation();
      const head = pick([16, 64, 512, 2048]);
      const { p, ops } = feedAll(conv, { head, tail: pick([0, 16, 256]), mutate: false, role: pick(['client', 'server'] as const) });
      assert.ok(ops.length <= conv.commands, `${ops.length} > ${conv.commands}`);
      for (const v of Object.values(p.stats)) assert.ok(Number.isInteger(v) && v >= 0);
    }
  });

  it('flipped bytes, garbage, truncations and lost chunks: never throws, stays bounded', () => {
    for (let i = 0; i < 150; i++) {
      const conv = conversation();
      const { p, ops } = feedAll(conv, { head: pick([64, 2048, 1 << 30]), tail: pick([0, 256]), mutate: true, role: pick(['client', 'server'] as const) });
      // Garbage can look like extra inline commands, never like unbounded ones.
      assert.ok(ops.length <= conv.commands + conv.chunks.length * 2);
      assert.ok(ops.every((o) => typeof o.operation === 'string' && o.operation.length <= 65 && String(o.attributes['db.query.text']).length < 200));
      for (const v of Object.values(p.stats)) assert.ok(Number.isInteger(v) && v >= 0);
    }
  });

  it('pure random bytes in both directions', () => {
    for (let i = 0; i < 300; i++) {
      const p = new RedisParser(pick(['client', 'server'] as const));
      for (let j = 0; j < 20; j++) {
        const b = Buffer.from(Array.from({ length: int(300) }, () => (int(3) === 0 ? pick([13, 10, 42, 36, 43, 45, 58]) : int(256))));
        p.feed({ direction: pick(['in', 'out'] as const), timeNs: j, bytes: b.length + int(3) * int(5000), head: b, tail: b.subarray(0, int(2) ? 0 : 10), lost: int(10) === 0 ? 1 : 0, tid: 1 }, () => undefined);
      }
      p.end('closed', () => undefined);
    }
  });
});
