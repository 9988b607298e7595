// node's mysql2 against a real MariaDB through the recording proxy: query(),
// execute() (prepared statements executed several times, their text recovered
// from the prepare), errors, ping(), a multi-statement query, a CALL with two
// result sets and a pool. Each recorded connection is replayed through the
// parser from the client's side and from the server's: N statements → N
// operations with the exact operation, collection and status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import type { Operation } from '../../../src/protocols/module.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { type MariaDb, countBy, replay, startMariaDb } from './helpers/mariadb.js';

const PASSWORD = 's3cret-pw-9f2c';
const SETUP = `
CREATE DATABASE shop;
CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50), price INT);
DELIMITER //
CREATE PROCEDURE shop.two_sets() BEGIN SELECT id FROM shop.items; SELECT name, price FROM shop.items; END//
DELIMITER ;
CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
GRANT ALL ON shop.* TO 'app'@'127.0.0.1';
`;

const key = (op: Operation) =>
  [op.operation, op.attributes['db.collection.name'] ?? '-', op.attributes['db.response.status_code'] ?? 'ok'].join(' ');

let db: MariaDb;
let proxy: RecordingProxy;

before(async () => {
  db = await startMariaDb();
  db.admin(SETUP);
  proxy = await startRecordingProxy(db.port);
  const options = { host: '127.0.0.1', port: proxy.port, user: 'app', password: PASSWORD, database: 'shop' };

  // Connection 0: one connection, every kind of command.
  const c = await mysql.createConnection(options);
  for (let i = 0; i < 5; i++) await c.query(`INSERT INTO items (name, price) VALUES ('item-${i}', ${10 + i})`);
  for (let i = 0; i < 4; i++) await c.query('SELECT id, name FROM items WHERE price > 11');
  for (let i = 0; i < 3; i++) await assert.rejects(c.query('SELECT * FROM missing_table'), /doesn't exist/);
  for (let i = 1; i <= 6; i++) await c.execute('SELECT name FROM items WHERE id = ?', [i]);
  for (let i = 1; i <= 2; i++) await c.execute('UPDATE items SET price = ? WHERE id = ?', [20 + i, i]);
  await c.ping();
  const [sets] = await c.query('CALL two_sets()');
  assert.equal((sets as unknown[]).length, 3); // two result sets and the CALL's OK
  await c.end();

  // Connection 1: multipleStatements.
  const m = await mysql.createConnection({ ...options, multipleStatements: true });
  const [multi] = await m.query("SELECT 1; SELECT name FROM items WHERE name = 'item-1'; UPDATE items SET price = 1 WHERE id = 5");
  assert.equal((multi as unknown[]).length, 3);
  await m.end();

  // Connections 2…: a pool of 3 running 9 queries concurrently.
  const pool = mysql.createPool({ ...options, connectionLimit: 3 });
  await Promise.all(Array.from({ length: 9 }, (_, i) => pool.query('SELECT COUNT(*) FROM items WHERE id > ?', [i])));
  await pool.end();
  await proxy.close();
  await db.stop();
});

after(async () => {
  await proxy?.close().catch(() => undefined);
  await db?.stop().catch(() => undefined);
});

for (const side of ['client', 'server'] as const) {
  describe(`mysql2 replayed from the ${side} side`, () => {
    test('one connection: exact operations, collections and status codes', () => {
      const { ops, parser } = replay(proxy.connection(0), side);
      assert.deepEqual(countBy(ops, key), {
        'INSERT items ok': 5,
        'SELECT items ok': 4 + 6,
        'SELECT missing_table 1146': 3,
        'COM_STMT_PREPARE items ok': 2,
        'UPDATE items ok': 2,
        'COM_PING - ok': 1,
        'CALL - ok': 1,
      });
      assert.equal(ops.length, 24);
      assert.ok(ops.every((op) => op.role === side && op.family === 'db' && !op.incomplete));
      assert.ok(ops.every((op) => op.attributes['db.system.name'] === 'mariadb' && op.attributes['db.namespace'] === 'shop'));
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0, statementsEvicted: 0, statementsUnknown: 0, opaque: 0 });
    });

    test('literals are `?` in db.query.text; prepared executions carry the prepare text', () => {
      const { ops } = replay(proxy.connection(0), side);
      const texts = countBy(ops, (op) => `${op.operation}: ${op.attributes['db.query.text']}`);
      assert.equal(texts['INSERT: INSERT INTO items (name, price) VALUES (?, ?)'], 5);
      assert.equal(texts['SELECT: SELECT id, name FROM items WHERE price > ?'], 4);
      assert.equal(texts['SELECT: SELECT name FROM items WHERE id = ?'], 6);
      assert.equal(texts['UPDATE: UPDATE items SET price = ? WHERE id = ?'], 2);
      const insert = ops.find((op) => op.operation === 'INSERT')!;
      assert.equal(insert.attributes['db.query.summary'], 'INSERT items');
      assert.equal(insert.name, 'INSERT items');
    });

    test('errors: 1146 as db.response.status_code and error.type', () => {
      const { ops } = replay(proxy.connection(0), side);
      const failed = ops.filter((op) => op.errorType !== undefined);
      assert.equal(failed.length, 3);
      for (const op of failed) {
        assert.equal(op.errorType, '1146');
        assert.equal(op.attributes['db.response.status_code'], '1146');
      }
    });

    test('a CALL returning two result sets is one operation', () => {
      const { ops } = replay(proxy.connection(0), side);
      const call = ops.filter((op) => op.operation === 'CALL');
      assert.equal(call.length, 1);
      assert.equal(call[0]!.attributes['db.stored_procedure.name'], 'two_sets');
      assert.equal(call[0]!.attributes['db.query.summary'], 'CALL two_sets');
      assert.equal(call[0]!.attributes['db.response.returned_rows'], 10); // 5 rows in each set
    });

    test('a multi-statement query is one operation, named as a batch', () => {
      const { ops, parser } = replay(proxy.connection(1), side);
      assert.equal(ops.length, 1);
      assert.equal(ops[0]!.operation, 'BATCH');
      assert.equal(ops[0]!.attributes['db.operation.batch.size'], 3);
      assert.equal(ops[0]!.attributes['db.query.text'], 'SELECT ?; SELECT name FROM items WHERE name = ?; UPDATE items SET price = ? WHERE id = ?');
      assert.equal(ops[0]!.attributes['db.collection.name'], 'items');
      assert.equal(parser.stats.unparsed + parser.stats.orphanResponses, 0);
    });

    test('a pool of 3 connections: 9 queries → 9 SELECT operations', () => {
      const pooled = Array.from({ length: proxy.connections() - 2 }, (_, i) => replay(proxy.connection(i + 2), side).ops).flat();
      assert.ok(proxy.connections() - 2 <= 3);
      assert.deepEqual(countBy(pooled, key), { 'SELECT items ok': 9 });
    });

    test('the password and the user never leave the parser', () => {
      for (let i = 0; i < proxy.connections(); i++) {
        const text = JSON.stringify(replay(proxy.connection(i), side).ops);
        assert.ok(!text.includes(PASSWORD));
        assert.ok(!text.includes('"app"') && !text.includes("'app'"));
        assert.ok(!text.includes('item-1'), 'a string literal leaked');
      }
    });
  });
}
