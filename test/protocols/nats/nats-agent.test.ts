// End to end: the real agent watching a real nats.js publisher and subscriber
// (their kernel-captured reads and writes → the stream platform → this
// module → telemetry): N publishes → exactly N in
// messaging_client_sent_messages_total and N producer spans; N deliveries →
// exactly N consumed and N consumer spans. nats-server is watched too: the
// broker's side emits nothing per message (README.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../../src/paths.js';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../../helpers/process.js';
import { NATS_PUBLISHER, NATS_SUBSCRIBER } from './agent-programs.js';
import { freePort, spanCounts } from './support.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = 200;

describe('waggle run: NATS publishes and deliveries, exactly', { timeout: 120_000 }, () => {
  let server: Child;
  let pub: Child;
  let sub: Child;
  let agent: AgentProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waggle-nats-e2e-'));
    const port = await freePort();
    server = startChild('nats-server', ['-a', '127.0.0.1', '-p', String(port)]);
    await waitFor(() => /Server is ready/.test(server.errors()), 10_000);
    const url = `127.0.0.1:${port}`;
    const opts = { cwd: packageRoot, env: { ...process.env, OTEL_SERVICE_NAME: 'nats-pub' } };
    pub = startChild(process.execPath, ['-e', NATS_PUBLISHER, url, 'orders.created', String(N)], opts);
    sub = startChild(process.execPath, ['-e', NATS_SUBSCRIBER, url, 'orders.created', String(N)], { ...opts, env: { ...process.env, OTEL_SERVICE_NAME: 'nats-sub' } });
    await pub.waitForOutput('ready');
    await sub.waitForOutput('ready');
    agent = await startAgentProcess(['--pid', `${pub.pid},${sub.pid},${server.pid}`, '--spans-file', join(dir, 'spans.jsonl')]);
  });
  after(async () => {
    pub?.kill();
    sub?.kill();
    await agent?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${N} publishes → ${N} producer and ${N} consumer operations`, async (t) => {
    sub.write('go\n');
    await sub.waitForOutput('subscribed');
    pub.write('go\n');
    await within(pub.exited, 30_000, 'the publisher');
    await within(sub.exited, 30_000, 'the subscriber');
    const ops = () => agent.value('waggle_protocol_operations_total', { protocol: 'nats' });
    await waitFor(async () => (await ops()) >= 2 * N, 10_000).catch(() => undefined);
    const figures = {
      operations: await ops(),
      connections: await agent.value('waggle_protocol_connections_total', { protocol: 'nats' }),
      unparsed: await agent.value('waggle_protocol_unparsed_total', { protocol: 'nats' }),
      lost: await agent.value('waggle_protocol_chunks_lost_total', { protocol: 'nats' }),
    };
    t.diagnostic(JSON.stringify(figures));
    assert.deepEqual(figures, { operations: 2 * N, connections: 4, unparsed: 0, lost: 0 });
    const labels = { messaging_system: 'nats', messaging_destination_name: 'orders.created' };
    const sent = await agent.value('messaging_client_sent_messages_total', { ...labels, service_name: 'nats-pub', messaging_operation_name: 'PUB' });
    const consumed = await agent.value('messaging_client_consumed_messages_total', { ...labels, service_name: 'nats-sub', messaging_operation_name: 'MSG' });
    const allSent = await agent.value('messaging_client_sent_messages_total');
    const allConsumed = await agent.value('messaging_client_consumed_messages_total');
    t.diagnostic(`sent ${sent} consumed ${consumed}`);
    assert.deepEqual({ sent, consumed, allSent, allConsumed }, { sent: N, consumed: N, allSent: N, allConsumed: N });
    await agent.stop();
    assert.deepEqual(spanCounts(readFileSync(join(dir, 'spans.jsonl'), 'utf8'), 'nats'), {
      'producer PUB orders.created @nats-pub': N,
      'consumer MSG orders.created @nats-sub': N,
    });
  });
});
