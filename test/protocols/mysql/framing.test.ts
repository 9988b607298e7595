// waggle-test: no-kernel
// Shapes a real server produces rarely or slowly, built byte by byte: both
// CLIENT_DEPRECATE_EOF modes, every split of a conversation, > 16 MB packets
// (a continuation that starts with 0xfe is not a terminator), pipelining, the
// prepared-statement bound, a joined-midway connection, TLS.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Operation } from '../../../src/protocols/module.js';
import { mysqlModule } from '../../../src/protocols/mysql/index.js';
import { MAX_PENDING, MAX_STATEMENTS } from '../../../src/protocols/mysql/parser.js';
import { type RecordedChunk, toChunks } from '../helpers/record-proxy.js';
import { countBy, replay, replayChunks } from './helpers/mariadb.js';
import {
  CAPS_BASE, Conversation, command, connect, eof, err, execute, greeting, handshakeResponse, ok, packet, prepareOk, resultSet,
} from './helpers/wire.js';

const key = (op: Operation) =>
  [op.operation, op.attributes['db.collection.name'] ?? '-', op.attributes['db.response.status_code'] ?? 'ok', op.attributes['db.response.returned_rows'] ?? '-'].join(' ');

/** A session of every command kind; its expected operation keys. */
function session(deprecateEof: boolean, handshake = true): Conversation {
  const c = new Conversation();
  if (handshake) connect(c, deprecateEof, 'shop');
  c.client(command(0x03, "SELECT a, b FROM items WHERE name = 'secret-literal'"));
  c.server(resultSet(1, 2, [['1', 'x'], ['2', 'y'], ['3', 'z']], deprecateEof).bytes);
  c.client(command(0x03, 'INSERT INTO items VALUES (1)')).server(ok(1, 2, 0, 1));
  c.client(command(0x03, 'SELECT * FROM missing')).server(err(1, 1146));
  c.client(command(0x16, 'SELECT a FROM items WHERE id = ? AND b = ?')).server(prepareOk(1, 7, 1, 2, deprecateEof));
  for (let i = 0; i < 2; i++) c.client(execute(7)).server(resultSet(1, 1, [[Buffer.from([0, 0, 1, 9])]], deprecateEof).bytes);
  c.client(command(0x0e)).server(ok(1));
  c.client(command(0x02, 'other')).server(ok(1));
  // A CALL: two result sets, then the CALL's own OK.
  const first = resultSet(1, 1, [['a']], deprecateEof, true);
  const second = resultSet(first.seq, 1, [['b'], ['c']], deprecateEof, true);
  c.client(command(0x03, 'CALL p()')).server(first.bytes, second.bytes, ok(second.seq, 2));
  c.client(command(0x19, Buffer.from([7, 0, 0, 0]))); // COM_STMT_CLOSE: no response
  c.client(command(0x03, 'SELECT 1')).server(resultSet(1, 1, [], deprecateEof).bytes);
  c.client(command(0x01)); // COM_QUIT
  return c;
}

const EXPECTED = {
  'SELECT items ok 3': 1,
  'INSERT items ok -': 1,
  'SELECT missing 1146 -': 1,
  'COM_STMT_PREPARE items ok -': 1,
  'SELECT items ok 1': 2,
  'COM_PING - ok -': 1,
  'COM_INIT_DB - ok -': 1,
  'CALL - ok 3': 1,
  'SELECT - ok 0': 1,
};

/** The same bytes, cut into chunks of `size` (each direction's runs re-split). */
function resplit(chunks: readonly RecordedChunk[], size: number): RecordedChunk[] {
  return chunks.flatMap((c) => {
    const out: RecordedChunk[] = [];
    for (let i = 0; i < c.data.length; i += size) out.push({ ...c, data: c.data.subarray(i, i + size) });
    return out;
  });
}

for (const deprecateEof of [false, true]) {
  describe(`CLIENT_DEPRECATE_EOF ${deprecateEof ? 'on' : 'off'}`, () => {
    for (const side of ['client', 'server'] as const) {
      test(`every command kind from the ${side} side`, () => {
        const { ops, parser } = replay(session(deprecateEof).chunks, side);
        assert.deepEqual(countBy(ops, key), EXPECTED);
        assert.ok(ops.every((op) => op.attributes['db.system.name'] === 'mysql'));
        assert.equal(ops.find((op) => op.operation === 'COM_INIT_DB')!.attributes['db.namespace'], 'other');
        assert.equal(ops[0]!.attributes['db.namespace'], 'shop'); // from the HandshakeResponse
        assert.equal(ops.at(-1)!.attributes['db.namespace'], 'other');
        const executed = ops.filter((op) => op.attributes['db.query.text'] === 'SELECT a FROM items WHERE id = ? AND b = ?');
        assert.equal(executed.length, 3);
        assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0, statementsEvicted: 0, statementsUnknown: 0, opaque: 0 });
        const text = JSON.stringify(ops);
        assert.ok(!text.includes('alice') && !text.includes('hunter2') && !text.includes('secret-literal'));
      });
    }

    test('every chunk size from 1 to 40 bytes gives the same operations', () => {
      const chunks = session(deprecateEof).chunks;
      for (let size = 1; size <= 40; size++) assert.deepEqual(countBy(replay(resplit(chunks, size), 'client').ops, key), EXPECTED, `size ${size}`);
    });

    test('joined midway (no handshake): the same operations, the EOF mode inferred', () => {
      const { ops, parser } = replay(session(deprecateEof, false).chunks, 'client');
      assert.deepEqual(countBy(ops, key), EXPECTED);
      assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
    });
  });
}

