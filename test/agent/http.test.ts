// `waggle run` end to end: real servers (Python, Node, nginx), real clients
// (curl, ab, Node fetch), the agent as a separate process, and exact counts read
// back from its /metrics, its --print-traces output and its OTLP export.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Nginx, nginxAvailable, startNginx } from '../capture/helpers/servers.js';
import { type AgentProcess, freePort, startAgentProcess } from '../helpers/agent.js';
import { startChild, waitFor, within } from '../helpers/process.js';
import { type TestServer, startNode, startPython } from './servers.js';

const SECRET_AUTH = 'Bearer s3cr3t-t0ken-7f2a';
const SECRET_COOKIE = 'session=c00kie-v4lue-91bd';
const DURATION = 'http_server_request_duration_seconds_count';
const CLIENT_DURATION = 'http_client_request_duration_seconds_count';

function curl(...args: string[]): string {
  return execFileSync('curl', ['-s', '-S', '--max-time', '10', ...args], { encoding: 'utf8', timeout: 15_000 });
}

function ab(args: string[]): number {
  // -s: ab's own per-request timeout; `timeout`: the whole run, so ab never hangs the file.
  const out = execFileSync('ab', ['-q', '-s', '10', ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(Number(/Failed requests:\s+(\d+)/.exec(out)![1]), 0, out);
  return Number(/Complete requests:\s+(\d+)/.exec(out)![1]);
}

/** A local OTLP/HTTP receiver (http/json) that keeps every trace payload. */
async function otlpReceiver(): Promise<{ server: Server; port: number; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port, bodies };
}

interface OtlpSpan {
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function otlpSpans(bodies: string[]): { service: string; span: OtlpSpan }[] {
  return bodies.flatMap((b) => {
    const payload = JSON.parse(b) as { resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
    return payload.resourceSpans.flatMap((rs) => {
      const service = String(Object.values(rs.resource.attributes.find((a) => a.key === 'service.name')?.value ?? {})[0] ?? '');
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ service, span })));
    });
  });
}

