// `waggle run` and HTTPS: Python (ssl → libssl.so.3) and Node https servers,
// curl and Node fetch clients. Exact counts on /metrics with url_scheme="https",
// Node's client side under its own service name, nothing of the ciphertext
// counted, and no secret or response body in what the agent prints.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Certificate, curlHttps, makeCertificate, opensslAvailable, startNodeFetcher, startNodeHttps, startPythonHttps } from '../capture/helpers/tls.js';
import type { Server } from '../capture/helpers/servers.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { type Child, waitFor } from '../helpers/process.js';

const SERVER = 'http_server_request_duration_seconds_count';
const CLIENT = 'http_client_request_duration_seconds_count';
const SECRET_AUTH = 'Bearer tls-s3cr3t-9c1e';
const BODY_MARK = 'x'.repeat(64);

describe('waggle run: HTTPS through OpenSSL uprobes', { skip: opensslAvailable() ? false : 'openssl is not installed (apt-get install -y openssl)' }, () => {
  let cert: Certificate;
  let py: Server;
  let node: Server;
  let fetcher: Child;
  let agent: AgentProcess;

  before(async () => {
    cert = makeCertificate();
    py = await startPythonHttps(cert, { OTEL_SERVICE_NAME: 'py-tls' });
    node = await startNodeHttps(cert, { OTEL_SERVICE_NAME: 'node-tls' });
    fetcher = startNodeFetcher(`https://127.0.0.1:${py.port}/fetched`, 20, { OTEL_SERVICE_NAME: 'node-fetch' });
    await fetcher.waitForOutput('ready');
    agent = await startAgentProcess(['--open-port', `${py.port},${node.port}`, '--pid', String(fetcher.pid), '--print-traces']);
  });

  after(async () => {
    let exit: Awaited<ReturnType<AgentProcess['stop']>> | undefined;
    try {
      exit = await agent?.stop();
    } finally {
      await fetcher?.stop();
      await py?.child.stop();
      await node?.child.stop();
      cert?.remove();
    }
    if (agent) assert.deepEqual(exit, { code: 0, signal: null }, agent.stderr().slice(-1000));
  });

  test('the tls feature is up', async () => {
    const body = await (await fetch(`${agent.url}/readyz`, { signal: AbortSignal.timeout(5000) })).text();
    assert.match(body, /^tls up$/m);
    assert.equal(await agent.value('waggle_feature_up', { feature: 'tls' }), 1);
  });

  test('40 curl -k and 20 Node fetch requests to Python → exactly 60 https server requests, 20 client requests of node-fetch', async () => {
    curlHttps(`https://127.0.0.1:${py.port}/curled`, 40, 4);
    fetcher.write('go');
    await fetcher.waitForOutput('done 20', 30_000);
    const server = { service_name: 'py-tls', url_scheme: 'https' };
    await waitFor(async () => (await agent.value(SERVER, server)) >= 60 && (await agent.value(CLIENT, { service_name: 'node-fetch' })) >= 20, 15_000);
    await new Promise((r) => setTimeout(r, 500)); // anything beyond would show now
    assert.equal(await agent.value(SERVER, server), 60);
    assert.equal(await agent.value(SERVER, { service_name: 'py-tls', url_scheme: 'http' }), 0);
    assert.equal(await agent.value(SERVER, { ...server, http_response_status_code: '200' }), 60);
    assert.equal(await agent.value(CLIENT, { service_name: 'node-fetch', http_response_status_code: '200' }), 20);
  });

  test('Node https server: 30 requests → exactly 30, https', async () => {
    curlHttps(`https://127.0.0.1:${node.port}/bytes/64`, 30, 3, ['-H', `Authorization: ${SECRET_AUTH}`]);
    const server = { service_name: 'node-tls', url_scheme: 'https' };
    await waitFor(async () => (await agent.value(SERVER, server)) >= 30, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await agent.value(SERVER, server), 30);
  });

  test('the ciphertext was not counted: every SSL object tied to its socket, nothing streamed or unparsed', async () => {
    assert.equal(await agent.value('waggle_capture_tls_unbound_total'), 0);
    assert.ok((await agent.value('waggle_capture_tls_ciphertext_skipped_total')) > 0);
    assert.ok((await agent.value('waggle_capture_tls_runs_total')) >= 2 * 110);
    assert.equal(await agent.value('waggle_protocol_unparsed_total'), 0);
    assert.equal(await agent.value('waggle_protocol_connections_total'), 0, 'no TLS connection went to a protocol module');
    assert.equal(await agent.value('waggle_capture_framing_lost_total'), 0);
  });

  test('secrets and response bodies stay home', async () => {
    // Printed spans leave after the trace linker's hold (traces.link_hold_ms).
    await waitFor(() => /GET \/bytes\/\{?/.test(agent.child.output()), 10_000);
    const printed = agent.child.output();
    assert.ok(!printed.includes(SECRET_AUTH) && !printed.includes('tls-s3cr3t'), 'the Authorization value is never printed');
    assert.ok(!printed.includes(BODY_MARK), 'response bodies are never printed');
    const metrics = await agent.metrics();
    assert.ok(!metrics.includes('tls-s3cr3t') && !metrics.includes(BODY_MARK));
  });
});
