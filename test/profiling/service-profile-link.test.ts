// From a slow route to the CPU profile, in Chromium: `waggle run --profile`
// watches a real Node HTTP service (run with --perf-basic-prof, so V8 names
// its JIT code in /tmp/perf-PID.map) whose /slow route spends ~30 ms of CPU in
// burnCpuForSlowRoute and whose /fast route does nothing. The service page
// lists both routes, the slow one's "CPU profile" link highlighted; clicking
// it opens the profiling page on that service over the same window as the
// page's figures, frozen, naming the route, and its flame graph holds
// burnCpuForSlowRoute (a JIT frame named through the perf map, end to end
// through the continuous profiler). Then the diff against a baseline from the
// URL colours the graph.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { UI_DIST } from '../../src/ui/static-files.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { type Child, startChild, waitFor, within } from '../helpers/process.js';
import { fixtures } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SERVICE = 'slow-shop';

function whyNot(): string | false {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  if (!existsSync(join(UI_DIST, 'index.html'))) return 'the web UI is not built (npm run build:ui)';
  return false;
}

let agent: AgentProcess | undefined;
let shop: Child | undefined;
let base = '';
let loading = true;
let load: Promise<void> = Promise.resolve();
let requests = 0;

async function drive(): Promise<void> {
  while (loading) {
    for (const path of ['/slow', '/fast', '/fast']) {
      try {
        const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
        await r.text();
        requests++;
      } catch {
        // the service is starting or stopping; the loop's condition ends it
      }
    }
  }
}

before(async () => {
  if (whyNot()) return;
  agent = await startAgentProcess(['--profile', '--profile-frequency', '99', '--log-level', 'warn']);
  shop = startChild(process.execPath, ['--perf-basic-prof', join(fixtures, 'slow-route.js')], { env: { ...process.env, OTEL_SERVICE_NAME: SERVICE } });
  await shop.waitForOutput(/listening \d+/, 15_000);
  base = `http://127.0.0.1:${/listening (\d+)/.exec(shop.output())![1]}`;
  load = drive();
});

after(async () => {
  loading = false;
  await within(load, 15_000, 'the load loop to end');
  await shop?.stop();
  await agent?.stop();
  if (shop) rmSync(`/tmp/perf-${shop.pid}.map`, { force: true });
});

test('a slow route links to its service\'s CPU profile over the same window; the JIT hot function is in it', { skip: whyNot() }, async () => {
  const a = agent!;
  // Both routes measured, and the service's samples named through the perf map.
  await waitFor(
    async () => {
      const r = await fetch(`${a.url}/api/services/${SERVICE}`, { signal: AbortSignal.timeout(5000) });
      if (r.status !== 200) return false;
      const v = (await r.json()) as { server: { operations: Array<{ name: string; count: number }> } | null };
      return ['/slow', '/fast'].every((p) => v.server?.operations.some((o) => o.name.endsWith(p) && o.count > 5));
    },
    60_000,
    500,
  ).catch(() => assert.fail(`the routes of ${SERVICE} were not measured (${requests} requests sent)`));
  await waitFor(
    async () => {
      const r = await fetch(`${a.url}/api/profiling/flame?service=${SERVICE}&from=${Date.now() - 60_000}`, { signal: AbortSignal.timeout(5000) });
      return JSON.stringify(await r.json()).includes('burnCpuForSlowRoute');
    },
    60_000,
    1000,
  ).catch(() => assert.fail(`no burnCpuForSlowRoute frame in ${SERVICE}'s profile`));

  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' })).newPage();
    await page.goto(`${a.url}/#/services/${SERVICE}`, { timeout: 30_000 });
    const slowLink = page.locator('[data-profile-link$="/slow"]');
    await slowLink.waitFor({ timeout: 30_000 }).catch(async (e: Error) => assert.fail(`${e.message}\npage text: ${((await page.textContent('body')) ?? '').slice(0, 800)}`));
    assert.match((await slowLink.getAttribute('class')) ?? '', /\bslow\b/, 'the slow route\'s link is highlighted');
    assert.doesNotMatch((await page.locator('[data-profile-link$="/fast"]').getAttribute('class')) ?? '', /\bslow\b/, 'the fast route\'s is not');
    const clickedAt = Date.now();
    await slowLink.click();
    await page.waitForURL(/#\/profiling\?/, { timeout: 10_000 });
    const q = new URLSearchParams(page.url().split('#/profiling?')[1]);
    assert.equal(q.get('service'), SERVICE);
    assert.match(q.get('route') ?? '', /\/slow$/);
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    assert.equal(to - from, 300_000, 'the service page\'s 5 min window');
    assert.ok(Math.abs(clickedAt - to) < 30_000, `the window ends now (to ${to}, clicked at ${clickedAt})`);
    await page.getByTestId('route-context').waitFor({ timeout: 10_000 });
    assert.match((await page.getByTestId('route-context').textContent()) ?? '', new RegExp(`${SERVICE}'s CPU while its route .*/slow was measured`));
    assert.equal(await page.locator('input[type=checkbox]').isChecked(), false, 'the range is frozen, not live');
    const hot = page.locator('[data-frame*="burnCpuForSlowRoute"]').first();
    await hot.waitFor({ timeout: 30_000 }).catch(async (e: Error) => assert.fail(`${e.message}\npage text: ${((await page.textContent('body')) ?? '').slice(0, 800)}`));

    // The diff of two ranges given by the URL: the baseline option is offered and selected.
    const baseFrom = from - 60_000;
    await page.goto(`${a.url}/#/profiling?service=${SERVICE}&from=${from}&to=${to}&baseFrom=${baseFrom}&baseTo=${from}`, { timeout: 30_000 });
    await page.reload();
    await page.locator('[data-frame*="burnCpuForSlowRoute"]').first().waitFor({ timeout: 30_000 });
    const baseline = page.locator('select[aria-label=baseline]');
    assert.equal(await baseline.inputValue(), 'given');
    await page.getByText('Baseline samples').waitFor({ timeout: 10_000 });
    await page.getByText(/Red: a larger share of samples than in the baseline/).waitFor({ timeout: 10_000 });
  } finally {
    if (browser) await within(browser.close(), 15_000, 'Chromium to close');
  }
});
