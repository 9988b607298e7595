// waggle-test: no-kernel
// Fuzz: random conversations (every command kind, both EOF modes, with and
// without the handshake, rows up to a few KB) replayed with random splits
// (exact), random head/tail capture holes (exact count), lost chunks, byte
// flips, truncations and garbage: the parser never throws, its state stays
// bounded and its counts stay sane.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { MAX_PENDING, MAX_STATEMENTS, type MysqlParser } from '../../../src/protocols/mysql/parser.js';
import { type RecordedChunk, toChunks } from '../helpers/record-proxy.js';
import { replayChunks } from './helpers/mariadb.js';
import { Conversation, command, connect, err, execute, ok, prepareOk, resultSet } from './helpers/wire.js';

let seed = 0x9e3779b9;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const int = (n: number) => Math.floor(rnd() * n);

/** A random conversation and how many operations it must give. */
function randomConversation(): { chunks: RecordedChunk[]; operations: number } {
  const deprecateEof = rnd() < 0.5;
  const c = new Conversation();
  if (rnd() < 0.8) connect(c, deprecateEof, rnd() < 0.5 ? 'db' : undefined, rnd() < 0.5 ? '8.0.36' : '5.5.5-10.11.6-MariaDB');
  let operations = 0;
  let nextId = 1;
  const n = 1 + int(30);
  for (let i = 0; i < n; i++) {
    const rows = () => Array.from({ length: int(rnd() < 0.2 ? 200 : 5) }, () => [`${int(1e6)}`, 'v'.repeat(int(rnd() < 0.1 ? 3000 : 20))]);
    switch (int(8)) {
      case 0:
        c.client(command(0x03, `SELECT a, b FROM t${int(5)} WHERE x = '${int(100)}'`)).server(resultSet(1, 2, rows(), deprecateEof).bytes);
        break;
      case 1:
        c.client(command(0x03, `INSERT INTO t VALUES (${int(100)})`)).server(ok(1, 2, 0, 1));
        break;
      case 2:
        c.client(command(0x03, 'SELECT * FROM nope')).server(err(1, 1146));
        break;
      case 3: {
        const id = nextId++;
        c.client(command(0x16, 'SELECT a FROM t WHERE id = ?')).server(prepareOk(1, id, 2, 1, deprecateEof));
        c.client(execute(id)).server(resultSet(1, 2, rows(), deprecateEof).bytes);
        operations++;
        break;
      }
      case 4:
        c.client(command(0x0e)).server(ok(1));
        break;
      case 5: {
        const a = resultSet(1, 1, rows(), deprecateEof, true);
        const b = resultSet(a.seq, 2, rows(), deprecateEof, true);
        c.client(command(0x03, 'CALL p()')).server(a.bytes, b.bytes, ok(b.seq));
        break;
      }
      case 6:
        c.client(command(0x02, 'other')).server(ok(1));
        break;
      default:
        c.client(command(0x19, Buffer.from([1, 0, 0, 0]))); // no response
        operations--;
    }
    operations++;
  }
  return { chunks: c.chunks, operations };
}

function run(chunks: readonly ChunkView[], side: 'client' | 'server'): { ops: Operation[]; parser: MysqlParser } {
  let result: { ops: Operation[]; parser: MysqlParser } | undefined;
  assert.doesNotThrow(() => (result = replayChunks(chunks, side)));
  const { parser } = result!;
  assert.ok(parser['pending'].length <= MAX_PENDING);
  assert.ok(parser['statements'].size <= MAX_STATEMENTS);
  for (const op of result!.ops) {
    assert.ok(op.endNs >= op.startNs);
    assert.ok(typeof op.operation === 'string' && op.operation.length > 0);
    assert.ok(String(op.attributes['db.query.text'] ?? '').length <= 2048);
  }
  return result!;
}

