// Traces across hosts, carried by the network alone: two network namespaces
// joined by a veth pair stand for two hosts. Service A (in "host" a) calls
// service B (in "host" b) over the veth for each request. Two agents run, each
// watching only its own side (and both with links across local connections
// off): agent A with --inject-traceparent, agent B plain. Neither sees the
// other's spans or connection ends, so the only thing
// that can join A's call to B's request is the traceparent agent A's kernel
// program wrote into the request. 120 requests, 8 at a time → 120 whole traces.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { startChild, waitFor, within } from '../helpers/process.js';
import type { TestServer } from './servers.js';
import { type JsonSpan, checkChains, readSpans, requestId, service, startPython } from './span-chains.js';

const tag = (process.pid % 10000).toString();
const NS_A = `wgl-a-${tag}`;
const NS_B = `wgl-b-${tag}`;
const VETH_A = `wga${tag}`;
const VETH_B = `wgb${tag}`;
const subnet = `10.${100 + (process.pid % 100)}.${process.pid % 250}`;
const ADDR_A = `${subnet}.1`;
const ADDR_B = `${subnet}.2`;
const B_PORT = 18080;
const REQUESTS = 120;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Two namespaces and a veth between them, or the reason they cannot be made here. */
function makeHosts(): string | undefined {
  try {
    ip('netns', 'add', NS_A);
    ip('netns', 'add', NS_B);
    ip('link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B);
    ip('link', 'set', VETH_A, 'netns', NS_A);
    ip('link', 'set', VETH_B, 'netns', NS_B);
    ip('-n', NS_A, 'addr', 'add', `${ADDR_A}/24`, 'dev', VETH_A);
    ip('-n', NS_B, 'addr', 'add', `${ADDR_B}/24`, 'dev', VETH_B);
    for (const [ns, dev] of [[NS_A, VETH_A], [NS_B, VETH_B]] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    return undefined;
  } catch (e) {
    removeHosts();
    return `network namespaces and a veth pair cannot be made here (ip netns/link, CAP_NET_ADMIN): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

function removeHosts(): void {
  for (const ns of [NS_A, NS_B]) {
    try {
      ip('netns', 'del', ns); // takes its end of the veth, and so the pair, with it
    } catch {
      // not made
    }
  }
}

/** The load: an unwatched Node process in "host" a, `count` GETs to A, `concurrency` at a time. */
const LOAD = String.raw`
const [port, count, concurrency] = process.argv.slice(1).map(Number);
let next = 0, failed = 0;
async function worker() {
  while (next < count) {
    const i = next++;
    const r = await fetch('http://127.0.0.1:' + port + '/r/' + i + '?id=' + i, { signal: AbortSignal.timeout(15000) });
    if (r.status !== 200) failed++;
    await r.text();
  }
}
Promise.all(Array.from({ length: concurrency }, worker)).then(() => console.log('done ' + failed), (e) => console.log('error ' + e));
`;

describe('traces across hosts: traceparent carried over a veth between two namespaces', { timeout: 180_000 }, () => {
  const fileA = join(tmpdir(), `waggle-hosts-a-${process.pid}.jsonl`);
  const fileB = join(tmpdir(), `waggle-hosts-b-${process.pid}.jsonl`);
  let skip: string | undefined;
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let agentA: AgentProcess | undefined;
  let agentB: AgentProcess | undefined;
  let spansA: JsonSpan[] = [];
  let spansB: JsonSpan[] = [];
  let injected = 0;

  before(async () => {
    skip = makeHosts();
    if (skip) return;
    rmSync(fileA, { force: true });
    rmSync(fileB, { force: true });
    b = await startPython('svc-b', 0, { prefix: ['ip', 'netns', 'exec', NS_B], bind: ADDR_B, port: B_PORT });
    a = await startPython('svc-a', `${ADDR_B}:${B_PORT}`, { prefix: ['ip', 'netns', 'exec', NS_A] });
    // Both-ends linking off too: only the carried header may join the two sides.
    agentA = await startAgentProcess(['--pid', String(a.pid), '--inject-traceparent', '--no-trace-link-connections', '--spans-file', fileA, '--no-ui']);
    if ((await agentA.value('waggle_feature_up', { feature: 'context-propagation' })) !== 1) {
      skip = `context propagation is not up on this kernel: ${await (await fetch(`${agentA.url}/readyz`)).text()}`;
      return;
    }
    agentB = await startAgentProcess(['--pid', String(b.pid), '--no-trace-link-connections', '--spans-file', fileB, '--no-ui']);
    const loader = startChild('ip', ['netns', 'exec', NS_A, process.execPath, '-e', LOAD, String(a.port), String(REQUESTS), '8']);
    try {
      await within(loader.exited, 90_000, 'the load to finish');
    } finally {
      await loader.stop(); // a load that hangs is stopped before the failure is reported
    }
    assert.match(loader.output(), /done 0/, loader.output());
    // Spans leave after their hold (2 s): wait for them, then stop the agents (they release what they hold).
    await waitFor(() => readSpans(fileA).length >= 2 * REQUESTS && readSpans(fileB).length >= REQUESTS, 30_000, 200).catch(() => undefined);
    injected = await agentA.value('waggle_traceparent_injected_total');
    await agentA.stop();
    await agentB.stop();
    agentA = agentB = undefined;
    spansA = readSpans(fileA);
    spansB = readSpans(fileB);
  });

  after(async () => {
    try {
      await agentA?.stop();
      await agentB?.stop();
      a?.stop();
      b?.stop();
    } finally {
      removeHosts();
      if (!process.env.DEBUG_TRACES_TEST) {
        rmSync(fileA, { force: true });
        rmSync(fileB, { force: true });
      }
    }
  });

  test('each agent saw only its own side', (t) => {
    if (skip) return t.skip(skip);
    assert.deepEqual([...new Set(spansA.map(service))], ['svc-a']);
    assert.deepEqual([...new Set(spansB.map(service))], ['svc-b']);
    assert.equal(spansA.filter((s) => s.kind === 'server').length, REQUESTS);
    assert.equal(spansA.filter((s) => s.kind === 'client').length, REQUESTS);
    assert.equal(spansB.filter((s) => s.kind === 'server').length, REQUESTS);
    assert.equal(injected, REQUESTS, 'one traceparent written per call A made');
  });

  test('120 requests, 8 concurrent → 120 whole traces across the two hosts, none crossed', (t) => {
    if (skip) return t.skip(skip);
    const all = [...spansA, ...spansB];
    const byParent = new Map<string, JsonSpan[]>();
    for (const s of all) if (s.parentSpanId) byParent.set(s.parentSpanId, [...(byParent.get(s.parentSpanId) ?? []), s]);
    const traces = new Set<string>();
    for (const server of spansA.filter((s) => s.kind === 'server')) {
      const id = requestId(server);
      assert.equal(server.parentSpanId, undefined, 'A is called from an unwatched client: a root');
      const calls = byParent.get(server.spanId) ?? [];
      assert.equal(calls.length, 1, `A's request ${id} has one client child`);
      const call = calls[0]!;
      assert.equal(call.kind, 'client');
      assert.equal(requestId(call), id);
      assert.equal(call.traceId, server.traceId);
      const remote = byParent.get(call.spanId) ?? [];
      assert.equal(remote.length, 1, `A's call for ${id} has one child, on host b`);
      assert.equal(service(remote[0]!), 'svc-b');
      assert.equal(remote[0]!.kind, 'server');
      assert.equal(remote[0]!.attributes['url.path'], `/b/${id}`);
      assert.equal(remote[0]!.traceId, server.traceId);
      traces.add(server.traceId);
    }
    assert.equal(traces.size, REQUESTS, 'one trace per request');
    assert.deepEqual(checkChains(all, 'svc-a', 'svc-b'), { roots: 0, linked: REQUESTS, wrong: 0 });
  });
});
