// What trace linking costs a pure server driven by an unwatched client, end to
// end with the default `waggle run` (the UI on, no span exporter): once the
// linker has learned that the client's address does not call that port from a
// watched process, each request is decided on arrival and, since the trace
// view keeps joined traces only, no Span is built for it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { waitFor } from '../helpers/process.js';
import { startNode, type TestServer } from './servers.js';

const LATER = 50;

describe('waggle run: trace linking of a pure server with an unwatched client', () => {
  let server: TestServer | undefined;
  let agent: AgentProcess | undefined;
  const counts: Record<string, number> = {};

  before(async () => {
    server = await startNode('pure-node');
    agent = await startAgentProcess(['--open-port', String(server.port)]);
    const requests = () => agent!.value('http_server_request_duration_seconds_count', { service_name: 'pure-node' });
    const get = async (i: number) => {
      const r = await fetch(`http://127.0.0.1:${server!.port}/users/${i}`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(r.status, 200);
      await r.text();
    };
    // One request: held its 2 s, then decided with no client at the other end: its caller is quiet.
    await get(0);
    await waitFor(async () => (await agent!.value('waggle_trace_quiet_callers')) === 1, 15_000, 100);
    for (let i = 1; i <= LATER; i += 5) await Promise.all([0, 1, 2, 3, 4].map((k) => get(i + k)));
    await waitFor(async () => (await requests()) === LATER + 1, 15_000, 100);
    for (const name of ['waggle_trace_spans_decided_on_arrival_total', 'waggle_trace_spans_unbuilt_total', 'waggle_trace_spans_held', 'waggle_trace_quiet_callers', 'waggle_trace_quiet_callers_woken_total', 'waggle_trace_spans_evicted_total']) {
      counts[name] = await agent.value(name);
    }
    process.stdout.write(`${JSON.stringify(counts)}\n`);
  });

  after(async () => {
    await agent?.stop();
    server?.stop();
  });

  test(`after the first request, each of ${LATER} is decided on arrival with no Span built`, () => {
    assert.equal(counts.waggle_trace_spans_decided_on_arrival_total, LATER);
    assert.equal(counts.waggle_trace_spans_unbuilt_total, LATER);
    assert.equal(counts.waggle_trace_spans_held, 0);
    assert.equal(counts.waggle_trace_quiet_callers, 1);
    assert.equal(counts.waggle_trace_quiet_callers_woken_total, 0);
    assert.equal(counts.waggle_trace_spans_evicted_total, 0);
  });
});
