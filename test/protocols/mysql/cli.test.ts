// The mysql CLI and mysqladmin against a real MariaDB through the recording
// proxy. A file of 37 SELECTs, 3 SELECTs of a missing table and 5 INSERTs gives
// exactly 40 SELECT (3 with status 1146) and 5 INSERT; a second session
// switches schema (COM_INIT_DB), sends a 150 KB INSERT, reads a 100 KB result
// set (both longer than the kernel's head+tail: the parser crosses the holes)
// and loads a LOCAL INFILE; mysqladmin ping is one COM_PING. Replayed from both
// sides, and again with a tiny head and tail.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Operation } from '../../../src/protocols/module.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type MariaDb, countBy, replay, runClient, startMariaDb } from './helpers/mariadb.js';

const key = (op: Operation) =>
  [op.operation, op.attributes['db.collection.name'] ?? '-', op.attributes['db.response.status_code'] ?? 'ok'].join(' ');

const BIG_ROWS = 3000;
const INFILE_ROWS = 50;

let db: MariaDb;
let proxy: RecordingProxy;

before(async () => {
  db = await startMariaDb();
  db.admin('CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), price INT); CREATE DATABASE other;');
  proxy = await startRecordingProxy(db.port);

  // Connection 0: the file (selects interleaved with failures and inserts).
  const lines: string[] = [];
  for (let i = 0; i < 37; i++) {
    lines.push(`SELECT name, price FROM items WHERE id = ${i} AND name <> 'x${i}';`);
    if (i % 12 === 5) lines.push('SELECT * FROM missing_table;');
    if (i % 8 === 3) lines.push(`INSERT INTO items (name, price) VALUES ('n${i}', ${i});`);
  }
  assert.equal(lines.filter((l) => l.startsWith('INSERT')).length, 5);
  assert.equal(lines.filter((l) => l.includes('missing_table')).length, 3);
  const first = await runClient('mysql', proxy.port, ['--force', '-D', 'shop'], lines.join('\n') + '\n');
  assert.equal(first.stderr.match(/ERROR 1146/g)?.length, 3);

  // Connection 1: USE, a big INSERT, a big SELECT, LOAD DATA LOCAL INFILE.
  const csv = join(db.dir, 'rows.csv');
  writeFileSync(csv, Array.from({ length: INFILE_ROWS }, (_, i) => `${100000 + i},infile-${i},${i}`).join('\n') + '\n');
  const values = Array.from({ length: BIG_ROWS }, (_, i) => `('row-${i}-some-padding-to-make-it-long', ${i})`).join(',');
  const second = [
    'USE other;',
    'USE shop;',
    `INSERT INTO items (name, price) VALUES ${values};`,
    'SELECT * FROM items;',
    `LOAD DATA LOCAL INFILE '${csv}' INTO TABLE items FIELDS TERMINATED BY ',';`,
    'SELECT COUNT(*) FROM items;',
  ].join('\n');
  const r = await runClient('mysql', proxy.port, ['--local-infile=1'], second + '\n');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`\\b${5 + BIG_ROWS + INFILE_ROWS}\\b`));

  // Connection 2: mysqladmin ping.
  const ping = await runClient('mysqladmin', proxy.port, ['ping']);
  assert.match(ping.stdout, /alive/);
  await proxy.close();
  await db.stop();
});

after(async () => {
  await proxy?.close().catch(() => undefined);
  await db?.stop().catch(() => undefined);
});

const captures = [
  { name: 'the default 2048-byte head and 256-byte tail', head: 2048, tail: 256 },
  { name: 'a 64-byte head and 32-byte tail', head: 64, tail: 32 },
];

for (const side of ['client', 'server'] as const) {
  for (const { name, head, tail } of captures) {
    describe(`mysql CLI replayed from the ${side} side with ${name}`, () => {
      test('37 + 3 failing SELECTs and 5 INSERTs → exactly 40 SELECT (3 × 1146) and 5 INSERT', () => {
        const { ops, parser } = replay(proxy.connection(0), side, head, tail);
        assert.deepEqual(countBy(ops, key), { 'SELECT items ok': 37, 'SELECT missing_table 1146': 3, 'INSERT items ok': 5 });
        assert.ok(ops.every((op) => op.attributes['db.namespace'] === 'shop' && op.attributes['db.system.name'] === 'mariadb'));
        assert.ok(ops.every((op) => op.role === side && !op.incomplete));
        assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
        const select = ops.find((op) => op.operation === 'SELECT' && !op.errorType)!;
        if (head >= 2048) assert.equal(select.attributes['db.query.text'], 'SELECT name, price FROM items WHERE id = ? AND name <> ?');
      });

      test('USE, a 150 KB INSERT, a 100 KB result set, LOCAL INFILE: one operation each', () => {
        const { ops, parser } = replay(proxy.connection(1), side, head, tail);
        // The CLI asks SELECT DATABASE() before each USE.
        assert.deepEqual(
          ops.map((op) => `${op.operation} ${op.attributes['db.namespace'] ?? '-'} ${op.attributes['db.response.status_code'] ?? 'ok'}`),
          ['SELECT - ok', 'COM_INIT_DB other ok', 'SELECT other ok', 'COM_INIT_DB shop ok', 'INSERT shop ok', 'SELECT shop ok', 'LOAD shop ok', 'SELECT shop ok'],
        );
        assert.ok(ops.every((op) => !op.incomplete));
        assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
        const load = ops.find((op) => op.operation === 'LOAD')!;
        if (head >= 2048) assert.equal(load.attributes['db.collection.name'], 'items'); // a 64-byte head cuts the text before it
        assert.ok(!JSON.stringify(ops).includes('rows.csv'), 'the file name is a literal');
        // Rows are counted only when every packet was framed.
        const counted = ops.filter((op) => op.attributes['db.response.returned_rows'] !== undefined);
        if (head >= 2048) assert.equal(ops[7]!.attributes['db.response.returned_rows'], 1);
        assert.ok(counted.length >= 1 || head < 2048);
      });

      test('mysqladmin ping → one COM_PING', () => {
        const { ops } = replay(proxy.connection(2), side, head, tail);
        assert.deepEqual(countBy(ops, key), { 'COM_PING - ok': 1 });
      });
    });
  }
}
