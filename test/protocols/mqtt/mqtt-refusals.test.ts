// mosquitto with a password file and an ACL: a wrong password, a subscription
// and a QoS 1 publish the ACL refuses, seen as errors with MQTT's codes on the
// client's side and as the broker's refusals on its side; 10 KB payloads cross
// the kernel head's hole without losing framing. No password, no payload
// appears in what the parser emits.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqttjs from 'mqtt';
import { mqtt } from '../../../src/protocols/mqtt/index.js';
import { sleep, waitFor } from '../../helpers/process.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/record-proxy.js';
import { replay, tally } from '../nats/support.js';
import { type Broker, startMosquitto } from './broker.js';

const PASSWORD = 'mq-s3cret-91ab';
const BIG = 5;
const make = (role: 'client' | 'server') => mqtt.createParser(role);

describe('mqtt: refusals and large payloads', () => {
  let broker: Broker;
  let proxy: RecordingProxy;
  let files: string;
  before(async () => {
    // mosquitto drops root for its own user: the files must be readable to it.
    files = mkdtempSync(join(tmpdir(), 'waggle-mqtt-auth-'));
    execFileSync('mosquitto_passwd', ['-b', '-c', join(files, 'passwd'), 'app', PASSWORD]);
    writeFileSync(join(files, 'acl'), 'user app\ntopic readwrite ok/#\n');
    chmodSync(files, 0o755);
    for (const f of ['passwd', 'acl']) chmodSync(join(files, f), 0o644);
    broker = await startMosquitto(`password_file ${join(files, 'passwd')}\nacl_file ${join(files, 'acl')}\n`);
    proxy = await startRecordingProxy(broker.port);
  });
  after(async () => {
    await proxy?.close();
    await broker?.stop();
    rmSync(files, { recursive: true, force: true });
  });

  it('records wrong passwords, a refused subscribe and publish, and 10 KB publishes (3.1.1 and 5)', async () => {
    const url = `mqtt://127.0.0.1:${proxy.port}`;
    for (const protocolVersion of [4, 5] as const) {
      // 0, 2: wrong password
      await assert.rejects(mqttjs.connectAsync(url, { protocolVersion, username: 'app', password: 'wrong-' + PASSWORD, reconnectPeriod: 0 }));
      // 1, 3: refused subscription and publish, then large payloads
      const c = await mqttjs.connectAsync(url, { protocolVersion, username: 'app', password: PASSWORD, reconnectPeriod: 0 });
      await c.subscribeAsync('denied/#', { qos: 1 }).catch(() => undefined);
      await c.publishAsync('denied/x', 'secret-payload', { qos: 1 }).catch(() => undefined);
      for (let i = 0; i < BIG; i++) await c.publishAsync('ok/big', Buffer.alloc(10_000, 0x42), { qos: 1 });
      await c.endAsync();
    }
    await waitFor(() => proxy.connections() === 4, 2000);
    await sleep(50);
  });

  it('a wrong password: not_authorized (3.1.1 return code 5, MQTT 5 reason 0x87), on both sides', () => {
    for (const i of [0, 2]) {
      assert.deepEqual(replay(proxy.connection(i), 'client', make).ops.map((o) => [o.operation, o.errorType, o.role]), [['connect', 'not_authorized', 'client']]);
      assert.deepEqual(replay(proxy.connection(i), 'server', make).ops.map((o) => [o.operation, o.errorType, o.role]), [['connect', 'not_authorized', 'server']]);
    }
  });

  it('a publish the ACL refuses: not_authorized in MQTT 5 (PUBACK 0x87); 3.1.1 cannot say so', () => {
    const v3 = replay(proxy.connection(1), 'client', make).ops;
    const v5 = replay(proxy.connection(3), 'client', make).ops;
    const denied = (ops: typeof v3) => ops.find((o) => o.attributes['messaging.destination.name'] === 'denied/x')!;
    assert.equal(denied(v3).errorType, undefined);
    assert.equal(denied(v5).errorType, 'not_authorized');
    // mosquitto grants the subscription and filters at delivery: no SUBACK error.
    assert.equal(v5.find((o) => o.operation === 'subscribe')!.errorType, undefined);
    // The broker's side: only its refusal.
    assert.deepEqual(replay(proxy.connection(3), 'server', make).ops.map((o) => [o.operation, o.errorType, o.role]), [['publish', 'not_authorized', 'server']]);
    assert.deepEqual(replay(proxy.connection(1), 'server', make).ops, []);
  });

  it("10 KB payloads at the kernel's default head and tail: exact, framing kept across each hole", () => {
    for (const i of [1, 3]) {
      const { ops, parser } = replay(proxy.connection(i), 'client', make);
      assert.deepEqual(tally(ops), { connect: 1, 'subscribe denied/#': 1, 'publish denied/x': 1, 'publish ok/big': BIG });
      const big = ops.filter((o) => o.attributes['messaging.destination.name'] === 'ok/big');
      assert.deepEqual(big.map((o) => o.attributes['messaging.message.body.size']), Array(BIG).fill(10_000));
      assert.deepEqual(parser.stats, { unparsed: 0, pendingOverflow: 0, orphanResponses: 0 });
    }
  });

  it('never emits the password or a payload', () => {
    for (let i = 0; i < 4; i++) {
      for (const side of ['client', 'server'] as const) {
        const text = JSON.stringify(replay(proxy.connection(i), side, make).ops);
        assert.ok(!text.includes('s3cret') && !text.includes('secret-payload') && !text.includes('BBBB'), text.slice(0, 200));
      }
    }
  });
});
