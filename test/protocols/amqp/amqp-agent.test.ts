// End to end: the real agent watching a real amqplib publisher (confirm
// channel) and consumer against a real RabbitMQ (kernel-captured reads and
// writes → the stream platform → this module → telemetry): N publishes →
// exactly N in messaging_client_sent_messages_total and N producer spans; N
// deliveries → exactly N consumed and N consumer spans. The broker (beam.smp)
// is watched too: its side emits nothing per message (README.md).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../../src/paths.js';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../../helpers/process.js';
import { AMQP_CONSUMER, AMQP_PUBLISHER } from '../nats/agent-programs.js';
import { spanCounts } from '../nats/support.js';
import { type Rabbit, startRabbit } from './broker.js';

const N = 100;

describe('waggle run: AMQP publishes and deliveries, exactly', { timeout: 180_000 }, () => {
  let rabbit: Rabbit;
  let pub: Child;
  let sub: Child;
  let agent: AgentProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waggle-amqp-e2e-'));
    rabbit = await startRabbit('agent');
    const url = `amqp://guest:guest@127.0.0.1:${rabbit.port}`;
    const opts = (service: string) => ({ cwd: packageRoot, env: { ...process.env, OTEL_SERVICE_NAME: service } });
    pub = startChild(process.execPath, ['-e', AMQP_PUBLISHER, url, 'jobs', String(N)], opts('amqp-pub'));
    sub = startChild(process.execPath, ['-e', AMQP_CONSUMER, url, 'jobs', String(N)], opts('amqp-sub'));
    await pub.waitForOutput('ready');
    await sub.waitForOutput('ready');
    const beam = rabbit.beamPid();
    assert.ok(beam !== undefined, 'the broker runs');
    agent = await startAgentProcess(['--pid', `${pub.pid},${sub.pid},${beam}`, '--spans-file', join(dir, 'spans.jsonl')]);
  });
  after(async () => {
    pub?.kill();
    sub?.kill();
    await agent?.stop();
    await rabbit?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${N} confirmed publishes → ${N} sent, ${N} deliveries → ${N} consumed`, async (t) => {
    sub.write('go\n');
    await sub.waitForOutput('consuming', 20_000);
    pub.write('go\n');
    await within(pub.exited, 60_000, 'the publisher');
    await within(sub.exited, 60_000, 'the consumer');
    const labels = { messaging_system: 'rabbitmq', messaging_destination_name: 'jobs' };
    const sent = () => agent.value('messaging_client_sent_messages_total', { ...labels, service_name: 'amqp-pub', messaging_operation_name: 'basic.publish' });
    const consumed = () => agent.value('messaging_client_consumed_messages_total', { ...labels, service_name: 'amqp-sub', messaging_operation_name: 'basic.deliver' });
    await waitFor(async () => (await sent()) >= N && (await consumed()) >= N, 10_000).catch(() => undefined);
    const figures = {
      sent: await sent(),
      consumed: await consumed(),
      allSent: await agent.value('messaging_client_sent_messages_total'),
      allConsumed: await agent.value('messaging_client_consumed_messages_total'),
      connections: await agent.value('waggle_protocol_connections_total', { protocol: 'amqp' }),
      orphans: await agent.value('waggle_protocol_orphan_responses_total', { protocol: 'amqp' }),
      unparsed: await agent.value('waggle_protocol_unparsed_total', { protocol: 'amqp' }),
      lost: await agent.value('waggle_protocol_chunks_lost_total', { protocol: 'amqp' }),
    };
    t.diagnostic(JSON.stringify(figures));
    assert.deepEqual(figures, { sent: N, consumed: N, allSent: N, allConsumed: N, connections: 4, orphans: 0, unparsed: 0, lost: 0 });
    await agent.stop();
    assert.deepEqual(spanCounts(readFileSync(join(dir, 'spans.jsonl'), 'utf8'), 'rabbitmq'), {
      'client queue.declare jobs @amqp-pub': 1,
      'client queue.declare jobs @amqp-sub': 1,
      'client basic.consume jobs @amqp-sub': 1,
      'producer basic.publish jobs @amqp-pub': N,
      'consumer basic.deliver jobs @amqp-sub': N,
    });
  });
});
