// Degrade, don't die: a feature the kernel refuses is off with the kernel's
// reason, and the agent runs with the rest. The capture is made to fail for
// real: WAGGLE_BPF_DIR points at a copy of dist/bpf (symlinks) whose capture
// object is bpf/testdata/verifier_reject_capture.bpf.c — the real capture plus one
// program the verifier always refuses. Every agent is stopped before asserting.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { bpfObjectPath, packageRoot } from '../../src/paths.js';
import { type AgentProcess, freePort, parseSeries, startAgentProcess } from '../helpers/agent.js';
import { startChild, waitFor } from '../helpers/process.js';

// Browser globals, used only inside page callbacks (compiled without the DOM lib).
declare const document: any;

const DIST_BPF = join(packageRoot, 'dist', 'bpf');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(packageRoot, 'artifacts', 'ui');
const dir = mkdtempSync(join(tmpdir(), 'waggle-degrade-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A BPF directory like dist/bpf (symlinks) where objects whose path starts with a key of `replace` are other real objects. */
function bpfDirWith(name: string, replace: Record<string, string>): string {
  const root = join(dir, name);
  const substitute = (rel: string) => Object.entries(replace).find(([prefix]) => rel.startsWith(prefix))?.[1];
  const link = (rel: string) => {
    const target = join(root, rel);
    mkdirSync(join(target, '..'), { recursive: true });
    const other = substitute(rel);
    symlinkSync(other ? bpfObjectPath(other) : join(DIST_BPF, rel), target);
  };
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(DIST_BPF, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(r);
      else link(r);
    }
  };
  walk('');
  return root;
}

// Every build of the capture (the kfunc one and the portable one) is the rejected one.
const captureRejected = bpfDirWith('capture-rejected', { 'capture/': 'testdata/verifier_reject_capture' });
/** How the capture's refusal reads, wherever it is reported (which program fails first depends on the capture). */
const HTTP_REASON = /^loading socket_capture(?:_legacy)?\.bpf\.o: the verifier rejected program 'cap_\w+': \S.*$/;

const waggle = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), ...args], { encoding: 'utf8', timeout: 90_000, env: { ...process.env, ...env } });

interface JsonEvent {
  type: string;
  process: { binary: string; arguments: string[]; parent?: { binary: string } };
}

/** Everything an agent showed while it ran, gathered before it is stopped. */
async function observe(agent: AgentProcess, eventsFile: string, marker: string) {
  const readyz = await fetch(`${agent.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const readyzBody = await readyz.text();
  const gauge = parseSeries(await agent.metrics()).filter((s) => s.name === 'waggle_feature_up');
  const health = (await (await fetch(`${agent.url}/api/health`, { signal: AbortSignal.timeout(10_000) })).json()) as { latest: { features: Array<{ name: string; state: string; reason?: string }> } };
  // A process the agent did not start, exec'd by a shell: its exec event names the shell as parent.
  spawnSync('/bin/sh', ['-c', `/usr/bin/true ${marker}; :`], { timeout: 60_000 });
  // Complete lines only: the agent may be midway through writing the last one.
  const events = () =>
    (existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8') : '')
      .replace(/[^\n]*$/, '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JsonEvent);
  const exec = await waitFor(() => events().find((e) => e.type === 'process_exec' && e.process.arguments.includes(marker)), 10_000).catch(() => undefined);
  return { readyzStatus: readyz.status, readyzBody, gauge, healthFeatures: health.latest.features, exec, page: await healthPage(agent.url) };
}

/** The UI's health page in a real browser: the features table and the banner. */
async function healthPage(url: string): Promise<{ httpState: string; httpReason: string; banner: string } | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/#/health`);
    await page.waitForSelector('#features-table tr[data-feature="http"]', { timeout: 20_000 });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'health-http-off.png'), fullPage: true });
    return await page.evaluate(() => {
      const row = document.querySelector('#features-table tr[data-feature="http"]');
      return {
        httpState: row.querySelector('td:nth-child(2)').textContent,
        httpReason: row.querySelector('td:nth-child(4)').textContent,
        banner: document.querySelector('#features-off')?.textContent ?? '',
      };
    });
  } finally {
    await browser.close();
  }
}

