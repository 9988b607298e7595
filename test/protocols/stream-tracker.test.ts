// waggle-test: no-kernel
// The stream platform's tracker: detection and verdicts, in-order feeding,
// ends (closed, idle, evicted), holes and errors counted. A small line
// protocol ("PING" → "+PONG") stands in for a real module.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StreamChunk } from '../../src/capture/stream.js';
import type { ConnectionParser, LocatedOperation, Operation, ProtocolModule, Role } from '../../src/protocols/module.js';
import { StreamTracker } from '../../src/protocols/stream/index.js';

const ping: ProtocolModule = {
  name: 'ping',
  ports: [7777],
  detect: ({ chunk }) => (Buffer.from(chunk.head).toString().startsWith('PING') ? (chunk.direction === 'out' ? 'client' : 'server') : undefined),
  createParser(role: Role): ConnectionParser {
    let started: number | undefined;
    const stats = { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 };
    const op = (startNs: number, endNs: number, incomplete?: Operation['incomplete']): Operation => ({
      family: 'db',
      role,
      startNs,
      endNs,
      name: 'PING',
      operation: 'PING',
      attributes: { 'db.system.name': 'ping' },
      ...(incomplete ? { incomplete } : {}),
    });
    return {
      stats,
      feed(chunk, emit) {
        const text = Buffer.from(chunk.head).toString();
        if (text === 'boom') throw new Error('parser bug');
        if (text.startsWith('PING')) started = chunk.timeNs;
        else if (text.startsWith('+PONG') && started !== undefined) {
          emit(op(started, chunk.timeNs));
          started = undefined;
        } else stats.unparsed++;
      },
      end(why, emit) {
        if (started !== undefined) emit(op(started, started, why === 'closed' ? 'closed' : why));
      },
    };
  },
};

let t = 0;
function chunk(id: number, direction: 'in' | 'out', text: string, lost = 0): StreamChunk {
  const head = Buffer.from(text);
  return {
    connectionId: `socket:[${id}]`,
    socketInode: id,
    pid: 100 + id,
    tid: 1,
    direction,
    timeNs: (t += 1000),
    bytes: head.length,
    head,
    tail: new Uint8Array(0),
    lost,
    local: { address: '127.0.0.1', port: 40000 + id },
    remote: { address: '127.0.0.1', port: 7777 },
  };
}

function setup(opts: { maxConnections?: number; detectChunks?: number } = {}) {
  const ops: Array<Omit<LocatedOperation, 'op'> & { op: Operation }> = [];
  const verdicts: Array<[number, string]> = [];
  const errors: unknown[] = [];
  const tracker = new StreamTracker({
    modules: [ping],
    onOperation: (l) => ops.push({ ...l, local: { ...l.local }, remote: { ...l.remote }, op: { ...l.op } }),
    setVerdict: (inode, v) => verdicts.push([inode, v]),
    onError: (e) => errors.push(e),
    ...opts,
  });
  return { tracker, ops, verdicts, errors };
}

