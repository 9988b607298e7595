// waggle-test: no-kernel
// The UI's JSON API, live stream and static files over a real socket, fed by a
// store of demo-shaped spans.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveStore } from '../../src/store/index.js';
import { type StandaloneUi, startUi } from '../../src/ui/index.js';
import { UI_DIST } from '../../src/ui/static-files.js';
import { demoRequest, httpSpan } from '../store/synthetic-spans.js';

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** Reads SSE events from a stream until `count` events arrived (or the time is up). */
function readEvents(url: string, count: number, headers: Record<string, string> = {}, timeoutMs = 8000): Promise<{ status: number; events: Array<{ event: string; data: any }> }> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: any }> = [];
    const req = request(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve({ status: res.statusCode ?? 0, events });
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          if (events.length >= count) {
            req.destroy();
            clearTimeout(timer);
            return resolve({ status: 200, events });
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`only ${events.length} of ${count} events within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (events.length < count) reject(e);
    });
    req.end();
  });
}

describe('ui api', () => {
  const store = new LiveStore();
  let ui: StandaloneUi;
  let base: string;
  const now = Date.now();

  before(async () => {
    for (let i = 0; i < 200; i++) store.addSpans(demoRequest(now - 20_000 + i * 100, i));
    // Linked spans (the trace linker's output): two whole traces, parents chained leaf to root.
    for (let i = 0; i < 2; i++) {
      const spans = demoRequest(now - 5_000 + i * 100, 0);
      for (let j = 0; j < spans.length - 1; j++) spans[j]!.parentSpanId = spans[j + 1]!.spanId;
      for (const s of spans) store.addLinkedSpan(s);
    }
    store.addSpan(httpSpan({ service: 'api', kind: 'client', route: '/v1/rates', host: 'rates.example.com', peerAddress: '198.51.100.7', port: 443, endMs: now - 1000, durationMs: 30 }));
    store.addSecurityEvent({ time: new Date(now).toISOString(), type: 'policy', policy: 'sensitive-files', action: 'post', process: { pid: 42, binary: '/usr/bin/cat' }, path: '/etc/shadow' });
    ui = await startUi(store, { port: 0, live: { intervalMs: 200 } });
    base = ui.server.url;
  });
  after(async () => {
    await ui.close();
  });

  test('overview: every service with exact counts', async () => {
    const r = await getJson(`${base}/api/overview?window=60000`);
    assert.equal(r.status, 200);
    const byName = Object.fromEntries(r.body.services.map((s: any) => [s.name, s]));
    assert.deepEqual(Object.keys(byName).sort(), ['api', 'frontend', 'loadgen', 'nginx']);
    assert.equal(byName.frontend.server.count, 200);
    assert.equal(byName.frontend.server.errors, 50); // /fail → 500, 1 in 4
    assert.equal(byName.loadgen.server, null);
    assert.equal(byName.loadgen.client.count, 200);
  });

  test('service page, map, spans, span detail, security, meta', async () => {
    const svc = await getJson(`${base}/api/services/api?window=60000&range=900000`);
    assert.equal(svc.status, 200);
    assert.deepEqual(svc.body.server.operations.map((o: any) => o.name).sort(), ['GET /api/fail', 'GET /api/items', 'GET /api/missing', 'GET /api/orders/{id}']);
    assert.equal(svc.body.client.operations.find((o: any) => o.peer === 'rates.example.com:443').count, 1);
    assert.equal(svc.body.boundsMs.at(-1), null);

    const map = await getJson(`${base}/api/map`);
    const label = (id: string) => map.body.nodes.find((n: any) => n.id === id).label;
    assert.deepEqual(map.body.edges.map((e: any) => `${label(e.from)}>${label(e.to)}`).sort(), ['api>nginx', 'api>rates.example.com:443', 'frontend>api', 'loadgen>frontend']);

    const errors = await getJson(`${base}/api/spans?status=error&service=api&limit=5`);
    assert.equal(errors.body.spans.length, 5);
    assert.ok(errors.body.spans.every((s: any) => s.service === 'api' && s.status === 'error'));
    const detail = await getJson(`${base}/api/spans/${errors.body.spans[0].spanId}`);
    assert.equal(detail.body.span.attributes['http.response.status_code'], 500);
    assert.equal(detail.body.trace.length, 4); // loadgen, frontend ×2, api: /fail has no nginx hop
    assert.equal((await getJson(`${base}/api/spans/ffffffffffffffff`)).status, 404);

    const sec = await getJson(`${base}/api/security/events`);
    assert.equal(sec.body.total, 1);
    assert.equal(sec.body.events[0].path, '/etc/shadow');
    assert.deepEqual((await getJson(`${base}/api/meta`)).body.features, { security: false, profiling: false });
    assert.equal((await getJson(`${base}/api/health`)).status, 200);
  });

  test('whole traces: a list filtered by an edge, one trace as a tree', async () => {
    const list = await getJson(`${base}/api/traces?service=api&calls=nginx`);
    assert.equal(list.status, 200);
    assert.equal(list.body.traces.length, 2);
    assert.equal(list.body.traces[0].service, 'loadgen');
    assert.equal(list.body.traces[0].spanCount, 6);
    assert.deepEqual((await getJson(`${base}/api/traces?service=nginx&calls=api`)).body.traces, []);
    const one = await getJson(`${base}/api/traces/${list.body.traces[0].traceId}`);
    assert.deepEqual(one.body.spans.map((s: any) => `${s.depth} ${s.kind} ${s.service}`), ['0 client loadgen', '1 server frontend', '2 client frontend', '3 server api', '4 client api', '5 server nginx']);
    const detail = await getJson(`${base}/api/spans/${one.body.spans[5].spanId}`);
    assert.equal(detail.body.wholeTrace, true);
    assert.equal((await getJson(`${base}/api/traces/${'f'.repeat(32)}`)).status, 404);
  });

  test('bad parameters are a 400 naming the parameter; unknown services a 404', async () => {
    const r = await getJson(`${base}/api/overview?window=abc`);
    assert.equal(r.status, 400);
    assert.equal(r.body.param, 'window');
    assert.match(r.body.error, /query parameter "window": expected an integer/);
    assert.equal((await getJson(`${base}/api/spans?status=maybe`)).body.param, 'status');
    assert.equal((await getJson(`${base}/api/spans?minMs=-1`)).body.param, 'minMs');
    assert.equal((await getJson(`${base}/api/services/%E0%A4%A`)).status, 400);
    assert.equal((await getJson(`${base}/api/services/nope`)).status, 404);
  });

  test('the live stream sends the overview at once, then again when the store changes', async () => {
    const first = readEvents(`${base}/api/live`, 4);
    await new Promise((r) => setTimeout(r, 300));
    store.addSpans(demoRequest(Date.now(), 0));
    const { events } = await first;
    assert.deepEqual(
      events.map((e) => e.event),
      ['tick', 'overview', 'tick', 'overview'],
    );
    assert.ok(events[2]!.data.version > events[0]!.data.version);
    const front = (e: any) => e.data.services.find((s: any) => s.name === 'frontend').server.count;
    assert.equal(front(events[3]), front(events[1]) + 1);
  });

  test('secret-looking attributes are redacted in span detail', async () => {
    const s = httpSpan({ service: 'frontend', kind: 'server', route: '/secret', endMs: Date.now(), durationMs: 1, port: 8080 });
    s.attributes['http.request.header.authorization'] = 'Bearer abc';
    s.attributes['http.request.header.cookie'] = 'session=1';
    store.addSpan(s);
    const d = await getJson(`${base}/api/spans/${s.spanId}`);
    assert.equal(d.body.span.attributes['http.request.header.authorization'], '[redacted]');
    assert.equal(d.body.span.attributes['http.request.header.cookie'], '[redacted]');
    assert.equal(d.body.span.attributes['http.route'], '/secret');
  });

  test('the page and its assets are served with a content security policy', async (t) => {
    if (!existsSync(join(UI_DIST, 'index.html'))) return t.skip('the web UI is not built (npm run build:ui)');
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await page.text();
    const js = /src="(\/assets\/main-[^"]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/assets\/main-[^"]+\.css)"/.exec(html)?.[1];
    assert.ok(js && css, html);
    const asset = await fetch(`${base}${js}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    assert.equal((await fetch(`${base}${css}`)).status, 200);
    assert.equal((await fetch(`${base}/assets/nope.js`)).status, 404);
  });

  test('on a non-loopback bind the API and the live stream need the token', async (t) => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!address) return t.skip('no non-loopback IPv4 address on this machine');
    const secured = await startUi(store, { host: address, port: 0, token: 'the-right-token-0123456789' });
    try {
      const at = `http://${address}:${secured.server.port}`;
      assert.equal((await fetch(`${at}/api/overview`)).status, 401);
      assert.equal((await fetch(`${at}/`)).status, 401);
      assert.equal((await readEvents(`${at}/api/live`, 1)).status, 401);
      assert.equal((await readEvents(`${at}/api/live`, 1, { Cookie: 'waggle_token=wrong-token-0123456789' })).status, 401);
      const ok = await readEvents(`${at}/api/live`, 2, { Cookie: 'waggle_token=the-right-token-0123456789' });
      assert.deepEqual(
        ok.events.map((e) => e.event),
        ['tick', 'overview'],
      );
      assert.equal((await fetch(`${at}/api/overview`, { headers: { Authorization: 'Bearer the-right-token-0123456789' } })).status, 200);
    } finally {
      await secured.close();
    }
  });
});
