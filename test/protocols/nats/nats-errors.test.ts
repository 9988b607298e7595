// nats-server with users and a publish permission: verbose mode pairs each PUB
// with its +OK/-ERR; in normal mode a permission -ERR is a standalone "ERR"
// operation; a wrong password is an authorization_violation. No password and
// no payload ever appears in what the parser emits.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'nats';
import { nats } from '../../../src/protocols/nats/index.js';
import { type Child, sleep, startChild, waitFor } from '../../helpers/process.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { freePort, replay, tally } from './support.js';

const PASSWORD = 'pw-s3cret-7f3a';
const PAYLOAD = 'payload-never-emitted';
const OK = 10;
const DENIED = 3;
const make = (role: 'client' | 'server') => nats.createParser(role);

describe('nats: verbose acks, permission errors, auth failure', () => {
  let dir: string;
  let server: Child;
  let proxy: RecordingProxy;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waggle-nats-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'nats.conf'),
      `listen: 127.0.0.1:${port}\nauthorization { users = [ { user: app, password: "${PASSWORD}", permissions: { publish: { deny: ["secret.>"] } } } ] }\n`,
    );
    server = startChild('nats-server', ['-c', join(dir, 'nats.conf')]);
    await waitFor(async () => {
      try {
        await (await connect({ servers: `127.0.0.1:${port}`, user: 'app', pass: PASSWORD, reconnect: false })).close();
        return true;
      } catch {
        return false;
      }
    }, 10_000, 100);
    proxy = await startRecordingProxy(port);
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a verbose connection, a normal one and a refused one', async () => {
    const servers = `127.0.0.1:${proxy.port}`;
    const verbose = await connect({ servers, user: 'app', pass: PASSWORD, verbose: true, reconnect: false }); // 0
    for (let i = 0; i < OK; i++) verbose.publish('allowed.x', new TextEncoder().encode(PAYLOAD));
    for (let i = 0; i < DENIED; i++) verbose.publish('secret.x', new TextEncoder().encode(PAYLOAD));
    await verbose.flush();
    await verbose.close();
    const normal = await connect({ servers, user: 'app', pass: PASSWORD, reconnect: false }); // 1
    for (let i = 0; i < DENIED; i++) normal.publish('secret.y', new TextEncoder().encode(PAYLOAD));
    await normal.flush();
    await sleep(100);
    await normal.close();
    await assert.rejects(connect({ servers, user: 'app', pass: 'wrong-' + PASSWORD, reconnect: false })); // 2
    await waitFor(() => proxy.connections() === 3, 2000);
    await sleep(100);
  });

  it('verbose: each PUB ends at its +OK or -ERR', () => {
    const { ops, parser } = replay(proxy.connection(0), 'client', make);
    assert.deepEqual(tally(ops), { 'PUB allowed.x': OK, 'PUB secret.x': DENIED });
    const denied = ops.filter((o) => o.attributes['messaging.destination.name'] === 'secret.x');
    assert.deepEqual(denied.map((o) => o.errorType), Array(DENIED).fill('permissions_violation'));
    assert.ok(ops.filter((o) => o.errorType === undefined).length === OK);
    for (const op of ops) assert.ok(op.endNs >= op.startNs && op.incomplete === undefined);
    assert.ok(ops.some((o) => o.endNs > o.startNs), 'acks come after their PUBs');
    assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
  });

  it('normal mode: a permission -ERR is a standalone ERR operation naming the subject', () => {
    const { ops } = replay(proxy.connection(1), 'client', make);
    assert.deepEqual(tally(ops), { 'PUB secret.y': DENIED, 'ERR secret.y': DENIED });
    const errs = ops.filter((o) => o.operation === 'ERR');
    assert.deepEqual(errs.map((o) => o.errorType), Array(DENIED).fill('permissions_violation'));
    assert.equal(errs[0]!.attributes['messaging.operation.type'], undefined);
  });

  it('a wrong password: authorization_violation, on both sides', () => {
    const client = replay(proxy.connection(2), 'client', make).ops;
    assert.deepEqual(client.map((o) => [o.operation, o.errorType, o.role]), [['ERR', 'authorization_violation', 'client']]);
    const server = replay(proxy.connection(2), 'server', make).ops;
    assert.deepEqual(server.map((o) => [o.operation, o.errorType, o.role]), [['ERR', 'authorization_violation', 'server']]);
  });

  it('never emits the password or a payload', () => {
    for (let i = 0; i < 3; i++) {
      for (const side of ['client', 'server'] as const) {
        const text = JSON.stringify(replay(proxy.connection(i), side, make).ops);
        assert.ok(!text.includes(PASSWORD.slice(3)) && !text.includes(PAYLOAD), text.slice(0, 200));
      }
    }
  });
});