describe('waggle run: HTTP/1 RED metrics and spans', () => {
  let py: TestServer;
  let node: TestServer;
  let nginx: Nginx | undefined;
  let latePort: number;
  let agent: AgentProcess;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let shell: ReturnType<typeof startChild>;

  before(async () => {
    py = await startPython('py-api');
    node = await startNode('node-web');
    if (nginxAvailable()) nginx = await startNginx({ 'index.html': '<p>hi</p>\n' }, 1);
    latePort = await freePort();
    receiver = await otlpReceiver();
    // A shell that will run curl as a client once told to: curl is its child, so it is watched too.
    shell = startChild('/bin/sh', ['-c', 'read url; exec curl -s --max-time 10 -o /dev/null "$url"']);
    const ports = [py.port, node.port, latePort, ...(nginx ? [nginx.port] : [])].join(',');
    agent = await startAgentProcess(['--open-port', ports, '--pid', String(shell.pid), '--print-traces'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
  });

  after(async () => {
    // Everything stops before anything is asserted: a failed assertion here must
    // not leave servers running (the file would never end).
    let exit: Awaited<ReturnType<AgentProcess['stop']>> | undefined;
    try {
      exit = await agent?.stop();
    } finally {
      py?.stop();
      node?.stop();
      await nginx?.stop();
      shell?.kill();
      receiver?.server.closeAllConnections();
      receiver?.server.close();
    }
    if (agent) assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM stops the agent cleanly with status 0; stderr: ${agent.stderr().slice(-1000)}`);
  });

  test('Python http.server: N requests → exactly N, per route and status', async () => {
    for (let i = 1; i <= 20; i++) curl('-o', '/dev/null', `http://127.0.0.1:${py.port}/items/${i}`);
    for (let i = 0; i < 5; i++) curl('-o', '/dev/null', `http://127.0.0.1:${py.port}/status/404`);
    const ok = { service_name: 'py-api', http_request_method: 'GET', http_route: '/items/{id}', http_response_status_code: '200' };
    const notFound = { service_name: 'py-api', http_response_status_code: '404' };
    // Python closes each connection after curl has its response: the last exchanges end a moment later.
    await waitFor(async () => (await agent.value(DURATION, ok)) >= 20 && (await agent.value(DURATION, notFound)) >= 5, 10_000);
    assert.equal(await agent.value(DURATION, ok), 20);
    assert.equal(await agent.value(DURATION, notFound), 5);
  });

  test('keep-alive: one curl with 10 URLs and ab -k against Node', async () => {
    curl(...Array.from({ length: 10 }, () => ['-o', '/dev/null', `http://127.0.0.1:${node.port}/ka`]).flat());
    const completed = ab(['-k', '-n', '300', '-c', '4', `http://127.0.0.1:${node.port}/bench`]);
    assert.equal(completed, 300);
    await waitFor(async () => (await agent.value(DURATION, { service_name: 'node-web', http_route: '/bench' })) >= 300, 10_000);
    assert.equal(await agent.value(DURATION, { service_name: 'node-web', http_route: '/ka' }), 10);
    assert.equal(await agent.value(DURATION, { service_name: 'node-web', http_route: '/bench', http_response_status_code: '200' }), 300);
  });

  test('pipelined requests in one write each count once, in order', async () => {
    const sock = connect(node.port, '127.0.0.1');
    await within(new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject)), 5000, 'a connection to the Node server');
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.write(['/p1', '/p2', '/p3'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    await waitFor(() => (got.match(/HTTP\/1.1 200/g) ?? []).length === 3, 5000);
    sock.end();
    for (const route of ['/p1', '/p2', '/p3']) {
      await waitFor(async () => (await agent.value(DURATION, { service_name: 'node-web', http_route: route })) === 1, 5000);
    }
  });

  test('5xx on a server span sets error.type', async () => {
    for (let i = 0; i < 3; i++) curl('-o', '/dev/null', `http://127.0.0.1:${node.port}/fail`);
    await waitFor(async () => (await agent.value(DURATION, { service_name: 'node-web', http_route: '/fail' })) >= 3, 10_000);
    assert.equal(await agent.value(DURATION, { service_name: 'node-web', http_route: '/fail', http_response_status_code: '500', error_type: '500' }), 3);
  });

  test('nginx (from Debian) under ab: exactly the completed requests', async (t) => {
    if (!nginx) return t.skip('nginx is not installed');
    const completed = ab(['-n', '400', '-c', '8', `http://127.0.0.1:${nginx.port}/index.html`]);
    const missing = ab(['-n', '25', '-c', '1', `http://127.0.0.1:${nginx.port}/missing`]);
    const labels = { service_name: 'nginx', http_route: '/index.html', http_response_status_code: '200' };
    await waitFor(async () => (await agent.value(DURATION, labels)) >= completed, 15_000);
    assert.equal(await agent.value(DURATION, labels), completed);
    await waitFor(async () => (await agent.value(DURATION, { service_name: 'nginx', http_response_status_code: '404' })) >= missing, 10_000);
    assert.equal(await agent.value(DURATION, { service_name: 'nginx', http_response_status_code: '404' }), missing);
  });

  test('client spans: Node fetch (from a watched server) and curl (child of a watched shell)', async () => {
    for (let i = 1; i <= 4; i++) curl('-o', '/dev/null', `http://127.0.0.1:${node.port}/proxy?port=${py.port}&item=${i}`);
    const fromNode = { service_name: 'node-web', server_address: '127.0.0.1', server_port: String(py.port), http_request_method: 'GET' };
    await waitFor(async () => (await agent.value(CLIENT_DURATION, fromNode)) >= 4, 10_000);
    assert.equal(await agent.value(CLIENT_DURATION, fromNode), 4);

    shell.write(`http://127.0.0.1:${py.port}/status/204\n`);
    assert.deepEqual(await within(shell.exited, 15_000, 'the shell running curl'), { code: 0, signal: null });
    const fromCurl = { server_port: String(py.port), http_response_status_code: '204' };
    await waitFor(async () => (await agent.value(CLIENT_DURATION, fromCurl)) >= 1, 10_000);
    assert.equal(await agent.value(CLIENT_DURATION, fromCurl), 1);
    // Spans leave after the trace linker's hold (traces.link_hold_ms), metrics at once.
    const clientLines = () => agent.child.output().split('\n').filter((l) => l.includes('CLIENT') && l.includes(`:${py.port}`));
    await waitFor(() => clientLines().length >= 5, 10_000).catch(() => undefined);
    const lines = clientLines();
    assert.ok(lines.length >= 5, `--print-traces shows client spans:\n${lines.join('\n')}`);
  });

  test('a server started after the agent is picked up', async () => {
    const late = await startPython('late-api', latePort);
    try {
      // Picked up = from some moment on, its requests are counted; probe until then.
      await waitFor(async () => {
        curl('-o', '/dev/null', `http://127.0.0.1:${late.port}/warmup`);
        return (await agent.value(DURATION, { service_name: 'late-api', http_route: '/warmup' })) >= 1;
      }, 10_000, 200);
      for (let i = 0; i < 7; i++) curl('-o', '/dev/null', `http://127.0.0.1:${late.port}/late`);
      await waitFor(async () => (await agent.value(DURATION, { service_name: 'late-api', http_route: '/late' })) >= 7, 10_000);
      assert.equal(await agent.value(DURATION, { service_name: 'late-api', http_route: '/late' }), 7);
    } finally {
      late.stop();
    }
  });

  test('garbage and a binary protocol on a watched port: counted or ignored, nothing crashes', async () => {
    for (const payload of [Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage-tls-hello', 'latin1'), Buffer.from('*1\r\n$4\r\nPING\r\n'), Buffer.alloc(4096, 0xff), Buffer.from('GET\r\n\r\n'), Buffer.from('POST / HTTP/9.9\r\n\r\n')]) {
      await new Promise<void>((resolve) => {
        const s = connect(node.port, '127.0.0.1', () => s.end(payload));
        s.on('close', () => resolve());
        s.on('error', () => resolve());
        s.resume();
      });
    }
    for (let i = 0; i < 3; i++) curl('-o', '/dev/null', `http://127.0.0.1:${node.port}/after-garbage`);
    await waitFor(async () => (await agent.value(DURATION, { service_name: 'node-web', http_route: '/after-garbage' })) >= 3, 10_000);
    assert.equal(await agent.value(DURATION, { service_name: 'node-web', http_route: '/after-garbage' }), 3);
    assert.equal(agent.child.proc.exitCode, null, 'the agent is still running');
  });

  test('Authorization and Cookie values never leave the agent', async () => {
    for (let i = 0; i < 3; i++) {
      curl('-o', '/dev/null', '-H', `Authorization: ${SECRET_AUTH}`, '-H', `Cookie: ${SECRET_COOKIE}`, `http://127.0.0.1:${py.port}/secret?password=hunter2`);
    }
    await waitFor(async () => (await agent.value(DURATION, { service_name: 'py-api', http_route: '/secret' })) >= 3, 10_000);
    await waitFor(() => otlpSpans(receiver.bodies).some((s) => s.span.name === 'GET /secret'), 10_000);
    const outputs = { metrics: await agent.metrics(), traces: agent.child.output(), log: agent.stderr(), otlp: receiver.bodies.join('\n') };
    for (const [where, text] of Object.entries(outputs)) {
      for (const secret of ['s3cr3t-t0ken-7f2a', 'c00kie-v4lue-91bd', 'hunter2']) assert.ok(!text.includes(secret), `${secret} appears in ${where}`);
    }
  });

  test('OTLP traces: one span per request, the same count as /metrics, with semantic-convention attributes', async () => {
    // 20 curl requests plus 4 proxied by the Node service's fetch calls.
    const counted = await agent.value(DURATION, { service_name: 'py-api', http_route: '/items/{id}' });
    assert.equal(counted, 24);
    const items = () => otlpSpans(receiver.bodies).filter((s) => s.service === 'py-api' && s.span.name === 'GET /items/{id}');
    await waitFor(() => items().length >= counted, 10_000);
    assert.equal(items().length, counted);
    const first = items()[0]!;
    const attrs = Object.fromEntries(first.span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    assert.equal(first.span.kind, 2, 'SPAN_KIND_SERVER');
    assert.equal(attrs['http.request.method'], 'GET');
    assert.equal(attrs['http.route'], '/items/{id}');
    assert.equal(String(attrs['http.response.status_code']), '200');
    assert.equal(String(attrs['server.port']), String(py.port));
  });
});
