// waggle-test: no-kernel
// SQL text → sanitized text, operation, collection and summary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSql, parseCommandTag } from '../../../src/protocols/postgresql/index.js';

describe('describeSql', () => {
  const cases: [string, string, string, string | undefined, string][] = [
    // sql, text, operation, collection, summary
    ["SELECT * FROM users WHERE name = 'bob' AND age > 42", 'SELECT * FROM users WHERE name = ? AND age > ?', 'SELECT', 'users', 'SELECT users'],
    ['select u.id from public.users u join orders o on o.uid = u.id', 'select u.id from public.users u join orders o on o.uid = u.id', 'SELECT', undefined, 'SELECT public.users orders'],
    ['SELECT a FROM t1, t2 x WHERE t1.v = 1.5e-3', 'SELECT a FROM t1, t2 x WHERE t1.v = ?', 'SELECT', undefined, 'SELECT t1 t2'],
    ['SELECT 1', 'SELECT ?', 'SELECT', undefined, 'SELECT'],
    ["INSERT INTO \"Order Lines\"(a, b) VALUES (E'it\\'s', $$dollar ' body$$)", 'INSERT INTO "Order Lines"(a, b) VALUES (?, ?)', 'INSERT', 'Order Lines', 'INSERT Order Lines'],
    ['UPDATE ONLY accounts SET balance = balance - $1 WHERE id = $2', 'UPDATE ONLY accounts SET balance = balance - $1 WHERE id = $2', 'UPDATE', 'accounts', 'UPDATE accounts'],
    ['DELETE FROM sessions WHERE token = $tag$x$tag$ -- trailing secret', 'DELETE FROM sessions WHERE token = ?', 'DELETE', 'sessions', 'DELETE sessions'],
    ['/* hint: secret */ WITH r AS (SELECT * FROM a) SELECT * FROM r, b', 'WITH r AS (SELECT * FROM a) SELECT * FROM r, b', 'SELECT', undefined, 'SELECT r b'],
    ['COPY items FROM STDIN', 'COPY items FROM STDIN', 'COPY', 'items', 'COPY items'],
    ['CREATE TABLE IF NOT EXISTS t (id int)', 'CREATE TABLE IF NOT EXISTS t (id int)', 'CREATE TABLE', 't', 'CREATE TABLE t'],
    ['create unique index i on t(x)', 'create unique index i on t(x)', 'CREATE INDEX', undefined, 'CREATE INDEX'],
    ['begin', 'begin', 'BEGIN', undefined, 'BEGIN'],
    ['SELECT * FROM generate_series(1, 10)', 'SELECT * FROM generate_series(?, ?)', 'SELECT', undefined, 'SELECT'],
    ["SELECT x'ff', b'101', U&'d\\0061t', 0x1F", 'SELECT ?, ?, ?, ?', 'SELECT', undefined, 'SELECT'],
  ];
  for (const [sql, text, operation, collection, summary] of cases) {
    it(sql, () => {
      const d = describeSql(sql);
      assert.equal(d.text, text);
      assert.equal(d.operation, operation);
      assert.equal(d.collection, collection);
      assert.equal(d.summary, summary);
      assert.equal(d.statements, 1);
    });
  }

  it('a multi-statement Query is one BATCH operation', () => {
    const mixed = describeSql("BEGIN; INSERT INTO t VALUES ('a'); COMMIT;");
    assert.deepEqual(mixed, { text: 'BEGIN; INSERT INTO t VALUES (?); COMMIT;', operation: 'BATCH', summary: 'BEGIN; INSERT t; COMMIT', statements: 3, collection: 't' });
    const same = describeSql('SELECT 1; SELECT 2');
    assert.equal(same.operation, 'BATCH SELECT');
    assert.equal(same.statements, 2);
  });

  it('empty, comments-only and unterminated texts', () => {
    assert.equal(describeSql('').statements, 0);
    assert.equal(describeSql('-- only a comment').statements, 0);
    const open = describeSql("SELECT 'never closed");
    assert.equal(open.text, 'SELECT ?');
    assert.equal(describeSql('/* open comment SELECT').statements, 0);
  });

  it('bounded output for huge texts', () => {
    const d = describeSql(`SELECT ${'a, '.repeat(100_000)}b FROM t`);
    assert.ok(d.text.length <= 2048);
    assert.ok(d.summary.length <= 255);
  });
});

describe('parseCommandTag', () => {
  it('commands and row counts', () => {
    assert.deepEqual(parseCommandTag('INSERT 0 5'), { command: 'INSERT', rows: 5 });
    assert.deepEqual(parseCommandTag('SELECT 3'), { command: 'SELECT', rows: 3 });
    assert.deepEqual(parseCommandTag('CREATE TABLE'), { command: 'CREATE TABLE' });
    assert.deepEqual(parseCommandTag('BEGIN'), { command: 'BEGIN' });
  });
});
