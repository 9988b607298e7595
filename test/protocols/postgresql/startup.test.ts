// waggle-test: no-kernel
// The startup phase's branches that a local server with ssl=off cannot show:
// TLS accepted (the rest is opaque: nothing parsed, nothing counted as garbage),
// GSSENCRequest refused then the startup, a server that answers SSLRequest with
// an ErrorResponse, and a StartupMessage without `database` (it defaults to user).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Operation } from '../../../src/protocols/module.js';
import { PostgresParser } from '../../../src/protocols/postgresql/parser.js';
import { commandComplete, errorResponse, msg, query, ready, type Script, sslRequest, startup } from './helpers/wire.js';

function run(script: Script, side: 'client' | 'server' = 'client'): { ops: Operation[]; parser: PostgresParser } {
  const parser = new PostgresParser(side);
  const ops: Operation[] = [];
  for (const [from, b] of script) parser.feed({ direction: from === side ? 'out' : 'in', timeNs: 1, bytes: b.length, head: b, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op));
  parser.end('closed', (op) => ops.push(op));
  return { ops, parser };
}

const gssencRequest = () => Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);
const select = (): Script => [
  ['client', query('SELECT 1')],
  ['server', Buffer.concat([commandComplete('SELECT 1'), ready()])],
];

describe('postgresql startup phase', () => {
  it('TLS accepted: the encrypted rest is not parsed and not counted as garbage', () => {
    const { ops, parser } = run([
      ['client', sslRequest()],
      ['server', Buffer.from('S')],
      ['client', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 1, 2, 3, 4, 5, 6])],
      ['server', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x7a, 9, 9, 9])],
    ]);
    assert.deepEqual(ops, []);
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('GSSENCRequest refused, then the startup on the same connection', () => {
    for (const side of ['client', 'server'] as const) {
      const { ops, parser } = run([['client', gssencRequest()], ['server', Buffer.from('N')], ['client', startup({ user: 'app', database: 'shop' })], ['server', ready()], ...select()], side);
      assert.deepEqual(ops.map((o) => [o.name, o.role, o.attributes['db.namespace']]), [['SELECT', side, 'shop']]);
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });

  it('SSLRequest answered with an ErrorResponse (servers before 7.2 style)', () => {
    const { ops, parser } = run([['client', sslRequest()], ['server', errorResponse('08P01', 'unsupported')]]);
    assert.deepEqual(ops, []);
    assert.equal(parser.stats.unparsed, 0);
  });

  it('no database parameter: db.namespace is the user (PostgreSQL\'s default)', () => {
    const { ops } = run([['client', startup({ user: 'reporting' })], ['server', ready()], ...select()]);
    assert.equal(ops[0]?.attributes['db.namespace'], 'reporting');
  });

  it('a CancelRequest connection: claimed, silent', () => {
    const cancel = Buffer.from([0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0x30, 0x39, 0xde, 0xad, 0xbe, 0xef]);
    const { ops, parser } = run([['client', cancel]]);
    assert.deepEqual(ops, []);
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('a statement executed without its Parse seen: the operation from the CommandComplete tag', () => {
    const { ops } = run([
      ['client', Buffer.concat([msg('B', '', 'stmt_unknown', [0, 0, 0, 0, 0, 0]), msg('E', '', [0, 0, 0, 0]), msg('S')])],
      ['server', Buffer.concat([msg('2'), commandComplete('UPDATE 3'), ready()])],
    ]);
    assert.deepEqual(ops.map((o) => [o.operation, o.name, o.attributes['db.query.text']]), [['UPDATE', 'UPDATE', undefined]]);
  });
});
