// The messaging modules' fuzz harness: a conversation (one entry per write)
// replayed with random re-splits, head/tail holes, byte flips, garbage and
// lost chunks, from both sides. Checks: nothing throws, the parser's retained
// state stays under a bound, and counts stay sane (re-splitting changes
// nothing; holes and lost chunks only lose messages, never invent them).
import assert from 'node:assert/strict';
import type { ChunkView, ConnectionParser, Operation } from '../../../src/protocols/module.js';

export interface Write {
  from: 'client' | 'server';
  data: Uint8Array;
}

/** xorshift32: deterministic, so a failure names a reproducible seed. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** Bytes a parser keeps reachable (typed arrays by length, strings by length, containers by entries). */
export function retainedSize(root: unknown): number {
  const seen = new Set<unknown>();
  const walk = (v: unknown): number => {
    if (v === null || typeof v !== 'object') return typeof v === 'string' ? v.length : 8;
    if (seen.has(v)) return 0;
    seen.add(v);
    if (ArrayBuffer.isView(v)) return v.byteLength;
    if (v instanceof Map) return [...v].reduce((n, [k, x]) => n + walk(k) + walk(x), 0);
    return Object.values(v as object).reduce((n: number, x) => n + (typeof x === 'function' ? 0 : walk(x)), 0);
  };
  return walk(root);
}

interface Piece {
  direction: 'in' | 'out';
  data: Uint8Array;
  lost: number;
}

function run(make: () => ConnectionParser, pieces: Piece[], head: number, tail: number, maxRetained: number): { ops: Operation[]; parser: ConnectionParser } {
  const parser = make();
  const ops: Operation[] = [];
  const emit = (op: Operation) => {
    assert.equal(typeof op.operation, 'string');
    assert.ok(Number.isFinite(op.startNs) && Number.isFinite(op.endNs));
    ops.push(op);
  };
  let t = 1000;
  for (const p of pieces) {
    const bytes = p.data.length;
    // A reused buffer, as the platform's: scribbled over after each feed.
    const h = Uint8Array.from(p.data.subarray(0, Math.min(head, bytes)));
    const tl = bytes > head ? Uint8Array.from(p.data.subarray(Math.max(head, bytes - tail))) : new Uint8Array(0);
    const chunk: ChunkView = { direction: p.direction, timeNs: (t += 1000), bytes, head: h, tail: tl, lost: p.lost, tid: 1 };
    parser.feed(chunk, emit);
    h.fill(0xaa);
    tl.fill(0xaa);
    const size = retainedSize(parser);
    assert.ok(size <= maxRetained, `retained ${size} > ${maxRetained}`);
  }
  parser.end('closed', emit);
  return { ops, parser };
}

const key = (o: Operation) => `${o.operation}|${String(o.attributes['messaging.destination.name'] ?? '')}|${o.errorType ?? ''}`;
const multiset = (ops: Operation[]) => ops.map(key).sort();

export interface FuzzOptions {
  make: (role: 'client' | 'server') => ConnectionParser;
  conversation: Write[];
  iterations?: number;
  maxRetained?: number;
  seed?: number;
}

/** Every variant from both sides; returns the baseline operation counts per side. */
export function fuzz({ make, conversation, iterations = 60, maxRetained = 512 * 1024, seed = 1 }: FuzzOptions): { client: number; server: number } {
  const counts = { client: 0, server: 0 };
  for (const side of ['client', 'server'] as const) {
    const mk = () => make(side);
    const asPieces = (ws: Write[]): Piece[] => ws.map((w) => ({ direction: w.from === side ? 'out' : 'in', data: w.data, lost: 0 }));
    const WHOLE = 1 << 24;
    const base = run(mk, asPieces(conversation), WHOLE, 0, maxRetained);
    counts[side] = base.ops.length;
    assert.deepEqual(base.parser.stats.unparsed, 0, `${side}: the clean conversation frames`);
    for (let i = 0; i < iterations; i++) {
      const r = rng(seed * 7919 + i * 104729 + (side === 'client' ? 0 : 1));
      const int = (n: number) => Math.floor(r() * n);
      // 1. Re-split every write at random points (reads see any boundaries): same operations.
      const split: Piece[] = [];
      for (const p of asPieces(conversation)) {
        let at = 0;
        while (at < p.data.length) {
          const n = 1 + int(Math.min(p.data.length - at, 1 + int(300)));
          split.push({ ...p, data: p.data.subarray(at, at + n) });
          at += n;
        }
      }
      assert.deepEqual(multiset(run(mk, split, WHOLE, 0, maxRetained).ops), multiset(base.ops), `${side} split seed ${i}`);
      // 2. Head/tail holes of random sizes: messages may be lost, none invented.
      const head = 8 + int(600);
      const tail = int(200);
      const holed = run(mk, asPieces(conversation), head, tail, maxRetained);
      assert.ok(holed.ops.length <= base.ops.length, `${side} holes head=${head} tail=${tail}: ${holed.ops.length} > ${base.ops.length}`);
      // 3. Lost chunks: drop some writes, mark the next one.
      const lost: Piece[] = [];
      let dropped = 0;
      for (const p of asPieces(conversation)) {
        if (r() < 0.15) {
          dropped++;
          continue;
        }
        lost.push({ ...p, lost: dropped });
        dropped = 0;
      }
      const afterLoss = run(mk, lost, WHOLE, 0, maxRetained);
      assert.ok(afterLoss.ops.length <= base.ops.length + 1, `${side} lost: ${afterLoss.ops.length} > ${base.ops.length}`);
      // 4. Byte flips and garbage writes: never a throw, bounded, sane counts.
      const noisy: Piece[] = [];
      for (const p of asPieces(conversation)) {
        const data = Uint8Array.from(p.data);
        if (r() < 0.3) for (let k = 0; k < 1 + int(4); k++) data[int(data.length)] = int(256);
        if (r() < 0.1) noisy.push({ ...p, data: Uint8Array.from({ length: 1 + int(400) }, () => int(256)) });
        noisy.push({ ...p, data: r() < 0.1 ? data.subarray(0, int(data.length)) : data });
      }
      const total = noisy.reduce((n, p) => n + p.data.length, 0);
      const n = run(mk, noisy, 64 + int(4000), int(256), maxRetained).ops.length;
      assert.ok(n <= total / 2, `${side} noise: ${n} operations from ${total} bytes`);
    }
    // 5. Pure garbage, in random directions.
    const g = rng(seed + 99);
    const garbage: Piece[] = Array.from({ length: 400 }, () => ({ direction: g() < 0.5 ? 'in' : 'out', data: Uint8Array.from({ length: 1 + Math.floor(g() * 3000) }, () => Math.floor(g() * 256)), lost: g() < 0.05 ? 1 : 0 }));
    run(mk, garbage, 2048, 256, maxRetained);
  }
  return counts;
}
