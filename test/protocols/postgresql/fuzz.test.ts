// waggle-test: no-kernel
// The parser is total and bounded: random splits, head/tail holes, lost chunks,
// byte flips and garbage never make it throw, its state stays capped, and while
// the bytes are only cut (not corrupted) no secret reaches an operation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { MAX_PENDING, MAX_PORTALS, MAX_STATEMENTS, MAX_TEXT_BYTES, PostgresParser } from '../../../src/protocols/postgresql/parser.js';
import { bind, commandComplete, describePortal, execute, msg, parse, query, ready, sampleConversation, type Script } from './helpers/wire.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SECRETS = ['pw-secret', 'lit-secret', 'val-secret', 'never-sent', 'does not exist', 'row-'];

interface Mutations {
  split: boolean;
  holes: boolean;
  lost: boolean;
  flips: boolean;
  garbage: boolean;
}

/** A script as one side's chunks, cut and damaged as asked. */
function chunks(script: Script, side: 'client' | 'server', r: () => number, m: Mutations): ChunkView[] {
  const out: ChunkView[] = [];
  let lost = 0;
  let t = 0;
  for (const [from, bytes] of script) {
    const pieces: Buffer[] = [];
    let rest = bytes;
    while (m.split && rest.length > 1 && r() < 0.5) {
      const at = 1 + Math.floor(r() * (rest.length - 1));
      pieces.push(rest.subarray(0, at));
      rest = rest.subarray(at);
    }
    pieces.push(rest);
    if (m.garbage && r() < 0.1) pieces.splice(Math.floor(r() * pieces.length), 0, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256))));
    for (let piece of pieces) {
      if (m.lost && r() < 0.08) {
        lost++;
        continue;
      }
      if (m.flips && r() < 0.3) {
        piece = Buffer.from(piece);
        piece[Math.floor(r() * piece.length)] = Math.floor(r() * 256);
      }
      const head = m.holes ? 5 + Math.floor(r() * 60) : piece.length;
      const tail = m.holes ? Math.floor(r() * 40) : 0;
      const h = piece.subarray(0, Math.min(head, piece.length));
      const tl = piece.length > head ? piece.subarray(Math.max(head, piece.length - tail)) : piece.subarray(0, 0);
      out.push({ direction: from === side ? 'out' : 'in', timeNs: ++t, bytes: piece.length, head: h, tail: tl, lost, tid: 1 });
      lost = 0;
    }
  }
  return out;
}

function run(script: Script, side: 'client' | 'server', seed: number, m: Mutations): { ops: Operation[]; parser: PostgresParser } {
  const r = rng(seed);
  const parser = new PostgresParser(side);
  const ops: Operation[] = [];
  for (const c of chunks(script, side, r, m)) {
    parser.feed(c, (op) => ops.push(op));
    const f = parser.footprint;
    assert.ok(f.pending <= MAX_PENDING && f.statements <= MAX_STATEMENTS && f.portals <= MAX_PORTALS && f.carried <= MAX_TEXT_BYTES + 1024 + 16, JSON.stringify(f));
  }
  parser.end('closed', (op) => ops.push(op));
  for (const op of ops) {
    assert.equal(op.family, 'db');
    assert.equal(op.role, side);
    assert.ok(typeof op.operation === 'string' && op.operation.length > 0);
    assert.ok(op.name.length <= 255);
    assert.ok(op.endNs >= op.startNs);
    assert.ok(String(op.attributes['db.query.text'] ?? '').length <= 2048);
  }
  return { ops, parser };
}

const NONE: Mutations = { split: false, holes: false, lost: false, flips: false, garbage: false };

