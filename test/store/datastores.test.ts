// waggle-test: no-kernel
// Databases, caches and brokers in the live store and the UI's API: operations
// (hand-made LocatedOperations through OperationTelemetry, as the stream
// platform will hand them) → map nodes of their own kind with RED, and a
// service's top queries and commands, with exact counts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LiveStore, type MapView, type OperationView } from '../../src/store/index.js';
import { OperationTelemetry } from '../../src/telemetry/index.js';
import { type StandaloneUi, startUi } from '../../src/ui/index.js';
import { identity } from '../telemetry/helpers/exchanges.js';
import { dbOp, messagingOp } from '../telemetry/helpers/operations.js';

/** api: 30 SELECT users + 2 failing SELECT missing (postgres), 10 GET + 4 SET (redis), 5 publish orders (nats). */
function feedApi(store: LiveStore): OperationTelemetry {
  const t = new OperationTelemetry();
  t.onRequest((r) => store.addRequest(r));
  const api = identity('api', { pid: 100 });
  for (let i = 0; i < 30; i++) t.handle(dbOp({ operation: 'SELECT', collection: 'users', durationMs: 2 }), api);
  for (let i = 0; i < 2; i++) t.handle(dbOp({ operation: 'SELECT', collection: 'missing', status: '42P01', durationMs: 1 }), api);
  for (let i = 0; i < 10; i++) t.handle(dbOp({ operation: 'GET', system: 'redis', port: 6379, durationMs: 0.3 }), api);
  for (let i = 0; i < 4; i++) t.handle(dbOp({ operation: 'SET', system: 'redis', port: 6379, durationMs: 0.3 }), api);
  for (let i = 0; i < 5; i++) t.handle(messagingOp({ operation: 'publish', destination: 'orders' }), api);
  return t;
}

const pick = (o: OperationView) => ({ name: o.name, kind: o.kind, system: o.system, peer: o.peer, count: o.count, errors: o.errors });

function checkMap(m: MapView): void {
  const nodes = new Map(m.nodes.map((n) => [n.id, n]));
  const pg = nodes.get('database:postgresql 127.0.0.1:5432');
  assert.ok(pg, `nodes: ${[...nodes.keys()].join(', ')}`);
  assert.equal(pg.type, 'database');
  assert.equal(pg.system, 'postgresql');
  assert.equal(pg.label, 'postgresql 127.0.0.1:5432');
  assert.equal(pg.summary?.count, 32);
  assert.equal(pg.summary?.errors, 2);
  assert.ok(pg.summary!.p95Ms! >= 1.5 && pg.summary!.p95Ms! <= 2.5, `p95 ${pg.summary!.p95Ms}`);
  const redis = nodes.get('cache:redis 127.0.0.1:6379');
  assert.equal(redis?.type, 'cache');
  assert.equal(redis?.summary?.count, 14);
  assert.equal(redis?.summary?.errors, 0);
  const nats = nodes.get('broker:nats 127.0.0.1:4222');
  assert.equal(nats?.type, 'broker');
  assert.equal(nats?.summary?.count, 5);
  assert.deepEqual(
    m.edges.map((e) => [e.from, e.to, e.count, e.errors]).sort(),
    [
      ['service:api', 'broker:nats 127.0.0.1:4222', 5, 0],
      ['service:api', 'cache:redis 127.0.0.1:6379', 14, 0],
      ['service:api', 'database:postgresql 127.0.0.1:5432', 32, 2],
    ],
  );
  const pgEdge = m.edges.find((e) => e.to === pg.id)!;
  assert.ok(pgEdge.rate > 0 && pgEdge.errorRatio === 0.0625, `rate ${pgEdge.rate}, error ratio ${pgEdge.errorRatio}`);
}

const TOP = [
  { name: 'SELECT users', kind: 'database', system: 'postgresql', peer: 'postgresql 127.0.0.1:5432', count: 30, errors: 0 },
  { name: 'GET', kind: 'cache', system: 'redis', peer: 'redis 127.0.0.1:6379', count: 10, errors: 0 },
  { name: 'publish orders', kind: 'broker', system: 'nats', peer: 'nats 127.0.0.1:4222', count: 5, errors: 0 },
  { name: 'SET', kind: 'cache', system: 'redis', peer: 'redis 127.0.0.1:6379', count: 4, errors: 0 },
  { name: 'SELECT missing', kind: 'database', system: 'postgresql', peer: 'postgresql 127.0.0.1:5432', count: 2, errors: 2 },
];

describe('LiveStore: databases, caches and brokers', () => {
  it('map: a node per datastore, of its kind, with the calls into it (rate, p95, errors)', () => {
    const store = new LiveStore();
    feedApi(store).close();
    checkMap(store.serviceMap(60_000));
  });

  it("service page: the service's top queries and commands with their RED", () => {
    const store = new LiveStore();
    feedApi(store).close();
    const v = store.service('api', { windowMs: 60_000 })!;
    assert.equal(v.server, null);
    assert.deepEqual(v.client!.operations.map(pick), TOP);
    assert.equal(v.client!.summary.count, 51);
    assert.equal(v.client!.summary.errors, 2);
    const sel = v.client!.operations[0]!;
    assert.ok(sel.p95Ms! >= 1.5 && sel.p95Ms! <= 2.5);
  });

  it('a watched datastore is its service node, typed by what it answers; its callers explain its server side', () => {
    const store = new LiveStore();
    const t = feedApi(store);
    const pg = identity('postgres', { pid: 200 });
    // The server side of the api's 32 queries: same endpoint, seen by postgres itself.
    for (let i = 0; i < 32; i++) t.handle(dbOp({ operation: 'SELECT', collection: 'users', role: 'server' }), pg);
    t.close();
    const m = store.serviceMap(60_000);
    const node = m.nodes.find((n) => n.id === 'service:postgres')!;
    assert.equal(node.type, 'database');
    assert.equal(node.system, 'postgresql');
    assert.equal(node.service, 'postgres');
    assert.equal(node.summary?.count, 32);
    assert.equal(m.nodes.some((n) => n.id === 'database:postgresql 127.0.0.1:5432'), false, 'not also an unwatched node');
    assert.deepEqual(
      m.edges.filter((e) => e.to === 'service:postgres').map((e) => [e.from, e.count, e.side]),
      [['service:api', 32, 'client']],
      'drawn once, from the caller',
    );
    const served = store.service('postgres', { windowMs: 60_000 })!.server!.operations.map(pick);
    assert.deepEqual(served, [{ name: 'SELECT users', kind: 'database', system: 'postgresql', peer: null, count: 32, errors: 0 }]);
  });
});

describe('UI API: databases, caches and brokers', () => {
  let ui: StandaloneUi;
  before(async () => {
    const store = new LiveStore();
    feedApi(store).close();
    ui = await startUi(store, { host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await ui.close();
  });

  it('/api/map and /api/services/api answer the same exact counts', async () => {
    const map = (await (await fetch(`${ui.server.url}/api/map?window=60000`, { signal: AbortSignal.timeout(5000) })).json()) as MapView;
    checkMap(map);
    const svc = (await (await fetch(`${ui.server.url}/api/services/api?window=60000`, { signal: AbortSignal.timeout(5000) })).json()) as { client: { operations: OperationView[] } };
    assert.deepEqual((svc.client.operations as OperationView[]).map(pick), TOP);
  });
});