test('joined in the middle of a response: that response is an orphan, the next command is exact', () => {
  const c = new Conversation();
  const rs = resultSet(1, 2, [['1', 'x'], ['2', 'y']], false).bytes;
  c.server(rs.subarray(30));
  c.client(command(0x03, 'SELECT a FROM t')).server(resultSet(1, 1, [['q']], false).bytes);
  const { ops, parser } = replay(c.chunks, 'client');
  assert.deepEqual(countBy(ops, key), { 'SELECT t ok 1': 1 });
  assert.equal(parser.stats.orphanResponses, 1);
});

test('> 16 MB: a 17 MB query and a 17 MB row whose continuation starts with 0xfe', () => {
  const c = connect(new Conversation(), true);
  const big = "INSERT INTO big VALUES ('" + 'x'.repeat(17 * 1024 * 1024) + "')";
  c.client(command(0x03, big)).server(ok(2));
  const row = Buffer.alloc(0xffffff + 100, 0xfe); // lenenc 0xfe prefix then 0xfe bytes: the continuation starts with 0xfe
  c.client(command(0x03, 'SELECT blob FROM big'));
  const rs = resultSet(1, 1, [[row.subarray(0, 0xffffff - 4)]], true).bytes; // payload 0xffffff + 5: the continuation is 5 × 0xfe, an EOF look-alike
  // The client reads it in 64 KB runs, as a socket would hand it over.
  for (let i = 0; i < rs.length; i += 65536) c.server(rs.subarray(i, i + 65536));
  c.client(command(0x0e)).server(ok(1));
  for (const [head, tail] of [[1 << 26, 0], [2048, 256]]) {
    const { ops, parser } = replay(c.chunks, 'client', head, tail);
    assert.deepEqual(countBy(ops, key), { 'INSERT big ok -': 1, 'SELECT big ok 1': 1, 'COM_PING - ok -': 1 }, `head ${head}`);
    assert.equal(ops[0]!.attributes['db.query.text'], 'INSERT INTO big VALUES (?');
    assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
  }
});

test('pipelined commands in one write pair with their responses in order', () => {
  const c = connect(new Conversation(), false);
  c.client(command(0x03, 'SELECT a FROM t1'), command(0x03, 'DELETE FROM t2'), command(0x0e));
  c.server(resultSet(1, 1, [['1']], false).bytes, err(1, 1451, '23000'), ok(1));
  const { ops } = replay(c.chunks, 'client');
  assert.deepEqual(ops.map(key), ['SELECT t1 ok 1', 'DELETE t2 1451 -', 'COM_PING - ok -']);
});

test(`prepared statements: at most ${MAX_STATEMENTS} remembered, CLOSE forgets, unknown ids are counted`, () => {
  const c = connect(new Conversation(), true);
  const n = MAX_STATEMENTS + 44;
  for (let id = 1; id <= n; id++) c.client(command(0x16, `SELECT a FROM t${id}`)).server(prepareOk(1, id, 1, 0, true));
  c.client(execute(1)).server(ok(1)); // evicted
  c.client(execute(n)).server(ok(1));
  c.client(command(0x19, Buffer.from([n & 0xff, n >> 8, 0, 0]))); // COM_STMT_CLOSE
  c.client(execute(n)).server(ok(1));
  const { ops, parser } = replay(c.chunks, 'client');
  assert.equal(ops.length, n + 3);
  assert.deepEqual(ops.slice(n).map((op) => `${op.operation} ${op.attributes['db.collection.name'] ?? '-'}`), [
    'COM_STMT_EXECUTE -', `SELECT t${n}`, 'COM_STMT_EXECUTE -',
  ]);
  assert.equal(parser.stats.statementsEvicted, 44);
  assert.equal(parser.stats.statementsUnknown, 2);
});

