// `waggle run --profile --pyroscope-url …` end to end: a real CPU-burning C
// program (70 % of its time in hot_seventy, service.name from
// OTEL_SERVICE_NAME) is profiled by the agent, which pushes gzipped pprof to an
// HTTP receiver this test runs on loopback, speaking Pyroscope's /ingest
// contract. The receiver decodes each push: the program's profile arrives under
// its service name with the configured labels and hot_seventy holds most of
// its samples. When the receiver starts failing, the agent counts the failures
// on /metrics and keeps running.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { type Child, startChild, waitFor } from '../helpers/process.js';
import { fixtures, run, scratchDir } from './harness.js';
import { type DecodedProfile, decodePprof, pprofShare } from './pprof-decode.js';

interface Push {
  body: Buffer;
  name: string;
  from: number;
  until: number;
  format: string | null;
  tenant: string | undefined;
  profile: DecodedProfile;
}

const dir = scratchDir();
const pushes: Push[] = [];
let failWith = 0; // 0: accept
let server: Server;
let agent: AgentProcess | undefined;
let workload: Child | undefined;

before(async () => {
  await run('gcc', ['-O2', '-o', join(dir, 'seventy'), join(fixtures, 'seventy-thirty.c')], { timeout: 60_000 });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://receiver');
      if (req.method !== 'POST' || url.pathname !== '/ingest') return res.writeHead(404).end();
      if (failWith) return res.writeHead(failWith).end('receiver is failing on purpose');
      try {
        const q = url.searchParams;
        pushes.push({ body: Buffer.concat(chunks), name: q.get('name') ?? '', from: Number(q.get('from')), until: Number(q.get('until')), format: q.get('format'), tenant: req.headers['x-scope-orgid'] as string | undefined, profile: decodePprof(Buffer.concat(chunks)) });
        res.writeHead(200).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  workload = startChild(join(dir, 'seventy'), [], { env: { ...process.env, OTEL_SERVICE_NAME: 'seventy-thirty' } });
  agent = await startAgentProcess(['--profile', '--profile-frequency', '49', '--pyroscope-url', `http://127.0.0.1:${port}`, '--log-level', 'warn'], {
    WAGGLE_PYROSCOPE_PUSH_INTERVAL_MS: '2000',
    WAGGLE_PYROSCOPE_LABELS: 'env=e2e,host=test-box',
    WAGGLE_PYROSCOPE_TENANT_ID: 'tenant-1',
    WAGGLE_PYROSCOPE_MAX_RETRIES: '0',
  });
});

after(async () => {
  await workload?.stop();
  await agent?.stop();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the agent pushes the program\'s profile to the receiver under its service name; hot_seventy holds most samples', async () => {
  const mine = () => pushes.filter((p) => p.name === 'seventy-thirty{env=e2e,host=test-box}');
  let seen = '';
  await waitFor(
    () => {
      const samples = mine().reduce((a, p) => a + pprofShare(p.profile, 'hot_seventy').total, 0);
      seen = `${pushes.length} pushes: ${[...new Set(pushes.map((p) => p.name))].slice(0, 20).join(' ')}`;
      return samples >= 100;
    },
    60_000,
    500,
  ).catch(() => assert.fail(`no 100 samples of seventy-thirty pushed within 60 s; ${seen}`));
  const got = mine();
  let hits = 0;
  let total = 0;
  for (const p of got) {
    assert.equal(p.format, 'pprof');
    assert.equal(p.tenant, 'tenant-1');
    assert.ok(p.until > p.from, `until ${p.until} > from ${p.from}`);
    assert.deepEqual(p.profile.sampleTypes.map((t) => t.type), ['samples', 'cpu']);
    const s = pprofShare(p.profile, 'hot_seventy');
    hits += s.hits;
    total += s.total;
  }
  console.log(`seventy-thirty: ${got.length} pushes, hot_seventy in ${hits} of ${total} samples`);
  assert.ok(hits > 0.5 * total, `hot_seventy in ${hits} of ${total} samples`);
  // Each window is pushed once: consecutive pushes of the service do not overlap.
  const spans = got.map((p) => [p.from, p.until] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1] - 1, `push ${i} starts at ${spans[i]![0]}, the one before ends at ${spans[i - 1]![1]}`);
  assert.ok((await agent!.value('waggle_exported_total', { exporter: 'pyroscope' })) >= got.length);
  // Go's own pprof reader (what Pyroscope's parser follows) reads a pushed body too.
  if (existsSync('/usr/bin/go')) {
    const file = join(dir, 'pushed.pb.gz');
    writeFileSync(file, got.at(-1)!.body);
    const { stdout } = await run('/usr/bin/go', ['tool', 'pprof', '-raw', file], { timeout: 60_000, env: { ...process.env, HOME: dir } });
    assert.match(stdout, /PeriodType: cpu nanoseconds/);
    assert.match(stdout, / hot_seventy /);
  } else console.log('go is not installed: the pushed pprof was not read by go tool pprof');
});

test('a failing receiver is counted on /metrics; the agent keeps profiling', async () => {
  failWith = 503;
  try {
    await waitFor(async () => (await agent!.value('waggle_export_failures_total', { exporter: 'pyroscope' })) >= 2, 30_000, 500);
    assert.ok((await agent!.value('waggle_export_failed_items_total', { exporter: 'pyroscope' })) >= 2);
    assert.equal((await fetch(`${agent!.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status, 200);
  } finally {
    failWith = 0;
  }
  const before = pushes.length;
  await waitFor(() => pushes.length > before, 30_000, 500);
  assert.match(agent!.stderr(), /pyroscope: a profile of .* was not accepted \(HTTP 503: receiver is failing on purpose\)/);
});