describe('postgresql parser fuzz', () => {
  it('random splits only: always exactly the 3 operations, nothing unparsed', () => {
    for (let seed = 0; seed < 500; seed++) {
      for (const side of ['client', 'server'] as const) {
        const { ops, parser } = run(sampleConversation(1 + (seed % 7)), side, seed, { ...NONE, split: true });
        assert.deepEqual(ops.map((o) => `${o.name} ${o.errorType ?? 'ok'}`), ['SELECT orders ok', 'INSERT orders ok', 'SELECT nowhere 42P01'], `seed ${seed}`);
        assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
      }
    }
  });

  it('holes and lost chunks: at most the 3 operations, no secret', () => {
    for (let seed = 0; seed < 2000; seed++) {
      const side = seed % 2 === 0 ? 'client' : 'server';
      const { ops } = run(sampleConversation(seed % 50), side, seed, { ...NONE, split: true, holes: true, lost: seed % 3 === 0 });
      assert.ok(ops.length <= 3, `seed ${seed}: ${ops.length}`);
      const json = JSON.stringify(ops);
      for (const s of SECRETS) assert.ok(!json.includes(s), `seed ${seed}: ${s}`);
    }
  });

  it('byte flips and garbage: never throws, counts sane', () => {
    for (let seed = 0; seed < 3000; seed++) {
      const script = sampleConversation(seed % 20);
      const total = script.reduce((n, [, b]) => n + b.length, 0);
      const { ops } = run(script, seed % 2 === 0 ? 'client' : 'server', seed, { split: true, holes: seed % 2 === 0, lost: seed % 5 === 0, flips: true, garbage: true });
      assert.ok(ops.length <= total / 5, `seed ${seed}`);
    }
  });

  it('pure random bytes in both directions', () => {
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const parser = new PostgresParser(i % 2 === 0 ? 'client' : 'server');
      for (let j = 0; j < 20; j++) {
        const b = Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256)));
        parser.feed({ direction: r() < 0.5 ? 'in' : 'out', timeNs: j, bytes: b.length + Math.floor(r() * 3) * 1000, head: b, tail: b.subarray(0, Math.floor(r() * 10)), lost: r() < 0.1 ? 1 : 0, tid: 1 }, () => {});
      }
      parser.end('idle', () => {});
    }
  });

  it('bounded: 5000 named statements, 5000 pipelined Executes without responses', () => {
    const parser = new PostgresParser('client');
    const ops: Operation[] = [];
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.concat([parse(`s${i}`, `SELECT ${i} FROM t`), bind(`p${i}`, `s${i}`), describePortal(`p${i}`), execute(`p${i}`)]);
      parser.feed({ direction: 'out', timeNs: i, bytes: b.length, head: b, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
    }
    const f = parser.footprint;
    assert.equal(f.statements, MAX_STATEMENTS);
    assert.equal(f.portals, MAX_PORTALS);
    assert.equal(f.pending, MAX_PENDING);
    assert.ok(parser.stats.pendingOverflow > 0);
    assert.ok(parser.statementOverflow > 0);
    parser.end('closed', (op) => ops.push(op));
    assert.equal(ops.length, MAX_PENDING / 4);
    assert.ok(ops.every((o) => o.incomplete === 'closed'));
  });

  it('a Query text longer than the head: its start, from the head', () => {
    const long = `SELECT a FROM big WHERE x IN (${Array.from({ length: 3000 }, (_, i) => `'v${i}'`).join(',')})`;
    const parser = new PostgresParser('client');
    const ops: Operation[] = [];
    const q = query(long);
    parser.feed({ direction: 'out', timeNs: 1, bytes: q.length, head: q.subarray(0, 2048), tail: q.subarray(q.length - 256), lost: 0, tid: 1 }, (op) => ops.push(op));
    const res = Buffer.concat([commandComplete('SELECT 0'), ready()]);
    parser.feed({ direction: 'in', timeNs: 2, bytes: res.length, head: res, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
    assert.equal(ops.length, 1);
    assert.equal(ops[0]?.name, 'SELECT big');
    assert.ok(String(ops[0]?.attributes['db.query.text']).startsWith('SELECT a FROM big WHERE x IN (?,?,'));
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('a long result with holes resynchronises at the tail that ends with ReadyForQuery', () => {
    const parser = new PostgresParser('client');
    const ops: Operation[] = [];
    const q = Buffer.concat([query('SELECT v FROM t'), query('SELECT w FROM u')]);
    parser.feed({ direction: 'out', timeNs: 1, bytes: q.length, head: q, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
    const rows = Array.from({ length: 2000 }, (_, i) => msg('D', [0, 1], [0, 0, 0, 5], Buffer.from(`r${String(i).padStart(4, '0')}`)));
    const first = Buffer.concat([...rows, commandComplete('SELECT 2000'), ready()]);
    // The read cuts the first result in three: head, hole, tail; then the second result whole.
    parser.feed({ direction: 'in', timeNs: 2, bytes: first.length, head: first.subarray(0, 2048), tail: first.subarray(first.length - 256), lost: 0, tid: 1 }, (op) => ops.push(op));
    const second = Buffer.concat([commandComplete('SELECT 0'), ready()]);
    parser.feed({ direction: 'in', timeNs: 3, bytes: second.length, head: second, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
    assert.deepEqual(ops.map((o) => o.name), ['SELECT t', 'SELECT u']);
    assert.equal(ops[0]?.attributes['db.response.returned_rows'], 2000);
    assert.equal(parser.stats.unparsed, 1);
  });

  it('the password and SASL messages are never read', () => {
    const parser = new PostgresParser('server');
    const ops: Operation[] = [];
    const script = sampleConversation(2);
    for (const [from, b] of script) parser.feed({ direction: from === 'server' ? 'out' : 'in', timeNs: 1, bytes: b.length, head: b, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
    assert.equal(ops.length, 3);
    const json = JSON.stringify(ops);
    for (const s of SECRETS) assert.ok(!json.includes(s), s);
    assert.ok(ops.every((o) => o.attributes['db.namespace'] === 'shop'));
  });
});

describe('postgresql resynchronisation cost', () => {
  it('a lost framer scans an adversarial 4 KiB chunk in linear time', () => {
    const parser = new PostgresParser('client');
    // Lose framing, then feed chunks of back-to-back CopyDone-shaped messages ending in a broken one.
    const unit = Buffer.from([0x63, 0, 0, 0, 4]);
    const chunk = Buffer.concat([...Array.from({ length: 819 }, () => unit), Buffer.from([0x63, 0])]);
    parser.feed({ direction: 'in', timeNs: 1, bytes: 100, head: Buffer.from([0x44, 0, 0, 0, 10, 1]), tail: new Uint8Array(0), lost: 0, tid: 1 }, () => {});
    parser.feed({ direction: 'in', timeNs: 2, bytes: 1, head: Buffer.from([0]), tail: new Uint8Array(0), lost: 1, tid: 1 }, () => {});
    const t0 = process.cpuUsage();
    for (let i = 0; i < 200; i++) parser.feed({ direction: 'in', timeNs: 3 + i, bytes: chunk.length, head: chunk.subarray(1), tail: new Uint8Array(0), lost: 0, tid: 1 }, () => {});
    const u = process.cpuUsage(t0);
    assert.ok(u.user + u.system < 1_000_000, `${u.user + u.system} µs for 200 chunks`);
  });
});
