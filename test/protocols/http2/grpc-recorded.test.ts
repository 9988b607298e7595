// waggle-test: no-kernel
// Real gRPC (@grpc/grpc-js client and server, and a Python grpcio server)
// recorded through the proxy and replayed through the http2 parser from both
// sides: N calls are exactly N rpc operations with their service, method,
// status code and message counts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Operation } from '../../../src/protocols/module.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { callGreeter, type GrpcServer, startGrpcJsServer, startPythonGrpcServer } from './grpc-peers.js';
import { replay, tally } from './replay.js';

const sides = ['client', 'server'] as const;
const key = (op: Operation) => `${op.name} ${op.attributes['rpc.grpc.status_code']}`;

describe('gRPC recorded', () => {
  let server: GrpcServer | undefined;
  let proxy: RecordingProxy | undefined;
  after(async () => {
    await proxy?.close();
    await server?.close();
  });

  it('grpc-js: 30 unary, 10 server-streaming (5 messages each), 10 NOT_FOUND are exactly 50 operations', async () => {
    server = await startGrpcJsServer();
    proxy = await startRecordingProxy(server.port);
    const calls = await callGreeter(proxy.port, 30, 10, 5, 10);
    assert.deepEqual(calls, { ok: 30, notFound: 10, streamed: 50 });
    await proxy.close();
    await server.close();
    server = undefined;
    for (const side of sides) {
      const ops: Operation[] = [];
      for (let c = 0; c < proxy.connections(); c++) ops.push(...replay(proxy.connection(c), side).ops);
      assert.deepEqual(tally(ops, key), { 'demo.Greeter/SayHello 0': 30, 'demo.Greeter/ListItems 0': 10, 'demo.Greeter/Find 5': 10 }, side);
      assert.ok(ops.every((o) => o.family === 'rpc' && o.role === side && !o.incomplete && o.attributes['rpc.system'] === 'grpc' && o.attributes['rpc.service'] === 'demo.Greeter'));
      for (const o of ops.filter((x) => x.attributes['rpc.method'] === 'ListItems')) {
        assert.equal(o.attributes['waggle.grpc.request.messages'], 1);
        assert.equal(o.attributes['waggle.grpc.response.messages'], 5);
      }
      for (const o of ops.filter((x) => x.attributes['rpc.method'] === 'SayHello')) assert.equal(o.attributes['waggle.grpc.response.messages'], 1);
      // NOT_FOUND is the caller's error, not the server's fault (OTel RPC conventions).
      const failed = ops.filter((x) => x.attributes['rpc.method'] === 'Find');
      assert.ok(failed.every((o) => o.errorType === (side === 'client' ? 'NOT_FOUND' : undefined)), side);
      assert.ok(ops.filter((x) => x.attributes['rpc.method'] !== 'Find').every((o) => o.errorType === undefined));
    }
  });

  it('Python grpcio server, grpc-js client: 20 unary and 5 NOT_FOUND (trailers-only) are exactly 25 operations', async (t) => {
    const py = await startPythonGrpcServer();
    if (py === undefined) {
      t.skip('python3-grpcio is not installed for /usr/bin/python3');
      return;
    }
    server = py;
    proxy = await startRecordingProxy(py.port);
    const calls = await callGreeter(proxy.port, 20, 0, 0, 5);
    assert.deepEqual(calls, { ok: 20, notFound: 5, streamed: 0 });
    await proxy.close();
    await py.close();
    server = undefined;
    for (const side of sides) {
      const ops: Operation[] = [];
      for (let c = 0; c < proxy.connections(); c++) ops.push(...replay(proxy.connection(c), side).ops);
      assert.deepEqual(tally(ops, key), { 'demo.Greeter/SayHello 0': 20, 'demo.Greeter/Find 5': 5 }, side);
    }
  });
});
