// `waggle run --profile`: the agent profiles every process; the 70/30 program
// (named by OTEL_SERVICE_NAME) shows up in /api/profiling/targets, its flame
// graph in the API and drawn by the UI's profiling page in Chromium (a
// screenshot is saved for the closing note), and /debug/pprof/profile?seconds=N
// answers gzipped pprof for the service. Bad query parameters are a 400 naming them.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../helpers/process.js';
import { fixtures, run, scratchDir } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.WAGGLE_PROFILING_SCREENSHOT ?? '/tmp/waggle-profiling-flamegraph.png';
const dir = scratchDir();
let agent: AgentProcess;
let workload: Child;

interface FlameNode {
  name: string;
  value: number;
  children: FlameNode[];
}

function find(node: FlameNode, name: string): FlameNode | undefined {
  if (node.name === name) return node;
  for (const c of node.children) {
    const f = find(c, name);
    if (f) return f;
  }
  return undefined;
}

before(async () => {
  await run('gcc', ['-O2', '-fomit-frame-pointer', '-o', join(dir, 'seventy'), join(fixtures, 'seventy-thirty.c')], { timeout: 60_000 });
  agent = await startAgentProcess(['--profile', '--profile-frequency', '49', '--log-level', 'warn']);
  workload = startChild(join(dir, 'seventy'), [], { env: { ...process.env, OTEL_SERVICE_NAME: 'seventy-thirty' } });
});

after(async () => {
  await workload?.stop();
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the service appears with samples; once its unwind tables are in, its flame graph has main;work;hot_seventy', async () => {
  await waitFor(
    async () => {
      const r = (await (await fetch(`${agent.url}/api/profiling/targets`, { signal: AbortSignal.timeout(10_000) })).json()) as { targets: { service: string; samples: number }[] };
      return r.targets.some((t) => t.service === 'seventy-thirty' && t.samples > 20);
    },
    60_000,
    500,
  );
  // Samples taken before the agent built the program's tables are leaf-only
  // (no frame pointers): look at the last 10 s once they are in.
  let last = '';
  const tree = await waitFor(
    async () => {
      const url = `${agent.url}/api/profiling/flame?service=seventy-thirty&from=${Date.now() - 10_000}`;
      const r = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as { tree: { root: FlameNode; total: number } };
      last = JSON.stringify(r.tree.root).slice(0, 2000);
      const hot = find(r.tree.root, 'work')?.children.find((c) => c.name === 'hot_seventy');
      return hot && r.tree.total >= 20 && hot.value > 0.5 * r.tree.total ? r.tree : undefined;
    },
    90_000,
    1000,
  ).catch(() => assert.fail(`no main;work;hot_seventy majority in the last 10 s: ${last}`));
  assert.ok(tree && find(tree.root, 'main'));
  const bad = await fetch(`${agent.url}/api/profiling/flame?from=abc`, { signal: AbortSignal.timeout(5000) });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { param: string }).param, 'from');
});

test('/debug/pprof/profile?seconds=2&service=… is gzipped pprof naming hot_seventy', async () => {
  const res = await fetch(`${agent.url}/debug/pprof/profile?seconds=2&service=seventy-thirty`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body[0], 0x1f);
  assert.ok(gunzipSync(body).includes(Buffer.from('hot_seventy')));
  const bad = await fetch(`${agent.url}/debug/pprof/profile?seconds=-1`, { signal: AbortSignal.timeout(5000) });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /seconds/);
});

test('the UI draws the flame graph; search marks hot_seventy', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium)` }, async () => {
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 800 }, colorScheme: 'light' })).newPage();
    await page.goto(`${agent.url}/#/profiling?service=seventy-thirty&search=hot_seventy`, { timeout: 30_000 });
    const frame = page.locator('[data-frame="hot_seventy"]').first();
    await frame.waitFor({ timeout: 30_000 }).catch(async (e: Error) => {
      assert.fail(`${e.message}\npage text: ${((await page.textContent('body')) ?? '').slice(0, 600)}`);
    });
    await page.locator('[data-frame="work"]').first().waitFor({ timeout: 5000 });
    assert.match((await page.textContent('body')) ?? '', /match: \d+(\.\d)?% of samples/);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // Zoom: clicking work leaves work's subtree filling the width.
    await page.locator('[data-frame="work"]').first().click();
    await page.getByText('reset zoom').waitFor({ timeout: 5000 });
  } finally {
    if (browser) await within(browser.close(), 15_000, 'Chromium to close');
  }
});