describe('a feature the kernel refuses is off; the agent runs with the rest', () => {
  test('capture rejected by the verifier: http off everywhere with the same reason, security events still arrive', async () => {
    const eventsFile = join(dir, 'events.jsonl');
    const marker = `degrade-${process.pid}`;
    const agent = await startAgentProcess(['--pid', String(process.pid), '--events-file', eventsFile], { WAGGLE_BPF_DIR: captureRejected });
    let seen: Awaited<ReturnType<typeof observe>>;
    let exit: Awaited<ReturnType<AgentProcess['stop']>>;
    try {
      seen = await observe(agent, eventsFile, marker);
    } finally {
      exit = await agent.stop();
    }

    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(seen.readyzStatus, 200);
    const [first, http, ...rest] = seen.readyzBody.trimEnd().split('\n');
    assert.equal(first, 'ready');
    const reason = /^http off: (.*)$/.exec(http ?? '')?.[1] ?? '';
    assert.match(reason, HTTP_REASON);
    assert.deepEqual(rest, ['tls disabled: needs the http feature (the capture object), which is off', 'context-propagation disabled: not asked for (--inject-traceparent or traces.inject_traceparent turns it on)', 'discovery up', 'process-events up', 'policies disabled: no --policy given', 'profiling disabled: not asked for (--profile or profiling.enabled turns it on)']);

    const byFeature = Object.fromEntries(seen.gauge.map((s) => [s.labels.feature, s]));
    assert.deepEqual(Object.keys(byFeature), ['http', 'discovery', 'process-events'], 'disabled features have no gauge');
    assert.deepEqual([byFeature.http!.value, byFeature.http!.labels.reason], [0, reason]);
    assert.deepEqual([byFeature['process-events']!.value, byFeature['process-events']!.labels.reason], [1, '']);
    assert.equal(byFeature.discovery!.value, 1);

    assert.deepEqual(
      seen.healthFeatures.map((f) => [f.name, f.state, f.reason]),
      [
        ['http', 'off', reason],
        ['tls', 'disabled', 'needs the http feature (the capture object), which is off'],
        ['context-propagation', 'disabled', 'not asked for (--inject-traceparent or traces.inject_traceparent turns it on)'],
        ['discovery', 'up', undefined],
        ['process-events', 'up', undefined],
        ['policies', 'disabled', 'no --policy given'],
        ['profiling', 'disabled', 'not asked for (--profile or profiling.enabled turns it on)'],
      ],
    );
    if (seen.page) {
      assert.deepEqual([seen.page.httpState, seen.page.httpReason], ['off', reason]);
      assert.equal(seen.page.banner, `Running without http: ${reason}`);
    }

    assert.ok(seen.exec, `an exec event for ${marker} arrived`);
    assert.equal(seen.exec.process.binary, '/usr/bin/true');
    assert.match(seen.exec.process.parent?.binary ?? '', /\/(da|ba)?sh$/);

    const logLine = agent
      .stderr()
      .split('\n')
      .find((l) => l.includes('"feature":"http"'));
    assert.ok(logLine, agent.stderr());
    const log = JSON.parse(logLine) as { level: number; feature: string; reason: string; msg: string };
    assert.deepEqual([log.level, log.feature, log.reason, log.msg], [40, 'http', reason, 'feature http is off']);
  });

  test('--require http (or WAGGLE_REQUIRE) exits 3 naming the feature and the reason', () => {
    const byFlag = waggle(['run', '--listen', '127.0.0.1:0', '--pid', String(process.pid), '--require', 'http', '--log-level', 'silent'], { WAGGLE_BPF_DIR: captureRejected });
    const byEnv = waggle(['run', '--listen', '127.0.0.1:0', '--pid', String(process.pid), '--log-level', 'silent'], { WAGGLE_BPF_DIR: captureRejected, WAGGLE_REQUIRE: 'discovery,http' });
    const disabled = waggle(['run', '--listen', '127.0.0.1:0', '--pid', String(process.pid), '--require', 'policies', '--log-level', 'silent'], {});

    assert.equal(byFlag.status, 3, byFlag.stderr);
    const lines = byFlag.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'waggle: cannot start: required feature not running:');
    assert.match(lines[1] ?? '', /^ {2}http is off: loading socket_capture(?:_legacy)?\.bpf\.o: the verifier rejected program 'cap_\w+': \S/);
    assert.equal(lines.length, 2);
    assert.equal(byEnv.status, 3, byEnv.stderr);
    assert.equal(byEnv.stderr, byFlag.stderr, 'discovery is up, so only http is named');
    assert.equal(disabled.status, 3, disabled.stderr);
    assert.equal(disabled.stderr, 'waggle: cannot start: required feature not running:\n  policies is disabled: no --policy given\n');
  });

  test('waggle doctor reports the same from the same objects', () => {
    const r = waggle(['doctor', '--json'], { WAGGLE_BPF_DIR: captureRejected });
    assert.equal(r.status, 0, r.stderr);
    const waggleFeatures = (JSON.parse(r.stdout) as { waggle: Record<string, { ok: boolean; state: string; reason?: string }> }).waggle;
    assert.deepEqual(
      Object.entries(waggleFeatures).map(([name, f]) => [name, f.ok, f.state]),
      [
        ['http', false, 'off'],
        ['tls', false, 'disabled'],
        // doctor tries it, and it needs the capture's maps
        ['context-propagation', false, 'disabled'],
        ['discovery', true, 'up'],
        ['process-events', true, 'up'],
        ['policies', true, 'up'],
        ['profiling', true, 'up'],
      ],
    );
    assert.match(waggleFeatures.http!.reason ?? '', HTTP_REASON);
  });

  test('waggle demo comes up without http capture and says so', async () => {
    const port = await freePort();
    const demo = startChild(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), 'demo', '--listen', `127.0.0.1:${port}`, '--port', String(30000 + (process.pid % 20000)), '--rate', '5'], {
      env: { ...process.env, WAGGLE_BPF_DIR: captureRejected },
    });
    let readyz = '';
    let failure: unknown;
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      await demo.waitForOutput('Ctrl-C stops everything.', 90_000);
      readyz = await (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(10_000) })).text();
    } catch (e) {
      failure = e;
    } finally {
      demo.kill('SIGINT');
      const timer = setTimeout(() => demo.kill('SIGKILL'), 30_000);
      exit = await demo.exited;
      clearTimeout(timer);
    }

    assert.equal(failure, undefined);
    assert.deepEqual(exit, { code: 0, signal: null }, demo.output().slice(-400));
    assert.match(demo.output(), /\n {2}Running without:\n {4}http off: loading socket_capture(?:_legacy)?\.bpf\.o: the verifier rejected program 'cap_\w+': .+\n {2}\(the UI's health page says the same\)\n {2}Ctrl-C stops everything\.\n/);
    assert.doesNotMatch(demo.output(), /service map fills/, 'no service map is promised without capture');
    assert.match(readyz, /^ready\nhttp off: .+\ntls disabled: needs the http feature \(the capture object\), which is off\ncontext-propagation disabled: not asked for .+\ndiscovery up\n/);
  });

  test('nothing can load: exit 1 naming every feature', () => {
    const nothing = bpfDirWith('nothing', {
      'capture/': 'testdata/verifier_reject_capture',
      'discovery.bpf.o': 'testdata/verifier_reject',
      // Every build of the security object (the modern one and the legacy one).
      'security/security': 'testdata/verifier_reject',
    });
    const r = waggle(['run', '--listen', '127.0.0.1:0', '--policy', 'default', '--log-level', 'silent'], { WAGGLE_BPF_DIR: nothing });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'waggle: cannot start: no feature could start:');
    assert.deepEqual(
      lines.slice(1).map((l) => /^ {2}([\w-]+) is off: \S/.exec(l)?.[1]),
      ['http', 'discovery', 'process-events', 'policies'],
    );
  });
});
