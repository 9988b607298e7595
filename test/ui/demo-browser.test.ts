// End to end, in a real browser: `waggle demo` (the real workload, the real
// kernel capture) bound to this machine's non-loopback address with a token,
// driven by headless Chromium. The overview lists the demo's services with
// non-zero rates, the service map has the demo's edges, a trace opens with its
// attributes, the page updates without reloading, and the wrong token gets 401.
// Screenshots go to artifacts/ui/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { packageRoot } from '../../src/paths.js';
import { UI_DIST } from '../../src/ui/static-files.js';
import { type Child, startChild, waitFor, within } from '../helpers/process.js';

// Browser globals, used only inside page.evaluate/waitForFunction callbacks (this file is compiled without the DOM lib).
declare const window: { noReload?: boolean };
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(packageRoot, 'artifacts', 'ui');
const TOKEN = 'e2e-token-0123456789abcdef';
const DEMO_SERVICES = ['frontend', 'api', 'nginx', 'inventory', 'loadgen'];

function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

function whyNot(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  if (!existsSync(join(UI_DIST, 'index.html'))) return 'the web UI is not built (npm run build:ui)';
  if (!externalAddress()) return 'no non-loopback IPv4 address to bind';
  return undefined;
}

describe('waggle demo in a real browser', { skip: whyNot() }, () => {
  let demo: Child;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pids: number[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const host = externalAddress()!;
    const port = 20000 + (process.pid % 20000);
    demo = startChild(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), 'demo', '--listen', `${host}:${port}`, '--ui-token', TOKEN, '--rate', '40', '--port', String(port + 1)], { cwd: packageRoot });
    await demo.waitForOutput('Open the UI:', 60_000);
    base = `http://${host}:${port}`;
    for (const m of demo.output().matchAll(/ pid (\d+) /g)) pids.push(Number(m[1]));
    // Every demo service has had traffic in the last minute.
    await waitFor(
      async () => {
        const r = await fetch(`${base}/api/overview`, { headers: { Authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5000) });
        const o = (await r.json()) as { services: Array<{ name: string; server: { rate: number } | null; client: { rate: number } | null }> };
        return DEMO_SERVICES.every((n) => o.services.some((s) => s.name === n && (s.server?.rate ?? s.client?.rate ?? 0) > 0));
      },
      45_000,
      500,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  });

  after(async () => {
    // The demo stops whatever happens to the browser; assertions come once both are down.
    const closing = browser ? within(browser.close(), 15_000, 'Chromium to close').then(() => undefined, (e: unknown) => e) : undefined;
    const exit = demo ? await demo.stop('SIGINT', 20_000) : undefined;
    const browserError = await closing;
    if (exit) {
      assert.deepEqual(exit, { code: 0, signal: null }, `waggle demo ended with ${JSON.stringify(exit)}: ${demo.output().slice(-400)}`);
      // The workload went with it.
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), `pid ${pid} still running`);
    }
    if (browserError) throw browserError;
  });

  test('the wrong token, or none, gets 401 everywhere, the live stream included', async () => {
    for (const path of ['/', '/api/overview', '/api/live', '/api/map', '/assets/x.js']) {
      assert.equal((await fetch(`${base}${path}`)).status, 401, path);
      assert.equal((await fetch(`${base}${path}`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status, 401, path);
      assert.equal((await fetch(`${base}${path}?token=wrong`)).status, 401, path);
    }
    assert.equal((await fetch(`${base}/api/overview`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
  });

  test('overview: every demo service with a non-zero rate, sortable, live without reload', async () => {
    // The URL the demo prints carries the token; the agent trades it for a cookie.
    await page.goto(`${base}/?token=${TOKEN}`);
    assert.equal(new URL(page.url()).search, '', 'the token is dropped from the address bar');
    await page.waitForSelector('#services-table tbody tr');
    const rows = async () =>
      page.$$eval('#services-table tbody tr', (trs) =>
        trs.map((tr) => {
          const cells = [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '');
          return { name: tr.querySelector('.svc-name')?.textContent ?? '', requests: cells[1] ?? '', outgoing: cells[6] ?? '' };
        }),
      );
    const listed = await rows();
    for (const name of DEMO_SERVICES) {
      const row = listed.find((r) => r.name === name);
      assert.ok(row, `${name} is listed: ${JSON.stringify(listed)}`);
      const rate = Number.parseFloat(name === 'loadgen' ? row.outgoing : row.requests);
      assert.ok(rate > 0, `${name} has a non-zero rate: ${JSON.stringify(row)}`);
    }
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

    // Sorting by p95, descending: the first row is the slowest.
    await page.click('#services-table th:has-text("p95")');
    const p95 = await page.$$eval('#services-table tbody tr td:nth-child(5)', (tds) => tds.map((td) => td.textContent ?? ''));
    const ms = p95.filter((t) => t !== '–').map((t) => (t.endsWith(' s') ? Number.parseFloat(t) * 1000 : Number.parseFloat(t)));
    assert.deepEqual(ms, [...ms].sort((a, b) => b - a), `sorted by p95: ${p95.join(', ')}`);

    // Live: new data arrives over the stream and the table changes, with no reload.
    await page.evaluate(() => (window.noReload = true));
    const v0 = Number(await page.getAttribute('#live-indicator', 'data-version'));
    const before = await page.textContent('.stats');
    await page.waitForFunction((v) => Number(document.getElementById('live-indicator')?.dataset.version) > v, v0, { timeout: 15_000 });
    await page.waitForFunction((t) => document.querySelector('.stats')?.textContent !== t, before, { timeout: 15_000 });
    assert.equal(await page.evaluate(() => window.noReload), true, 'the page was not reloaded');
    assert.equal(await page.textContent('#live-indicator'), 'Live');
  });

  test('service map: the demo topology', async () => {
    await page.click('a[data-nav="map"]');
    await page.waitForSelector('#service-map g.edge');
    const want = ['loadgen>frontend', 'frontend>api', 'api>nginx', 'nginx>inventory'];
    await waitFor(async () => {
      const edges = await page.$$eval('#service-map g.edge', (gs) => gs.map((g) => `${g.getAttribute('data-from')}>${g.getAttribute('data-to')}`));
      return want.every((e) => edges.includes(e));
    }, 20_000, 250);
    const edges = await page.$$eval('#service-map g.edge', (gs) => gs.map((g) => `${g.getAttribute('data-from')}>${g.getAttribute('data-to')}`));
    for (const e of want) assert.ok(edges.includes(e), `edge ${e} in ${edges.join(', ')}`);
    const nodes = await page.$$eval('#service-map g.node', (gs) => gs.map((g) => g.getAttribute('data-node')));
    for (const n of DEMO_SERVICES) assert.ok(nodes.includes(n), `node ${n}`);
    await page.screenshot({ path: join(SHOTS, 'service-map.png'), fullPage: true });
  });

  test("databases: the API's PostgreSQL is a database node (and its Redis a cache node), and the API's page lists its top queries", { skip: existsSync('/usr/lib/postgresql') ? undefined : 'postgresql is not installed' }, async () => {
    await page.click('a[data-nav="map"]');
    const databases = async () => page.$$eval('#service-map g.node[data-kind="database"]', (gs) => gs.map((g) => g.getAttribute('data-node') ?? ''));
    await waitFor(async () => (await databases()).some((n) => n.startsWith('postgresql 127.0.0.1:')), 20_000, 250);
    const edges = await page.$$eval('#service-map g.edge', (gs) => gs.map((g) => `${g.getAttribute('data-from')}>${g.getAttribute('data-to')}`));
    assert.ok(edges.some((e) => e.startsWith('api>postgresql 127.0.0.1:')), `api → postgresql in ${edges.join(', ')}`);
    if (existsSync('/usr/bin/redis-server')) {
      const caches = async () => page.$$eval('#service-map g.node[data-kind="cache"]', (gs) => gs.map((g) => g.getAttribute('data-node') ?? ''));
      await waitFor(async () => (await caches()).some((n) => n.startsWith('redis 127.0.0.1:')), 20_000, 250);
    }
    await page.screenshot({ path: join(SHOTS, 'service-map-database.png'), fullPage: true });
    await page.click('#service-map g.node[data-node="api"]');
    await page.click('.tabs button:has-text("Outgoing")');
    await page.waitForSelector('#queries-table tbody tr');
    let queries: string[] = [];
    const wanted = ['SELECT items', 'INSERT orders', 'SELECT order_archive', ...(existsSync('/usr/bin/redis-server') ? ['GET', 'SET', 'INCR'] : [])];
    const listed = () => page.$$eval('#queries-table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
    // The live page fills as the load driver reaches each path (the failing one is rarer).
    await waitFor(async () => wanted.every((q) => queries.includes(q)) || ((queries = await listed()), false), 30_000, 500).catch(() => undefined);
    for (const q of wanted) assert.ok(queries.includes(q), `${q} in ${queries.join(', ')}`);
    await page.screenshot({ path: join(SHOTS, 'service-api-queries.png'), fullPage: true });
    // Back where the next test starts.
    await page.click('a[data-nav="map"]');
    await page.waitForSelector('#service-map g.node[data-node="frontend"]');
  });

  test('service page: routes, charts, both sides', async () => {
    await page.click('#service-map g.node[data-node="frontend"]');
    await page.waitForSelector('#operations-table tbody tr');
    const routes = await page.$$eval('#operations-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
    for (const r of ['GET /', 'GET /checkout']) assert.ok(routes.includes(r), `route ${r} in ${routes.join(', ')}`);
    assert.ok((await page.$$('.card canvas')).length >= 4, 'four charts drawn');
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'service-frontend.png'), fullPage: true });
    await page.click('.tabs button:has-text("Outgoing")');
    await page.waitForFunction(() => [...document.querySelectorAll('#operations-table tbody td')].some((td: { textContent: string | null }) => td.textContent?.includes('127.0.0.1')));
    await page.screenshot({ path: join(SHOTS, 'service-frontend-outgoing.png'), fullPage: true });
  });

  test('traces: filter errors, open one, see its attributes', async () => {
    // The frontend's spans are all HTTP (the api's errors include its failing SQL).
    await page.goto(`${base}/#/traces?status=error&service=frontend`);
    await page.waitForSelector('#spans-table tbody tr.error-row');
    await page.screenshot({ path: join(SHOTS, 'traces-errors.png') });
    await page.click('#spans-table tbody tr.error-row');
    await page.waitForSelector('#span-attributes');
    const attrs = Object.fromEntries(await page.$$eval('#span-attributes tr', (trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? ''])));
    assert.match(attrs['http.request.method'] ?? '', /^(GET|POST)$/);
    assert.match(attrs['http.response.status_code'] ?? '', /^[45]\d\d$/);
    assert.ok(attrs['server.port'] || attrs['url.full'], JSON.stringify(attrs));
    await page.screenshot({ path: join(SHOTS, 'span-detail.png'), fullPage: true });
  });

  test('whole traces: from a service map edge to a waterfall across services', async () => {
    // Reachable from the map: the frontend → api edge's "traces" link lists traces with that call.
    await page.goto(`${base}/#/map`);
    const edgeLink = '#edges-table a.edge-traces[href*="service=frontend"][href*="calls=api"]';
    await page.waitForSelector(edgeLink, { timeout: 20_000 });
    await page.click(edgeLink);
    await page.waitForSelector('#traces-table tbody tr', { timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, 'traces-whole.png'), fullPage: true });
    await page.click('#traces-table tbody tr');
    await page.waitForSelector('#trace-waterfall .wf-row');
    assert.match(new URL(page.url()).hash, /^#\/trace\/[0-9a-f]{32}$/);

    // GET / goes loadgen → frontend → api → nginx (a static file): with one request in flight in
    // the Node services it is one trace of six hops; find one and check its shape.
    const headers = { Authorization: `Bearer ${TOKEN}` };
    type Item = { traceId: string; spanCount: number; services: string[] };
    let whole: Item | undefined;
    await waitFor(async () => {
      const r = await fetch(`${base}/api/traces?service=api&calls=nginx&limit=1000`, { headers, signal: AbortSignal.timeout(5000) });
      const list = ((await r.json()) as { traces: Item[] }).traces;
      whole = list.find((t) => ['loadgen', 'frontend', 'api', 'nginx'].every((n) => t.services.includes(n)));
      return whole !== undefined;
    }, 30_000, 500);
    await page.goto(`${base}/#/trace/${whole!.traceId}`);
    await page.waitForSelector('#trace-waterfall .wf-row');
    const rows = await page.$$eval('#trace-waterfall .wf-row', (as) => as.map((a) => `${a.getAttribute('data-depth')} ${a.querySelector('.badge')?.textContent ?? ''} ${(a.querySelector('.wf-label')?.textContent ?? '').split(' ')[1] ?? ''}`));
    for (const hop of ['0 client loadgen', '1 server frontend', '2 client frontend', '3 server api', '4 client api', '5 server nginx']) assert.ok(rows.includes(hop), `${hop} in ${rows.join(' | ')}`);
    await page.screenshot({ path: join(SHOTS, 'trace-waterfall.png'), fullPage: true });
  });

  test('agent health: the watched processes and the pipeline counters', async () => {
    await page.click('a[data-nav="health"]');
    await page.waitForSelector('#watched-table tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('#watched-table tbody tr').length >= 5);
    const services = await page.$$eval('#watched-table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
    for (const n of DEMO_SERVICES) assert.ok(services.includes(n), `${n} watched: ${services.join(', ')}`);
    const counters = await page.$$eval('#counters-table tbody td:first-child', (tds) => tds.map((td) => td.textContent ?? ''));
    assert.ok(counters.includes('records.received'));
    await page.screenshot({ path: join(SHOTS, 'health.png'), fullPage: true });
  });

  test('dark theme', async () => {
    const dark = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    try {
      const p = await dark.newPage();
      await p.goto(`${base}/?token=${TOKEN}`);
      await p.waitForSelector('#services-table tbody tr');
      assert.equal(await p.evaluate(() => document.documentElement.dataset.theme), 'dark');
      await p.screenshot({ path: join(SHOTS, 'overview-dark.png'), fullPage: true });
      await p.goto(`${base}/#/map`);
      await p.waitForSelector('#service-map g.edge');
      await p.screenshot({ path: join(SHOTS, 'service-map-dark.png'), fullPage: true });
    } finally {
      await dark.close();
    }
  });
});
