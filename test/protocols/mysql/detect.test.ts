// waggle-test: no-kernel
// detect(): the greeting decides the role on any port; joined midway, a whole
// SQL command on any port, other packet shapes only on 3306; other protocols'
// first bytes are not claimed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkView } from '../../../src/protocols/module.js';
import { mysqlModule } from '../../../src/protocols/mysql/index.js';
import { CAPS_BASE, command, err, greeting, ok } from './helpers/wire.js';

const chunk = (data: Buffer, direction: 'in' | 'out'): ChunkView => ({
  direction, timeNs: 1, bytes: data.length, head: data.subarray(0, 2048), tail: data.subarray(0, 0), lost: 0, tid: 1,
});
const detect = (data: Buffer, direction: 'in' | 'out', localPort = 40000, remotePort = 40001) =>
  mysqlModule.detect({ chunk: chunk(data, direction), localPort, remotePort });

test('the greeting: read → client, written → server, on any port', () => {
  for (const version of ['8.0.36', '5.5.5-10.11.19-MariaDB-0+deb12u1', '5.7.44-log']) {
    assert.equal(detect(greeting(version, CAPS_BASE), 'in'), 'client');
    assert.equal(detect(greeting(version, CAPS_BASE), 'out'), 'server');
  }
});

test('joined midway: a whole SQL command on any port; other commands and responses only on 3306', () => {
  const query = command(0x03, 'SELECT a FROM t');
  assert.equal(detect(query, 'out'), 'client');
  assert.equal(detect(query, 'in'), 'server');
  assert.equal(detect(command(0x16, '  select 1'), 'out'), 'client');
  assert.equal(detect(command(0x0e), 'out'), undefined);
  assert.equal(detect(command(0x0e), 'out', 40000, 3306), 'client');
  assert.equal(detect(command(0x0e), 'in', 3306, 40000), 'server');
  assert.equal(detect(ok(1), 'in', 40000, 3306), 'client');
  assert.equal(detect(err(1, 1146), 'out', 3306, 40000), 'server');
  assert.equal(detect(ok(1), 'in'), undefined);
  // A command in the wrong direction for the port: the client does not read commands from the server.
  assert.equal(detect(command(0x0e), 'in', 40000, 3306), undefined);
});

test("other protocols' first bytes are not MySQL, even on 3306", () => {
  const others = [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]), // PostgreSQL SSLRequest
    Buffer.from([0, 0, 0, 0x29, 0, 3, 0, 0, ...Buffer.from('user\0postgres\0database\0db\0\0')].slice(0, 41)),
    Buffer.from('*1\r\n$4\r\nPING\r\n'),
    Buffer.from('get key\r\n'),
    Buffer.from('INFO {"server_id":"x"}\r\n'),
    Buffer.from([0x10, 0x0c, 0, 4, ...Buffer.from('MQTT'), 4, 2, 0, 60]),
    Buffer.from('AMQP\x00\x00\x09\x01'),
    Buffer.from([0x16, 3, 1, 0, 200, 1, 0, 0, 196]), // TLS ClientHello
    Buffer.alloc(0),
  ];
  for (const b of others) {
    for (const dir of ['in', 'out'] as const) {
      assert.equal(detect(b, dir, 3306, 40000), undefined, `${b.toString('latin1')} ${dir}`);
      assert.equal(detect(b, dir, 40000, 3306), undefined, `${b.toString('latin1')} ${dir}`);
    }
  }
});

test('never throws on random bytes', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 20000; i++) {
    const b = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
    detect(b, rnd() < 0.5 ? 'in' : 'out', 3306, 3306);
  }
});

test('no module registered before mysql claims MySQL first chunks', async () => {
  const { PROTOCOL_MODULES } = await import('../../../src/protocols/registry.js');
  const before = PROTOCOL_MODULES.slice(0, PROTOCOL_MODULES.findIndex((m) => m.name === 'mysql'));
  const chunks: [Buffer, 'in' | 'out'][] = [
    [greeting('5.5.5-10.11.19-MariaDB-0+deb12u1', CAPS_BASE), 'in'],
    [greeting('8.0.36', CAPS_BASE), 'out'],
    [command(0x03, 'SELECT a FROM t'), 'out'],
    [command(0x03, 'SELECT a FROM t'), 'in'],
    [command(0x03, 'SELECT a FROM t').subarray(4), 'in'],
    [command(0x16, 'SELECT a FROM t WHERE id = ?'), 'out'],
    [command(0x0e), 'out'],
    [ok(1), 'in'],
  ];
  for (const m of before) {
    for (const [data, dir] of chunks) {
      for (const [localPort, remotePort] of [[40000, 3306], [3306, 40000], [40000, 40001]] as const) {
        assert.equal(m.detect({ chunk: chunk(data, dir), localPort, remotePort }), undefined, `${m.name} claims ${data.subarray(0, 12).toString('hex')} ${dir}`);
      }
    }
  }
});
