// End to end: the real agent watching real MQTT publishers (mqtt.js, 3.1.1
// QoS 1 and 5 QoS 2) and a mosquitto_sub (their kernel-captured reads and
// writes → the stream platform → this module → telemetry): 2 × N publishes →
// exactly N per topic in messaging_client_sent_messages_total and as producer
// spans; 2N deliveries → exactly 2N consumed and consumer spans. mosquitto is
// watched too: the broker's side frames its 1-byte header reads and emits
// nothing per message (README.md), so the counts stay the clients'.
//
// The broker listens on MQTT's port, 1883: mqtt.js writes its CONNECT as one
// writev of ~10 small iovecs (0x10, the length, "\0\x04", "MQTT", …), which
// the kernel streams as ~10 chunks, and no single one of them is recognisable
// as MQTT — only the port tells (src/protocols/mqtt/README.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../../src/paths.js';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../../helpers/process.js';
import { MQTT_PUBLISHER } from '../nats/agent-programs.js';
import { MQTT_PORT } from '../../../src/protocols/mqtt/index.js';
import { type Broker, startMosquitto } from './broker.js';
import { spanCounts } from '../nats/support.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = 150;

describe('waggle run: MQTT publishes and deliveries, exactly', { timeout: 120_000 }, () => {
  let broker: Broker;
  let p4: Child;
  let p5: Child;
  let sub: Child;
  let agent: AgentProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waggle-mqtt-e2e-'));
    broker = await startMosquitto('', MQTT_PORT);
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const opts = (service: string) => ({ cwd: packageRoot, env: { ...process.env, OTEL_SERVICE_NAME: service } });
    p4 = startChild(process.execPath, ['-e', MQTT_PUBLISHER, url, 'sensors/a', String(N), '1', '4'], opts('pub-311'));
    p5 = startChild(process.execPath, ['-e', MQTT_PUBLISHER, url, 'sensors/b', String(N), '2', '5'], opts('pub-5'));
    await p4.waitForOutput('ready');
    await p5.waitForOutput('ready');
    // mosquitto_sub's first bytes (its CONNECT) come after the agent watches it: started by a shell that waits.
    sub = startChild('sh', ['-c', `read go; exec mosquitto_sub -h 127.0.0.1 -p ${broker.port} -t 'sensors/#' -q 2 -C ${2 * N}`]);
    agent = await startAgentProcess(['--pid', `${p4.pid},${p5.pid},${sub.pid},${broker.pid}`, '--spans-file', join(dir, 'spans.jsonl')]);
  });
  after(async () => {
    p4?.kill();
    p5?.kill();
    sub?.kill();
    await agent?.stop();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`2 × ${N} publishes → 2 × ${N} producer and 2 × ${N} consumer operations`, async (t) => {
    sub.write('go\n');
    await new Promise((r) => setTimeout(r, 500)); // mosquitto_sub connects and subscribes
    p4.write('go\n');
    p5.write('go\n');
    await within(p4.exited, 30_000, 'the 3.1.1 publisher');
    await within(p5.exited, 30_000, 'the 5 publisher');
    assert.equal((await within(sub.exited, 30_000, 'mosquitto_sub')).code, 0);
    // Per connection: connect + N publishes (publishers); connect + subscribe + 2N deliveries (mosquitto_sub).
    const expected = 2 * (1 + N) + (2 + 2 * N);
    const ops = () => agent.value('waggle_protocol_operations_total', { protocol: 'mqtt' });
    await waitFor(async () => (await ops()) >= expected, 10_000).catch(() => undefined);
    const figures = {
      operations: await ops(),
      connections: await agent.value('waggle_protocol_connections_total', { protocol: 'mqtt' }),
      orphans: await agent.value('waggle_protocol_orphan_responses_total', { protocol: 'mqtt' }),
      incomplete: await agent.value('waggle_protocol_incomplete_total', { protocol: 'mqtt' }),
      unparsed: await agent.value('waggle_protocol_unparsed_total', { protocol: 'mqtt' }),
      lost: await agent.value('waggle_protocol_chunks_lost_total', { protocol: 'mqtt' }),
    };
    t.diagnostic(JSON.stringify(figures));
    assert.deepEqual(figures, { operations: expected, connections: 6, orphans: 0, incomplete: 0, unparsed: 0, lost: 0 });
    const sent = async (service: string, topic: string) => agent.value('messaging_client_sent_messages_total', { service_name: service, messaging_system: 'mqtt', messaging_operation_name: 'publish', messaging_destination_name: topic });
    const consumed = async (topic: string) => agent.value('messaging_client_consumed_messages_total', { service_name: 'mosquitto_sub', messaging_system: 'mqtt', messaging_destination_name: topic });
    const counts = {
      sentA: await sent('pub-311', 'sensors/a'),
      sentB: await sent('pub-5', 'sensors/b'),
      consumedA: await consumed('sensors/a'),
      consumedB: await consumed('sensors/b'),
      allSent: await agent.value('messaging_client_sent_messages_total'),
      allConsumed: await agent.value('messaging_client_consumed_messages_total'),
    };
    t.diagnostic(JSON.stringify(counts));
    assert.deepEqual(counts, { sentA: N, sentB: N, consumedA: N, consumedB: N, allSent: 2 * N, allConsumed: 2 * N });
    await agent.stop();
    const spans = spanCounts(readFileSync(join(dir, 'spans.jsonl'), 'utf8'), 'mqtt');
    assert.deepEqual(spans, {
      'producer publish sensors/a @pub-311': N,
      'producer publish sensors/b @pub-5': N,
      'consumer publish sensors/a @mosquitto_sub': N,
      'consumer publish sensors/b @mosquitto_sub': N,
      'client connect @pub-311': 1,
      'client connect @pub-5': 1,
      'client connect @mosquitto_sub': 1,
      'client subscribe sensors/# @mosquitto_sub': 1,
    });
  });
});
