// Whole traces with no code change, end to end: real services on loopback
// calling each other under concurrency, `waggle run --spans-file`, and every
// span's parent checked against the request it belongs to (each request carries
// a unique id in its path, which every hop repeats).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Nginx, nginxAvailable, startNginx } from '../capture/helpers/servers.js';
import { type AgentProcess, freePort, startAgentProcess } from '../helpers/agent.js';
import { startChild, waitFor } from '../helpers/process.js';
import type { TestServer } from './servers.js';
import { type JsonSpan, checkChains, load, readSpans, requestId, service, startPython } from './span-chains.js';

/** Node http server: GET /proxy/<id>?port=P fetches http://127.0.0.1:P/items/<id> (undici, keep-alive pool). */
const NODE = String.raw`
const http = require('http');
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const id = url.pathname.split('/').pop();
  try {
    const r = await fetch('http://127.0.0.1:' + url.searchParams.get('port') + '/items/' + id);
    res.end('proxied ' + r.status + ' ' + (await r.text()));
  } catch (e) { res.statusCode = 502; res.end(String(e)); }
});
server.listen(0, '127.0.0.1', () => console.log('port', server.address().port));
`;

async function startNode(name: string): Promise<TestServer> {
  const child = startChild(process.execPath, ['-e', NODE], { env: { ...process.env, OTEL_SERVICE_NAME: name } });
  await child.waitForOutput(/port (\d+)/);
  const port = Number(/port (\d+)/.exec(child.output())![1]);
  return { child, port, pid: child.pid, stop: () => child.kill() };
}

/** A local OTLP/HTTP receiver (http/json): every span it got, as (traceId, spanId, parentSpanId). */
async function otlpReceiver(): Promise<{ server: Server; port: number; spans: Array<{ traceId: string; spanId: string; parentSpanId: string }> }> {
  const spans: Array<{ traceId: string; spanId: string; parentSpanId: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string }[] }[] }[] };
        for (const rs of payload.resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) spans.push({ traceId: sp.traceId, spanId: sp.spanId, parentSpanId: sp.parentSpanId ?? '' });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port, spans };
}

