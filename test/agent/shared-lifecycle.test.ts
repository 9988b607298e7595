// Discovery and capture wired as the agent wires them share one set of
// fork/exit programs: discovery's object keeps capture's watched/excluded pid
// maps, capture's cap_fork/cap_exit detach, and a server forked by a watched
// process after it was selected is still captured from its first request.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { loadConfig } from '../../src/cli/config/index.js';
import { offerCaptureLifecycle, takeOverCaptureLifecycle } from '../../src/cli/features/shared-lifecycle.js';
import { createLogger } from '../../src/cli/logger.js';
import { Discovery } from '../../src/discovery/index.js';
import { enableStats } from '../../src/ebpf/index.js';
import { ProcessTable } from '../../src/process/index.js';
import { collect } from '../capture/helpers/capture.js';
import { requestLine } from '../capture/helpers/http-lite.js';
import { sleep, startChild } from '../helpers/process.js';

const curl = (url: string) => execFileSync('curl', ['-s', '-o', '/dev/null', url], { timeout: 60_000 });

test('one fork/exit program pair for discovery and capture; forked workers are captured from their first request', async (t) => {
  const cap = await collect();
  const stopStats = enableStats();
  // A shell that forks a Node server only when told to: the fork comes after selection.
  const script = "require('http').createServer((q, r) => r.end('kid')).listen(0, '127.0.0.1', function () { console.log('pid', process.pid, 'port', this.address().port) })";
  const shell = startChild('/bin/sh', ['-c', `read go; ${process.execPath} -e "${script}" & wait`]);
  // The test's children would be the agent's (never selected): another process plays the agent.
  const agent = startChild('sleep', ['60']);
  const processes = new ProcessTable();
  const discovery = new Discovery({ selectors: [{ pids: [shell.pid] }], agentPid: agent.pid, kernelEvents: 'on', rescanIntervalMs: 60_000, processes });
  let kidPid = 0;
  try {
    discovery.on('added', (p) => cap.capture.watch(p.pid));
    discovery.on('removed', (pid) => cap.capture.unwatch(pid));
    const config = loadConfig({ flags: {}, env: {} });
    offerCaptureLifecycle(config, discovery, cap.capture);
    await discovery.start();
    takeOverCaptureLifecycle(discovery, cap.capture, createLogger('silent'));
    const stats = discovery.stats();
    assert.equal(stats.kernelMapsShared, true, stats.kernelMapsReason ?? 'shared');
    assert.equal(cap.capture.lifecycleHandedOver, true);
    assert.deepEqual(cap.capture.watchedPids(), [shell.pid], 'selected, hence watched');
    assert.equal(processes.stats().source, 'discovery', "discovery's object feeds the process table");

    const forksBefore = discovery.kernelProgramStats().find((p) => p.name === 'discovery_fork')!.runCount;
    const runs = (name: string) => cap.capture.collection.program(name).info().runCount;
    const capBefore = { cap_fork: runs('cap_fork'), cap_exit: runs('cap_exit') };
    shell.write('go\n');
    await shell.waitForOutput(/port \d+/);
    const [, kid, port] = /pid (\d+) port (\d+)/.exec(shell.output())!.map(Number);
    kidPid = kid!;
    assert.ok(cap.capture.watchedPids().includes(kidPid), "inherited at fork, in the kernel, by discovery's program");
    curl(`http://127.0.0.1:${port}/first`);
    const got = await cap.waitFor(1, (ex) => ex.local.port === port);
    assert.deepEqual(
      got.map((ex) => [ex.pid, requestLine(ex.request)?.target]),
      [[kidPid, '/first']],
    );
    assert.ok(discovery.kernelProgramStats().find((p) => p.name === 'discovery_fork')!.runCount > forksBefore, "discovery's fork program ran");

    process.kill(kidPid, 'SIGKILL');
    const until = Date.now() + 5000;
    while (cap.capture.watchedPids().includes(kidPid) && Date.now() < until) await sleep(20);
    assert.ok(!cap.capture.watchedPids().includes(kidPid), "forgotten at exit by discovery's exit program");
    assert.deepEqual({ cap_fork: runs('cap_fork'), cap_exit: runs('cap_exit') }, capBefore, 'capture\'s fork/exit programs are detached: they did not run for this fork and exit');
  } finally {
    shell.kill();
    agent.kill();
    if (kidPid) {
      try {
        process.kill(kidPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    stopStats();
    // As the agent closes them: capture first, then discovery (whose programs keep the shared maps).
    await cap.close();
    discovery.close();
  }
  t.diagnostic('cap_fork/cap_exit detached; discovery_fork/discovery_exit keep capture\'s watched set');
});

test('without shared maps (exclude_agent_children off) capture keeps its own fork/exit programs', async () => {
  const cap = await collect();
  const discovery = new Discovery({ selectors: [{ pids: [process.pid + 1_000_000] }], kernelEvents: 'on', rescanIntervalMs: 60_000 });
  try {
    const config = loadConfig({ flags: {}, env: { WAGGLE_DISCOVERY_EXCLUDE_AGENT_CHILDREN: 'false' } });
    assert.equal(config.discovery.exclude_agent_children, false);
    offerCaptureLifecycle(config, discovery, cap.capture);
    await discovery.start();
    takeOverCaptureLifecycle(discovery, cap.capture, createLogger('silent'));
    assert.equal(discovery.stats().kernelMapsShared, false);
    assert.equal(cap.capture.lifecycleHandedOver, false);
  } finally {
    await cap.close();
    discovery.close();
  }
});
