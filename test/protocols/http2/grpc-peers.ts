// gRPC peers for the tests: a @grpc/grpc-js server and client on a small
// service (unary, server streaming, a NOT_FOUND failure), and a Python grpcio
// server (Debian's python3-grpcio) answering the same unary method with
// hand-encoded protobuf, so no generated code is needed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type Child, python3, startChild } from '../../helpers/process.js';

export const PROTO = `syntax = "proto3";
package demo;
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);
  rpc ListItems (ListRequest) returns (stream Item);
  rpc Find (HelloRequest) returns (HelloReply);
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
message ListRequest { int32 count = 1; }
message Item { int32 index = 1; string label = 2; }
`;

type Ctor = new (address: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, (...args: never[]) => unknown>;

export function loadGreeter(): { service: grpc.ServiceDefinition; Client: Ctor } {
  const dir = mkdtempSync(path.join(tmpdir(), 'waggle-grpc-'));
  const file = path.join(dir, 'demo.proto');
  writeFileSync(file, PROTO);
  const def = protoLoader.loadSync(file, { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { demo: { Greeter: Ctor & { service: grpc.ServiceDefinition } } };
  return { service: pkg.demo.Greeter.service, Client: pkg.demo.Greeter };
}

export interface GrpcServer {
  port: number;
  close(): Promise<void>;
}

export async function startGrpcJsServer(): Promise<GrpcServer> {
  const { service } = loadGreeter();
  const server = new grpc.Server();
  server.addService(service, {
    SayHello: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { message: `hello ${call.request.name}` }),
    ListItems: (call: grpc.ServerWritableStream<{ count: number }, unknown>) => {
      for (let i = 0; i < call.request.count; i++) call.write({ index: i, label: `item-${i}` });
      call.end();
    },
    Find: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such name' }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

const PY_SERVER = `
import grpc, sys, time
from concurrent import futures
def enc(s):
    b = s.encode()
    return bytes([0x0a, len(b)]) + b
def say_hello(req, ctx):
    return enc('hello from python')
def find(req, ctx):
    ctx.abort(grpc.StatusCode.NOT_FOUND, 'no such name')
handlers = {
    'SayHello': grpc.unary_unary_rpc_method_handler(say_hello),
    'Find': grpc.unary_unary_rpc_method_handler(find),
}
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler('demo.Greeter', handlers),))
port = server.add_insecure_port('127.0.0.1:0')
server.start()
print(port, flush=True)
server.wait_for_termination()
`;

/** Debian's python3-grpcio serving demo.Greeter SayHello and Find; undefined when grpc is not importable. */
export async function startPythonGrpcServer(): Promise<(GrpcServer & { child: Child }) | undefined> {
  const child = startChild(python3, ['-c', PY_SERVER]);
  try {
    await child.waitForOutput(/^\d+\n/, 15_000);
  } catch {
    await child.stop();
    return undefined;
  }
  const port = Number(/^(\d+)\n/.exec(child.output())![1]);
  return { port, child, close: async () => void (await child.stop()) };
}

export interface Calls {
  ok: number;
  notFound: number;
  streamed: number;
}

/** `unary` SayHello, `streams` ListItems of `perStream` items, `failures` Find (NOT_FOUND), in that order, on one channel. */
export async function callGreeter(port: number, unary: number, streams: number, perStream: number, failures: number): Promise<Calls> {
  const { Client } = loadGreeter();
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
    SayHello(req: object, cb: (e: grpc.ServiceError | null, r: { message: string }) => void): void;
    Find(req: object, cb: (e: grpc.ServiceError | null) => void): void;
    ListItems(req: object): NodeJS.ReadableStream;
    close(): void;
  };
  const calls: Calls = { ok: 0, notFound: 0, streamed: 0 };
  try {
    for (let i = 0; i < unary; i++) {
      await new Promise<void>((resolve, reject) => client.SayHello({ name: `n${i}` }, (e) => (e ? reject(e) : resolve())));
      calls.ok++;
    }
    for (let i = 0; i < streams; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = client.ListItems({ count: perStream });
        s.on('data', () => calls.streamed++);
        s.on('end', () => resolve());
        s.on('error', reject);
      });
    }
    for (let i = 0; i < failures; i++) {
      await new Promise<void>((resolve, reject) => client.Find({ name: 'x' }, (e) => (e?.code === grpc.status.NOT_FOUND ? resolve() : reject(e ?? new Error('expected NOT_FOUND')))));
      calls.notFound++;
    }
  } finally {
    client.close();
  }
  return calls;
}