describe('waggle run: local traces', { timeout: 240_000 }, () => {
  const spansFile = join(tmpdir(), `waggle-traces-${process.pid}.jsonl`);
  let b: TestServer;
  let a: TestServer;
  let node: TestServer;
  let nginx: Nginx | undefined;
  let agent: AgentProcess | undefined;
  let spans: JsonSpan[] = [];
  let receiver: Awaited<ReturnType<typeof otlpReceiver>> | undefined;

  before(async () => {
    receiver = await otlpReceiver();
    rmSync(spansFile, { force: true });
    b = await startPython('svc-b');
    a = await startPython('svc-a', b.port);
    node = await startNode('node-front');
    if (nginxAvailable()) nginx = await startNginx({}, 1, `location /px/ { proxy_pass http://127.0.0.1:${b.port}/b/; }`);
    const ports = [a.port, b.port, node.port, ...(nginx ? [nginx.port] : [])].join(',');
    agent = await startAgentProcess(['--open-port', ports, '--spans-file', spansFile], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });

    // Python → Python, thread per request: 120 requests, 8 at a time.
    await load(120, 8, (i) => `http://127.0.0.1:${a.port}/r/${i}?id=${i}`);
    // Node (event loop) → Python with fetch: 120 requests 8 at a time, then 40 one at a time.
    await load(120, 8, (i) => `http://127.0.0.1:${node.port}/proxy/${1000 + i}?port=${b.port}`);
    await load(40, 1, (i) => `http://127.0.0.1:${node.port}/proxy/${2000 + i}?port=${b.port}`);
    // nginx (event loop) proxy_pass → Python: 60 one at a time, 120 eight at a time.
    if (nginx) {
      await load(60, 1, (i) => `http://127.0.0.1:${nginx!.port}/px/${3000 + i}`);
      await load(120, 8, (i) => `http://127.0.0.1:${nginx!.port}/px/${4000 + i}`);
    }
    const expected = 3 * 120 + 3 * 160 + (nginx ? 3 * 180 : 0);
    // Spans leave after their hold (2 s): wait for all of them, then stop the agent (it releases what it holds).
    await waitFor(() => readSpans(spansFile).length >= expected, 30_000, 200).catch(() => undefined);
    const metrics = await agent.metrics();
    process.stdout.write(metrics.split('\n').filter((l) => l.startsWith('waggle_trace_')).join('\n') + '\n');
    await agent.stop();
    agent = undefined;
    spans = readSpans(spansFile);
    const counts = new Map<string, number>();
    for (const s of spans) counts.set(`${service(s)} ${s.kind}`, (counts.get(`${service(s)} ${s.kind}`) ?? 0) + 1);
    process.stdout.write(`spans: ${JSON.stringify(Object.fromEntries(counts))}\n`);
  });

  after(async () => {
    await agent?.stop();
    a?.stop();
    b?.stop();
    node?.stop();
    await nginx?.stop();
    receiver?.server.closeAllConnections();
    receiver?.server.close();
    if (!process.env.DEBUG_TRACES_TEST) rmSync(spansFile, { force: true });
  });

  test('Python threaded services, A calls B per request: 120 requests, 8 concurrent → 120 whole traces, none crossed', () => {
    const aServers = spans.filter((s) => service(s) === 'svc-a' && s.kind === 'server');
    assert.equal(aServers.length, 120);
    const byParent = new Map<string, JsonSpan[]>();
    for (const s of spans) if (s.parentSpanId) byParent.set(s.parentSpanId, [...(byParent.get(s.parentSpanId) ?? []), s]);
    const traceIds = new Set<string>();
    for (const s of aServers) {
      const id = requestId(s);
      assert.ok(id !== undefined, s.attributes['url.path'] as string);
      assert.equal(s.parentSpanId, undefined, 'A is called from an unwatched client: a root');
      const clients = byParent.get(s.spanId) ?? [];
      assert.equal(clients.length, 1, `A's request ${id} has one client child`);
      const c = clients[0]!;
      assert.equal(service(c), 'svc-a');
      assert.equal(c.kind, 'client');
      assert.equal(requestId(c), id);
      const callee = byParent.get(c.spanId) ?? [];
      assert.equal(callee.length, 1, `A's call for ${id} has one child`);
      assert.equal(service(callee[0]!), 'svc-b');
      assert.equal(callee[0]!.kind, 'server');
      assert.equal(callee[0]!.attributes['url.path'], `/b/${id}`);
      assert.equal(c.traceId, s.traceId);
      assert.equal(callee[0]!.traceId, s.traceId);
      traceIds.add(s.traceId);
    }
    assert.equal(traceIds.size, 120, 'one trace per request');
    const report = checkChains(spans.filter((s) => ['svc-a', 'svc-b'].includes(service(s)) && Number(requestId(s)) < 1000), 'svc-a', 'svc-b');
    assert.deepEqual(report, { roots: 0, linked: 120, wrong: 0 });
  });

  test('OTLP carries the same trace ids and parents as the JSON lines', () => {
    const otlp = new Map(receiver!.spans.map((s) => [s.spanId, s]));
    assert.equal(otlp.size, spans.length, 'every span exported once over OTLP');
    let parented = 0;
    for (const s of spans) {
      const o = otlp.get(s.spanId);
      assert.ok(o, `span ${s.spanId} exported over OTLP`);
      assert.equal(o.traceId, s.traceId);
      assert.equal(o.parentSpanId, s.parentSpanId ?? '');
      if (s.parentSpanId) parented++;
    }
    assert.ok(parented >= 2 * 120, `${parented} spans with a parent`);
  });

  test('Node fetch (event loop): linked only when sure, never wrong', () => {
    const all = spans.filter((s) => ['node-front', 'svc-b'].includes(service(s)) && Number(requestId(s)) >= 1000 && Number(requestId(s)) < 3000);
    const concurrent = checkChains(all.filter((s) => Number(requestId(s)) < 2000), 'node-front', 'svc-b');
    const sequential = checkChains(all.filter((s) => Number(requestId(s)) >= 2000), 'node-front', 'svc-b');
    process.stdout.write(`node fetch, 8 concurrent: ${JSON.stringify(concurrent)}; one at a time: ${JSON.stringify(sequential)}\n`);
    assert.equal(concurrent.linked + concurrent.roots, 120);
    assert.equal(concurrent.wrong, 0);
    assert.equal(sequential.wrong, 0);
    assert.deepEqual(sequential, { roots: 0, linked: 40, wrong: 0 });
    // B's side is always linked to the client span across the connection, concurrent or not.
    const bFromNode = spans.filter((s) => service(s) === 'svc-b' && Number(requestId(s)) >= 1000 && Number(requestId(s)) < 3000);
    assert.equal(bFromNode.length, 160);
    assert.ok(bFromNode.every((s) => s.parentSpanId !== undefined), 'every B span has its caller');
  });

  test('nginx proxy_pass (event loop): linked only when sure, never wrong', (t) => {
    if (!nginx) {
      t.skip('nginx is not installed');
      return;
    }
    const mine = spans.filter((s) => ['nginx', 'svc-b'].includes(service(s)) && Number(requestId(s)) >= 3000);
    const sequential = checkChains(mine.filter((s) => Number(requestId(s)) < 4000), 'nginx', 'svc-b');
    const concurrent = checkChains(mine.filter((s) => Number(requestId(s)) >= 4000), 'nginx', 'svc-b');
    process.stdout.write(`nginx proxy_pass, one at a time: ${JSON.stringify(sequential)}; 8 concurrent: ${JSON.stringify(concurrent)}\n`);
    assert.deepEqual(sequential, { roots: 0, linked: 60, wrong: 0 });
    assert.equal(concurrent.linked + concurrent.roots, 120);
    assert.equal(concurrent.wrong, 0);
  });
});
