// waggle-test: no-kernel
// SQL text → db.query.text (literals as `?`), db.operation.name,
// db.collection.name and db.query.summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSql } from '../../../src/protocols/mysql/sql.js';

test('literals of every kind become ?', () => {
  const cases: [string, string][] = [
    ["SELECT * FROM t WHERE a = 'x' AND b = \"y\" AND c = 42 AND d = -1.5e3", 'SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = -?'],
    ["SELECT X'ff', 0xBEEF, b'101', _utf8mb4'hé', N'n'", 'SELECT ?, ?, ?, ?, ?'],
    ["INSERT INTO t VALUES ('it''s', 'a\\'b', 'c\\\\')", 'INSERT INTO t VALUES (?, ?, ?)'],
    ['SELECT a FROM t -- secret 123\nWHERE b = 1 # more\n/* hidden 9 */', 'SELECT a FROM t WHERE b = ?'],
    ['SELECT `weird``name` FROM `db`.`t1` WHERE id = ?', 'SELECT `weird``name` FROM `db`.`t1` WHERE id = ?'],
    ['SELECT @@version_comment, @x LIMIT 1', 'SELECT @@version_comment, @x LIMIT ?'],
    ["SELECT 'unterminated secret", 'SELECT ?'],
  ];
  for (const [sql, text] of cases) assert.equal(describeSql(sql).text, text, sql);
});

test('operation, collection and summary', () => {
  const cases: [string, string | undefined, string | undefined, string | undefined][] = [
    ['SELECT * FROM users WHERE id = 1', 'SELECT', 'users', 'SELECT users'],
    ['select * from shop.users u join orders o on u.id = o.uid', 'SELECT', undefined, 'SELECT shop.users orders'],
    ['INSERT INTO orders (a) SELECT a FROM customers', 'INSERT', undefined, 'INSERT orders SELECT customers'],
    ['UPDATE items SET price = 1 WHERE id = 2', 'UPDATE', 'items', 'UPDATE items'],
    ['DELETE FROM items WHERE id = 2', 'DELETE', 'items', 'DELETE items'],
    ['INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2', 'INSERT', 't', 'INSERT t'],
    ['SELECT * FROM t WHERE x IN (SELECT y FROM u) FOR UPDATE', 'SELECT', undefined, 'SELECT t SELECT u'],
    ['CREATE TABLE IF NOT EXISTS `items` (id INT)', 'CREATE', 'items', 'CREATE items'],
    ['CALL two_sets()', 'CALL', undefined, 'CALL two_sets'],
    ['SELECT 1', 'SELECT', undefined, 'SELECT'],
    ['SELECT a FROM t1, t2 AS b WHERE 1', 'SELECT', undefined, 'SELECT t1 t2'],
    ['  (SELECT a FROM t)', 'SELECT', 't', 'SELECT t'],
    ['WITH c AS (SELECT a FROM t) SELECT * FROM c', 'SELECT', undefined, 'SELECT t SELECT c'],
    ['BEGIN', 'BEGIN', undefined, 'BEGIN'],
    ['SET NAMES utf8mb4', 'SET', undefined, 'SET'],
  ];
  for (const [sql, operation, collection, summary] of cases) {
    const d = describeSql(sql);
    assert.deepEqual([d.operation, d.collection, d.summary], [operation, collection, summary], sql);
  }
});

test('several statements: a batch', () => {
  const d = describeSql('SELECT 1; SELECT a FROM t; UPDATE t SET a = 1');
  assert.equal(d.operation, 'BATCH');
  assert.equal(d.statements, 3);
  assert.equal(d.collection, 't');
  assert.equal(d.summary, 'SELECT; SELECT t; UPDATE t');
  assert.equal(describeSql('SELECT a FROM t; SELECT b FROM t;').operation, 'BATCH SELECT');
});

test('USE names the schema; CALL the procedure', () => {
  assert.equal(describeSql('use `shop`').use, 'shop');
  assert.equal(describeSql('CALL db.proc(1, ?)').procedure, 'db.proc');
});

test('never throws and stays bounded on any text', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = "SELECT FROM WHERE ' \" ` ; ( ) -- # /* */ \\ 0x 1e5 _utf8 . , @ \n";
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = Math.floor(rnd() * 200);
    for (let j = 0; j < n; j++) s += rnd() < 0.5 ? alphabet[Math.floor(rnd() * alphabet.length)] : String.fromCharCode(Math.floor(rnd() * 0xffff));
    const d = describeSql(s);
    assert.ok(d.text.length <= 2048 && (d.summary?.length ?? 0) <= 255);
  }
  assert.ok(describeSql('SELECT ' + "'a', ".repeat(5000) + '1').text.length <= 2048);
});