test(`pending requests are bounded (${MAX_PENDING}); the rest end as incomplete`, () => {
  const c = connect(new Conversation(), true);
  c.client(...Array.from({ length: MAX_PENDING + 4 }, () => command(0x0e)));
  const { ops, parser } = replay(c.chunks, 'client');
  assert.equal(parser.stats.pendingOverflow, 4);
  assert.equal(ops.length, MAX_PENDING);
  assert.ok(ops.every((op) => op.incomplete === 'closed'));
});

test('an SSLRequest makes the connection opaque: no operations', () => {
  const c = new Conversation().server(greeting('8.0.36', CAPS_BASE | 0x800));
  const ssl = Buffer.alloc(32);
  ssl.writeUInt32LE(CAPS_BASE | 0x800, 0);
  c.client(packet(1, ssl)).server(Buffer.from([0x16, 3, 1, 0, 10])).client(command(0x03, 'SELECT 1'));
  const { ops, parser } = replay(c.chunks, 'client');
  assert.equal(ops.length, 0);
  assert.equal(parser.stats.opaque, 1);
});

test('MariaDB by its version string; auth switch packets are stepped over', () => {
  const c = new Conversation().server(greeting('5.5.5-10.11.6-MariaDB-0+deb12u1', CAPS_BASE));
  c.client(handshakeResponse(CAPS_BASE, 'bob', Buffer.from('x'.repeat(20))));
  c.server(packet(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('client_ed25519\0'), Buffer.from('y'.repeat(32))])));
  c.client(packet(3, Buffer.from('z'.repeat(64)))).server(ok(4));
  c.client(command(0x03, 'SELECT a FROM t')).server(resultSet(1, 1, [], false).bytes);
  const { ops, parser } = replay(c.chunks, 'server');
  assert.deepEqual(ops.map((op) => [op.operation, op.attributes['db.system.name'], op.role]), [['SELECT', 'mariadb', 'server']]);
  assert.equal(parser.stats.unparsed, 0);
  assert.equal(eof(1).length, 9);
});

test("a server that reads each header and payload apart (MariaDB's): joined midway, and after lost chunks", () => {
  const c = connect(new Conversation(), true);
  for (let i = 0; i < 6; i++) c.client(command(0x03, `SELECT a FROM t${i}`)).server(resultSet(1, 1, [['x']], true).bytes);
  // The server's reads: 4 header bytes, then the payload.
  const reads = c.chunks.flatMap((ch) => (ch.from === 'client' ? [{ ...ch, data: ch.data.subarray(0, 4) }, { ...ch, data: ch.data.subarray(4) }] : [ch]));
  const midway = reads.slice(reads.findIndex((ch) => ch.data.toString('latin1').includes('SELECT a FROM t2')));
  const joined = replay(midway, 'server');
  assert.deepEqual(joined.ops.map((op) => op.attributes['db.collection.name']), ['t2', 't3', 't4', 't5']);
  // Lose the response to t3 and the header of t4: t3 ends as lost, t4 is found again from its payload.
  const chunks = toChunks(reads, 'server');
  const t3 = chunks.findIndex((ch) => Buffer.from(ch.head).toString('latin1').includes('SELECT a FROM t3'));
  const kept = [...chunks.slice(0, t3 + 1), { ...chunks[t3 + 3]!, lost: 2 }, ...chunks.slice(t3 + 4)];
  const lost = replayChunks(kept, 'server');
  assert.deepEqual(
    lost.ops.map((op) => `${op.attributes['db.collection.name']} ${op.incomplete ?? 'ok'}`),
    ['t0 ok', 't1 ok', 't2 ok', 't3 lost', 't4 ok', 't5 ok'],
  );
});

test("a client that reads each header and payload apart: detected from the greeting's payload alone", () => {
  const c = connect(new Conversation(), false, 'shop', '5.5.5-10.11.6-MariaDB');
  c.client(command(0x03, 'SELECT a FROM t')).server(resultSet(1, 1, [['x']], false).bytes);
  const reads = c.chunks.flatMap((ch) => (ch.from === 'server' && ch.data.length > 4 ? [{ ...ch, data: ch.data.subarray(0, 4) }, { ...ch, data: ch.data.subarray(4) }] : [ch]));
  const chunks = toChunks(reads, 'client');
  // The platform offers chunks to detect() until one is claimed; the lone header is not.
  assert.equal(mysqlModule.detect({ chunk: chunks[0]!, localPort: 40000, remotePort: 40001 }), undefined);
  assert.equal(mysqlModule.detect({ chunk: chunks[1]!, localPort: 40000, remotePort: 40001 }), 'client');
  const { ops, parser } = replayChunks(chunks.slice(1), 'client');
  assert.deepEqual(ops.map((op) => [op.operation, op.attributes['db.system.name'], op.attributes['db.namespace']]), [['SELECT', 'mariadb', 'shop']]);
  assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
});