describe('StreamTracker', () => {
  test('a claimed connection: verdict stream, every exchange an operation with its connection', () => {
    const { tracker, ops, verdicts } = setup();
    for (let i = 0; i < 3; i++) {
      tracker.handleChunk(chunk(1, 'out', 'PING'));
      tracker.handleChunk(chunk(1, 'in', '+PONG'));
    }
    assert.deepEqual(verdicts, [[1, 'stream']]);
    assert.equal(ops.length, 3);
    assert.deepEqual(
      ops.map((o) => [o.protocol, o.op.role, o.op.endNs - o.op.startNs, o.pid, o.connectionId, o.remote.port]),
      Array(3).fill(['ping', 'client', 1000, 101, 'socket:[1]', 7777]),
    );
    const [s] = tracker.stats().protocols;
    assert.deepEqual(s, { protocol: 'ping', connections: 1, chunks: 6, chunksLost: 0, operations: 3, incomplete: 0, unparsed: 0, pendingOverflow: 0, orphanResponses: 0, events: {} });
  });

  test('unclaimed for detectChunks chunks: verdict ignore, later chunks are not offered', () => {
    const { tracker, verdicts } = setup({ detectChunks: 3 });
    for (let i = 0; i < 5; i++) tracker.handleChunk(chunk(2, 'in', 'SSH-2.0'));
    tracker.handleChunk(chunk(2, 'out', 'PING'));
    assert.deepEqual(verdicts, [[2, 'ignore']]);
    const s = tracker.stats();
    assert.equal(s.ignored, 1);
    assert.equal(s.chunksUnclaimed, 3);
    assert.deepEqual(s.protocols, []);
  });

  test('the close ends what is pending as incomplete; holes and parser garbage are counted', () => {
    const { tracker, ops } = setup();
    tracker.handleChunk(chunk(3, 'out', 'PING'));
    tracker.handleChunk(chunk(3, 'in', 'garbage', 2));
    tracker.handleChunk(chunk(3, 'out', 'PING'));
    tracker.handleEnd({ connectionId: 'socket:[3]', socketInode: 3, timeNs: t, lost: 1 });
    assert.deepEqual(ops.map((o) => o.op.incomplete), ['closed']);
    const [s] = tracker.stats().protocols;
    assert.equal(s!.chunksLost, 3);
    assert.equal(s!.unparsed, 1, 'retired parsers still count');
    assert.equal(s!.incomplete, 1);
    assert.equal(tracker.stats().connections, 0);
  });

  test('bounded: the oldest connection is ended as evicted; idle ones are swept', () => {
    const { tracker, ops } = setup({ maxConnections: 2 });
    tracker.handleChunk(chunk(4, 'out', 'PING'));
    tracker.handleChunk(chunk(5, 'out', 'PING'));
    tracker.handleChunk(chunk(6, 'out', 'PING'));
    assert.deepEqual(ops.map((o) => [o.connectionId, o.op.incomplete]), [['socket:[4]', 'evicted']]);
    assert.equal(tracker.stats().evicted, 1);
    tracker.sweep(t + 601e9);
    assert.deepEqual(ops.slice(1).map((o) => [o.connectionId, o.op.incomplete]), [['socket:[5]', 'idle'], ['socket:[6]', 'idle']]);
    assert.equal(tracker.stats().connections, 0);
  });

  test('a parser that throws is counted and the stream goes on', () => {
    const { tracker, ops, errors } = setup();
    tracker.handleChunk(chunk(7, 'out', 'PING'));
    tracker.handleChunk(chunk(7, 'in', 'boom'));
    tracker.handleChunk(chunk(7, 'in', '+PONG'));
    assert.equal(errors.length, 1);
    assert.equal(tracker.stats().errors, 1);
    assert.equal(ops.length, 1);
  });

  test('a first message written in pieces: detect() sees them joined, and the parser gets every piece from the start', () => {
    const fed: string[] = [];
    const hello: ProtocolModule = {
      name: 'hello',
      ports: [],
      detect: ({ chunk }) => (Buffer.from(chunk.head).toString().startsWith('HELLO') ? 'client' : undefined),
      createParser: () => ({
        stats: { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 },
        feed: (chunk) => void fed.push(`${chunk.direction}:${Buffer.from(chunk.head).toString()}`),
        end: () => undefined,
      }),
    };
    const verdicts: string[] = [];
    const tracker = new StreamTracker({ modules: [hello], onOperation: () => undefined, setVerdict: (_i, v) => verdicts.push(v) });
    for (const piece of ['HE', 'LL', 'O world']) tracker.handleChunk(chunk(8, 'out', piece));
    tracker.handleChunk(chunk(8, 'in', 'welcome'));
    assert.deepEqual(verdicts, ['stream']);
    assert.deepEqual(fed, ['out:HE', 'out:LL', 'out:O world', 'in:welcome']);
    assert.equal(tracker.stats().protocols[0]!.chunks, 4);
    // A chunk the other way breaks the run: "LO" after a reply is not joined with "HEL".
    const other = new StreamTracker({ modules: [hello], onOperation: () => undefined, setVerdict: (_i, v) => verdicts.push(v), detectChunks: 3 });
    for (const [dir, piece] of [['out', 'HEL'], ['in', 'x'], ['out', 'LO']] as const) other.handleChunk(chunk(9, dir, piece));
    assert.deepEqual(verdicts, ['stream', 'ignore']);
    assert.equal(other.stats().heldDropped, 0);
  });
});