/** Each direction's bytes cut at random points (no bytes lost). */
function randomSplit(chunks: readonly RecordedChunk[]): RecordedChunk[] {
  return chunks.flatMap((c) => {
    const out: RecordedChunk[] = [];
    for (let i = 0; i < c.data.length; ) {
      const n = 1 + int(rnd() < 0.5 ? 16 : 4096);
      out.push({ ...c, data: c.data.subarray(i, i + n) });
      i += n;
    }
    return out;
  });
}

const ITERATIONS = 150;

test('random splits: exactly the conversation operations, none incomplete', () => {
  for (let i = 0; i < ITERATIONS; i++) {
    const conv = randomConversation();
    for (const side of ['client', 'server'] as const) {
      const { ops, parser } = run(toChunks(randomSplit(conv.chunks), side, 1 << 30, 0), side);
      assert.equal(ops.length, conv.operations, `iteration ${i}`);
      assert.ok(ops.every((op) => !op.incomplete));
      assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
    }
  }
});

test('random capture heads and tails: every command is still one operation', (t) => {
  let total = 0;
  let incomplete = 0;
  let failedRight = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const conv = randomConversation();
    const head = 16 + int(2048);
    const tail = 16 + int(256);
    for (const side of ['client', 'server'] as const) {
      const { ops } = run(toChunks(randomSplit(conv.chunks), side, head, tail), side);
      assert.equal(ops.length, conv.operations, `iteration ${i} head ${head} tail ${tail}`);
      total += ops.length;
      incomplete += ops.filter((op) => op.incomplete).length;
      failedRight += ops.filter((op) => op.errorType === '1146' && op.operation === 'SELECT').length;
    }
  }
  t.diagnostic(`${total} operations, ${incomplete} ended as incomplete (response not followed), ${failedRight} SELECT 1146`);
});

test('lost chunks, byte flips, truncations and garbage: never throws, bounded, sane counts', () => {
  for (let i = 0; i < ITERATIONS * 2; i++) {
    const conv = randomConversation();
    const side = rnd() < 0.5 ? 'client' : 'server';
    const chunks = toChunks(randomSplit(conv.chunks), side, 16 + int(2048), int(256)).map((c) => ({ ...c, head: Buffer.from(c.head), tail: Buffer.from(c.tail) }));
    const out: ChunkView[] = [];
    let lost = 0;
    let garbage = 0;
    for (const c of chunks) {
      const r = rnd();
      if (r < 0.05) {
        lost++; // dropped: the next chunk says so
        continue;
      }
      if (r < 0.1 && c.head.length > 0) {
        const k = int(c.head.length);
        c.head[k] = c.head[k]! ^ (1 << int(8));
      }
      if (r < 0.12 && c.head.length > 1) c.head = c.head.subarray(0, int(c.head.length)); // the capture says it was longer
      if (r > 0.97) {
        const g = Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256)));
        out.push({ ...c, head: g, tail: Buffer.alloc(0), bytes: g.length + int(4) * 1000, lost: 0 });
        garbage++;
      }
      out.push({ ...c, lost, bytes: Math.max(c.bytes, c.head.length + c.tail.length) });
      lost = 0;
    }
    const { ops } = run(out, side);
    const requestBytes = out.filter((c) => (c.direction === 'out') === (side === 'client')).reduce((a, c) => a + c.head.length + c.tail.length, 0);
    assert.ok(ops.length <= conv.operations + garbage * 16 + requestBytes / 5, `iteration ${i}: ${ops.length} ops of ${conv.operations}`);
  }
});

test('pure garbage in both directions', () => {
  for (let i = 0; i < 500; i++) {
    const chunks: ChunkView[] = Array.from({ length: 1 + int(40) }, () => {
      const head = Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      return { direction: rnd() < 0.5 ? 'in' : 'out', timeNs: i, bytes: head.length + int(3) * 5000, head, tail: Buffer.alloc(0), lost: int(2), tid: 1 };
    });
    run(chunks, rnd() < 0.5 ? 'client' : 'server');
  }
});
