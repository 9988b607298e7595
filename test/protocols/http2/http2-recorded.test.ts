// waggle-test: no-kernel
// Real HTTP/2 conversations (Node's http2 client and server, curl, h2load)
// recorded through the proxy and replayed through the http2 parser from the
// client's and the server's side: exact operations, methods, paths, statuses.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { http2 } from '../../../src/protocols/http2/index.js';
import type { ChunkView, Operation } from '../../../src/protocols/module.js';
import { type RecordingProxy, startRecordingProxy, toChunks } from '../helpers/record-proxy.js';
import { replay, tally } from './replay.js';
import { type H2Server, nodeClient, run, startH2Server } from './servers.js';

const sides = ['client', 'server'] as const;
const key = (op: { attributes: Record<string, unknown> }) => `${op.attributes['http.request.method']} ${op.attributes['url.path']} ${op.attributes['http.response.status_code']}`;

describe('http2 recorded', () => {
  let server: H2Server;
  let proxy: RecordingProxy | undefined;
  before(async () => {
    server = await startH2Server();
  });
  after(async () => {
    await proxy?.close();
    await server.close();
  });

  it('Node http2 client: 200 requests, 20 in flight at once, are exactly 200 operations on both sides', async () => {
    proxy = await startRecordingProxy(server.port);
    const paths = Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? '/status/404' : i % 4 === 1 ? '/status/503' : `/users/${i}`));
    const statuses = await nodeClient(proxy.port, paths, 20);
    assert.equal(statuses.length, 200);
    await proxy.close();
    assert.equal(proxy.connections(), 1);
    for (const side of sides) {
      const { ops, parser } = replay(proxy.connection(0), side);
      assert.equal(ops.length, 200, side);
      const t = tally(ops, (op) => String(op.attributes['http.response.status_code']));
      assert.deepEqual(t, { '200': 100, '404': 50, '503': 50 }, side);
      assert.ok(ops.every((o) => o.family === 'http' && o.role === side && !o.incomplete && o.endNs >= o.startNs));
      assert.ok(ops.every((o) => o.attributes['network.protocol.version'] === '2' && o.attributes['url.scheme'] === 'http' && o.attributes['user_agent.original'] === 'waggle-test/1'));
      assert.equal(ops.filter((o) => o.attributes['url.path'] === '/users/2').length, 1);
      assert.equal(ops.find((o) => o.attributes['url.path'] === '/users/2')!.attributes['http.request.header.host'], `127.0.0.1:${proxy.port}`);
      assert.deepEqual({ ...parser.stats }, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0, unknownHeaderFields: 0, headerListOverflow: 0, headerBlocksLost: 0, goawayRefused: 0 }, side);
      const first: ChunkView = toChunks(proxy.connection(0), side)[0]!;
      assert.equal(http2.detect({ chunk: first, localPort: 1, remotePort: 2 }), side);
    }
  });

  it('100 kB responses cross the capture holes: 20 requests are 20 operations; body sizes exact when every byte was seen', async () => {
    proxy = await startRecordingProxy(server.port);
    await nodeClient(proxy.port, Array.from({ length: 20 }, (_, i) => (i % 2 ? '/big' : '/users/1')), 3);
    await proxy.close();
    for (const side of sides) {
      const { ops } = replay(proxy.connection(0), side);
      assert.deepEqual(tally(ops, key), { 'GET /big 200': 10, 'GET /users/1 200': 10 }, side);
      // A hole that swallowed frame headers leaves the size unknown (absent), never a wrong number.
      for (const op of ops.filter((o) => o.attributes['url.path'] === '/big')) assert.ok([100_000, undefined].includes(op.attributes['http.response.body.size'] as number), `${side}: ${op.attributes['http.response.body.size']}`);
      const whole: Operation[] = replay(proxy.connection(0), side, 1 << 24, 0).ops;
      assert.deepEqual(whole.filter((o) => o.attributes['url.path'] === '/big').map((o) => o.attributes['http.response.body.size']), Array(10).fill(100_000), side);
    }
  });

  it('POST bodies are counted, never kept', async () => {
    proxy = await startRecordingProxy(server.port);
    await nodeClient(proxy.port, ['/users/7', '/users/8'], 1, Buffer.alloc(5000, 0x62));
    await proxy.close();
    for (const side of sides) {
      const { ops } = replay(proxy.connection(0), side);
      assert.deepEqual(tally(ops, key), { 'POST /users/7 200': 1, 'POST /users/8 200': 1 }, side);
      assert.ok(ops.every((o) => o.attributes['http.request.body.size'] === 5000));
      assert.ok(!JSON.stringify(ops).includes('bbbb'));
    }
  });

  it('curl --http2-prior-knowledge: 3 connections of one request each are 3 operations', async () => {
    proxy = await startRecordingProxy(server.port);
    const base = `http://127.0.0.1:${proxy.port}`;
    // One URL per curl: curl 7.88 fails the requests it multiplexes onto a reused h2c connection (exit 16, no request sent).
    for (const path of ['/a', '/status/404', '/users/3?x=1']) {
      const r = await run('curl', ['-s', '-w', '%{http_version} %{http_code}', '-o', '/dev/null', '--http2-prior-knowledge', `${base}${path}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `2 ${path === '/status/404' ? 404 : 200}`);
    }
    await proxy.close();
    assert.equal(proxy.connections(), 3);
    for (const side of sides) {
      const ops: Operation[] = [];
      for (let c = 0; c < 3; c++) ops.push(...replay(proxy.connection(c), side).ops);
      assert.deepEqual(tally(ops, key), { 'GET /a 200': 1, 'GET /status/404 404': 1, 'GET /users/3 200': 1 }, side);
      assert.equal(ops.find((o) => o.attributes['url.path'] === '/users/3')!.attributes['url.query'], 'x=1');
      assert.match(String(ops[0]!.attributes['user_agent.original']), /^curl\//);
    }
  });

  it('h2load -n 500 -c 2 -m 10: exactly 500 operations', { skip: existsSync('/usr/bin/h2load') ? false : 'h2load not installed (Debian nghttp2-client)' }, async () => {
    proxy = await startRecordingProxy(server.port);
    const r = await run('h2load', ['-n', '500', '-c', '2', '-m', '10', `http://127.0.0.1:${proxy.port}/users/1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /500 succeeded/);
    await proxy.close();
    assert.equal(proxy.connections(), 2);
    for (const side of sides) {
      let total = 0;
      for (let c = 0; c < 2; c++) {
        const { ops, parser } = replay(proxy.connection(c), side);
        assert.ok(ops.every((o) => key(o) === 'GET /users/1 200' && !o.incomplete), side);
        assert.equal(parser.stats.orphanResponses, 0);
        total += ops.length;
      }
      assert.equal(total, 500, side);
    }
  });

  it('joined midway: the second half of a connection gives its requests, dynamic-table fields unknown and counted', async () => {
    proxy = await startRecordingProxy(server.port);
    await nodeClient(proxy.port, Array.from({ length: 40 }, (_, i) => `/users/${i}`), 1);
    await proxy.close();
    const all = proxy.connection(0);
    // Drop everything before a client chunk around the middle: no preface, no early header blocks.
    const cut = all.findIndex((c, i) => i > all.length / 2 && c.from === 'client');
    const late = all.slice(cut);
    for (const side of sides) {
      const { ops, parser } = replay(late, side);
      assert.ok(ops.length > 0 && ops.length <= 20, `${side}: ${ops.length}`);
      assert.ok(ops.every((o) => o.attributes['http.request.method'] === 'GET' && o.attributes['http.response.status_code'] === 200));
      // Node's encoder indexes :path values, so later paths are dynamic references the decoder never saw inserted.
      assert.ok(parser.stats.unknownHeaderFields > 0, side);
      const chunk: ChunkView = toChunks(late, side)[0]!;
      assert.equal(http2.detect({ chunk, localPort: 1, remotePort: 2 }), side);
    }
  });
});
