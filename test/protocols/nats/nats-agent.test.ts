// End to end: the real agent watching a real nats.js publisher and subscriber
// (their kernel-captured reads and writes → the stream platform → this
// module): N publishes and N deliveries → exactly 2N NATS operations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../../src/paths.js';
import { type AgentProcess, startAgentProcess } from '../../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../../helpers/process.js';
import { NATS_PUBLISHER, NATS_SUBSCRIBER } from './agent-programs.js';
import { freePort } from './support.js';

const N = 200;

describe('waggle run: NATS publishes and deliveries, exactly', { timeout: 120_000 }, () => {
  let server: Child;
  let pub: Child;
  let sub: Child;
  let agent: AgentProcess;
  before(async () => {
    const port = await freePort();
    server = startChild('nats-server', ['-a', '127.0.0.1', '-p', String(port)]);
    await waitFor(() => /Server is ready/.test(server.errors()), 10_000);
    const url = `127.0.0.1:${port}`;
    const opts = { cwd: packageRoot, env: { ...process.env, OTEL_SERVICE_NAME: 'nats-pub' } };
    pub = startChild(process.execPath, ['-e', NATS_PUBLISHER, url, 'orders.created', String(N)], opts);
    sub = startChild(process.execPath, ['-e', NATS_SUBSCRIBER, url, 'orders.created', String(N)], { ...opts, env: { ...process.env, OTEL_SERVICE_NAME: 'nats-sub' } });
    await pub.waitForOutput('ready');
    await sub.waitForOutput('ready');
    agent = await startAgentProcess(['--pid', `${pub.pid},${sub.pid}`]);
  });
  after(async () => {
    pub?.kill();
    sub?.kill();
    await agent?.stop();
    await server?.stop();
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
    assert.deepEqual(figures, { operations: 2 * N, connections: 2, unparsed: 0, lost: 0 });
  });
});
