// `waggle run --policy`: policies load beside HTTP telemetry in one agent; kills,
// events file, /metrics counters and the UI's event API all see the same events.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { waitFor } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'waggle-agent-sec-'));
const guarded = join(dir, 'guarded');
const policyFile = join(dir, 'guard.yaml');

const POLICY = `apiVersion: waggle.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: guard-secret
spec:
  hook: file_open
  selectors:
    - paths:
        prefix: [${guarded}/]
      flags: [read]
      binary:
        equal: [/usr/bin/cat]
      action: sigkill
    - paths:
        prefix: [${guarded}/]
      action: post
`;

interface JsonEvent {
  type: string;
  policy?: string;
  action?: string;
  path?: string;
  process?: { binary?: string; parent?: { binary?: string } };
}

describe('waggle run --policy', () => {
  let agent: AgentProcess;
  const eventsFile = join(dir, 'events.jsonl');

  before(async () => {
    spawnSync('mkdir', ['-p', guarded], { timeout: 60_000 });
    writeFileSync(join(guarded, 'secret.txt'), 'top secret\n');
    writeFileSync(policyFile, POLICY);
    agent = await startAgentProcess(['--pid', String(process.pid), '--policy', policyFile, '--events-file', eventsFile]);
  });

  after(async () => {
    // stop() never hangs (SIGKILL after 15 s) and never throws: the assertion comes after cleanup.
    const exit = await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (agent) assert.deepEqual(exit, { code: 0, signal: null }, agent.stderr().slice(-1000));
  });

  test('cat of a guarded file is killed; head is only reported; every output agrees', async () => {
    const cat = spawnSync('/bin/sh', ['-c', `cat ${guarded}/secret.txt`], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(cat.stdout, '', 'cat printed nothing: it died before its first read');
    assert.equal(cat.status, 128 + 9, 'the shell reports its child killed by SIGKILL');
    const head = spawnSync('head', ['-c', '3', join(guarded, 'secret.txt')], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(head.stdout, 'top');

    const policyEvents = () =>
      readFileSync(eventsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as JsonEvent)
        .filter((e) => e.policy === 'guard-secret');
    await waitFor(() => policyEvents().length >= 2, 10_000);
    const events = policyEvents();
    assert.equal(events.length, 2);
    const killed = events.find((e) => e.action === 'sigkill');
    const posted = events.find((e) => e.action === 'post');
    assert.equal(killed?.process?.binary, '/usr/bin/cat');
    assert.match(killed?.process?.parent?.binary ?? '', /\/(da|ba)?sh$/);
    assert.equal(posted?.process?.binary, '/usr/bin/head');

    assert.equal(await agent.value('waggle_security_policy_events_total', { policy: 'guard-secret', action: 'sigkill' }), 1);
    assert.equal(await agent.value('waggle_security_policy_events_total', { policy: 'guard-secret', action: 'post' }), 1);
    const api = (await (await fetch(`${agent.url}/api/security/events`, { signal: AbortSignal.timeout(10_000) })).json()) as { events: JsonEvent[] };
    assert.equal(api.events.filter((e) => e.policy === 'guard-secret').length, 2, 'the UI lists both events');
  });

  test('an invalid policy stops `waggle run` with exit 2, naming the file and the field', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, POLICY.replace(`prefix: [${guarded}/]`, 'prefix: [relative/path]'));
    const r = spawnSync(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), 'run', '--pid', '1', '--policy', bad, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.includes(bad), r.stderr);
    assert.match(r.stderr, /spec\.selectors\[0\]\.paths\.prefix\[0\]/);
  });
});
