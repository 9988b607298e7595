// waggle-test: no-kernel
// PyroscopePusher against a real HTTP receiver on loopback: the /ingest
// contract (name{labels}, from/until, format=pprof, auth and tenant headers,
// a gzipped pprof body), one profile per service per push with each window
// pushed once, bounded retries on 5xx, no retry on 4xx, a dead server counted
// not thrown, queue overflow counted. The profiles are real Profile objects
// fed through a ProfileSource with the profiler's window semantics.
import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { after, test } from 'node:test';
import { Profile, type ProfileQuery, PyroscopePusher, ingestUrl, pyroscopeAppName, pyroscopeIngestName, pyroscopeLabelProblem } from '../../src/profiling/index.js';
import { loadConfig } from '../../src/cli/config/index.js';
import { decodePprof, pprofShare } from './pprof-decode.js';

interface Received {
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Windows of real Profiles, queried the way ContinuousProfiler does. */
class Windows {
  readonly frequency = 19;
  readonly windows: Array<{ startMs: number; endMs: number; parts: Array<{ service: string; profile: Profile }> }> = [];
  add(startMs: number, endMs: number, parts: Record<string, Array<[string[], number]>>): void {
    this.windows.push({
      startMs,
      endMs,
      parts: Object.entries(parts).map(([service, stacks]) => {
        const p = new Profile(startMs, endMs, this.frequency);
        for (const [names, count] of stacks) p.add({ pid: 1, frames: names.map((name) => ({ name, module: 'app', kind: 'native' as const })), count });
        return { service, profile: p };
      }),
    });
  }
  span() {
    return this.windows.length ? { from: this.windows[0]!.startMs, to: this.windows.at(-1)!.endMs } : undefined;
  }
  private overlapping(from: number, to: number) {
    return this.windows.filter((w) => !(w.endMs <= from || w.startMs >= to));
  }
  targets(from: number, to: number) {
    return this.overlapping(from, to).flatMap((w) => w.parts.map((p) => ({ service: p.service, pid: 1, samples: p.profile.total })));
  }
  query(q: ProfileQuery): Profile {
    const out = new Profile(q.from, q.to, this.frequency);
    for (const w of this.overlapping(q.from, q.to)) for (const p of w.parts) if (p.service === q.service) out.merge(p.profile);
    return out;
  }
}

async function receiver(answer: (r: Received, n: number) => number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { url: new URL(req.url!, 'http://x'), headers: req.headers, body: Buffer.concat(chunks) };
      got.push(r);
      const status = answer(r, got.length);
      res.writeHead(status).end(status >= 400 ? 'no thanks' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/base/`, got };
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

test('one gzipped pprof per service per push, each window once, the /ingest contract', async () => {
  const rx = await receiver(() => 200);
  servers.push(rx.server);
  const src = new Windows();
  src.add(10_000, 15_000, { checkout: [[['main', 'work', 'hot'], 7]], 'pid 42': [[['main', 'idle'], 2]], 'pid 43': [[['kthread'], 1]] });
  src.add(15_000, 20_000, { checkout: [[['main', 'work', 'hot'], 3], [['main', 'work', 'cold'], 1]] });
  const push = new PyroscopePusher(src, { url: rx.url, intervalMs: 60_000, labels: { env: 'test', 'host.name': 'box 1' }, basicAuth: { username: 'u', password: 'p:w' }, tenantId: 'team-a' });
  try {
    assert.equal(push.collect(), 2);
    await push.idle();
    assert.equal(push.collect(), 0, 'nothing new since the last push');
    src.add(20_000, 25_000, { checkout: [[['main', 'work', 'hot'], 5]] });
    assert.equal(push.collect(), 1);
    await push.idle();
    assert.deepEqual(push.stats(), { exported: 3, dropped: 0, failed: 0, exportFailures: 0, retries: 0, queued: 0 });
  } finally {
    push.close();
  }
  assert.equal(rx.got.length, 3);
  const [second, first, third] = rx.got as [Received, Received, Received]; // the least busy service is sent first
  assert.equal(first.url.pathname, '/base/ingest');
  assert.equal(first.url.searchParams.get('name'), 'checkout{env=test,host.name=box 1}');
  // Processes without a service name go together as one application.
  assert.equal(second.url.searchParams.get('name'), 'unidentified{env=test,host.name=box 1}');
  assert.deepEqual(pprofShare(decodePprof(second.body), 'kthread'), { hits: 1, total: 3 });
  assert.equal(first.url.searchParams.get('format'), 'pprof');
  assert.equal(first.url.searchParams.get('from'), '10');
  assert.equal(first.url.searchParams.get('until'), '20');
  assert.equal(first.url.searchParams.get('sampleRate'), '19');
  assert.equal(first.headers.authorization, `Basic ${Buffer.from('u:p:w').toString('base64')}`);
  assert.equal(first.headers['x-scope-orgid'], 'team-a');
  assert.equal(first.body[0], 0x1f, 'gzip');
  const p = decodePprof(first.body);
  assert.deepEqual(p.sampleTypes, [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
  assert.deepEqual(pprofShare(p, 'hot'), { hits: 10, total: 11 });
  assert.deepEqual(p.samples.find((s) => s.stack[0] === 'cold')?.stack, ['cold', 'work', 'main']);
  assert.equal(p.timeNanos, 10_000n * 1_000_000n);
  // The third push holds only the new window.
  assert.equal(third.url.searchParams.get('from'), '20');
  assert.deepEqual(pprofShare(decodePprof(third.body), 'hot'), { hits: 5, total: 5 });
});

test('5xx is retried (bounded), 4xx is not; both counted, warnings rate-limited', async () => {
  let flakyCalls = 0;
  const rx = await receiver((r) => (r.url.searchParams.get('name')!.startsWith('flaky') ? (++flakyCalls === 1 ? 503 : 200) : 400));
  servers.push(rx.server);
  const src = new Windows();
  src.add(0, 5000, { flaky: [[['a'], 9]], rejected: [[['b'], 1]] });
  const warnings: string[] = [];
  const push = new PyroscopePusher(src, { url: rx.url, intervalMs: 60_000, retryBaseMs: 10, onWarning: (m) => warnings.push(m) });
  try {
    push.collect();
    await push.idle();
  } finally {
    push.close();
  }
  assert.deepEqual(push.stats(), { exported: 1, dropped: 0, failed: 1, exportFailures: 2, retries: 1, queued: 0 });
  assert.equal(rx.got.length, 3);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /rejected was not accepted \(HTTP 400: no thanks\)/);
});

test('a server that is not there: bounded attempts, counted, nothing thrown', async () => {
  const rx = await receiver(() => 200);
  const dead = rx.url;
  await new Promise<void>((resolve) => rx.server.close(() => resolve()));
  const src = new Windows();
  src.add(0, 5000, { a: [[['x'], 1]] });
  const warnings: string[] = [];
  const push = new PyroscopePusher(src, { url: dead, intervalMs: 60_000, maxRetries: 2, retryBaseMs: 5, onWarning: (m) => warnings.push(m) });
  try {
    push.collect();
    await push.idle();
  } finally {
    push.close();
  }
  assert.deepEqual(push.stats(), { exported: 0, dropped: 0, failed: 1, exportFailures: 3, retries: 2, queued: 0 });
  assert.match(warnings[0] ?? '', /ECONNREFUSED.*after 3 attempts/);
});

test('the queue is bounded: the oldest profiles are dropped and counted, the busiest kept', async () => {
  const rx = await receiver(() => 200);
  servers.push(rx.server);
  const src = new Windows();
  src.add(0, 5000, Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`s${i}`, [[['f'], 10 - i]] as Array<[string[], number]>])));
  const push = new PyroscopePusher(src, { url: rx.url, intervalMs: 60_000, queueSize: 2 });
  try {
    push.collect();
    await push.idle();
  } finally {
    push.close();
  }
  assert.deepEqual(push.stats(), { exported: 2, dropped: 4, failed: 0, exportFailures: 0, retries: 0, queued: 0 });
  assert.deepEqual(rx.got.map((r) => r.url.searchParams.get('name')), ['s1{}', 's0{}']);
});

test('names, labels and URLs: what Pyroscope accepts, clear errors otherwise', () => {
  assert.equal(pyroscopeAppName('my svc/v1:x'), 'my_svc/v1_x');
  assert.equal(pyroscopeIngestName('api', { b: '2', a: '1' }), 'api{a=1,b=2}');
  assert.equal(pyroscopeLabelProblem('env', 'prod'), undefined);
  assert.match(pyroscopeLabelProblem('__x', 'v')!, /reserved/);
  assert.match(pyroscopeLabelProblem('a-b', 'v')!, /letters, digits/);
  assert.match(pyroscopeLabelProblem('env', 'a,b')!, /','/);
  assert.match(pyroscopeLabelProblem('service_name', 'x')!, /set by the agent/);
  assert.equal(ingestUrl('https://p.example/pyroscope/').href, 'https://p.example/pyroscope/ingest');
  assert.throws(() => ingestUrl('ftp://x'), /not an http/);

  const ok = loadConfig({ env: {}, flags: { profile: true, pyroscopeUrl: 'http://127.0.0.1:4040' } });
  assert.equal(ok.profiling.pyroscope.url, 'http://127.0.0.1:4040');
  assert.equal(ok.profiling.pyroscope.push_interval_ms, 15_000);
  const env = { WAGGLE_PROFILING: 'true', WAGGLE_PYROSCOPE_URL: 'http://p:4040', WAGGLE_PYROSCOPE_LABELS: 'env=prod,region=eu', WAGGLE_PYROSCOPE_TENANT_ID: 't1' };
  const fromEnv = loadConfig({ env });
  assert.deepEqual(fromEnv.profiling.pyroscope.labels, { env: 'prod', region: 'eu' });
  assert.equal(fromEnv.profiling.pyroscope.tenant_id, 't1');
  const problems = (e: unknown) => (e as Error).message;
  assert.throws(() => loadConfig({ env: { WAGGLE_PYROSCOPE_URL: 'http://p:4040' } }), (e) => /profiling\.pyroscope\.url: pushing to Pyroscope needs the profiler/.test(problems(e)));
  assert.throws(() => loadConfig({ env: { ...env, WAGGLE_PYROSCOPE_URL: 'http://u:p@h' } }), (e) => /credentials may not be written in the URL/.test(problems(e)));
  assert.throws(() => loadConfig({ env: { ...env, WAGGLE_PYROSCOPE_LABELS: '__name__=x' } }), (e) => /profiling\.pyroscope\.labels\.__name__: .*reserved/.test(problems(e)));
  assert.throws(() => loadConfig({ env: { ...env, WAGGLE_PYROSCOPE_BASIC_AUTH_USERNAME: 'u' } }), (e) => /basic_auth_username and basic_auth_password go together/.test(problems(e)));
});
