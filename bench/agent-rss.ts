// Memory of the real agent under sustained load (issue 4: "under a sustained
// 20,000 requests/s the agent's RSS stays flat"). nginx behind `waggle run`
// with the default configuration (UI store on), driven by wrk paced at
// ~20,000 requests/s (or as close as these cores allow), in back-to-back
// intervals; the agent's RSS and the store's own estimate are sampled after each.
// Prints the series and the growth over the second half; never fails.
//
//   npm run bench:agent-rss   (BENCH_MINUTES=3, BENCH_RATE=20000, BENCH_INTERVAL_S=10)
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx } from './http-targets.js';
import { RealAgent } from './observed-agent.js';
import { Wrk } from './wrk.js';

const MINUTES = Number(process.env.BENCH_MINUTES ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 20_000);
const INTERVAL_S = Number(process.env.BENCH_INTERVAL_S ?? 10);

function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

const work = mkdtempSync(join(tmpdir(), 'waggle-bench-rss-'));
chmodSync(work, 0o755);
const wrk = new Wrk(work);
const target = await startNginx(work);
const agent = await RealAgent.start(target, { ui: true });
try {
  const conns = wrk.pacedConnections(target.url, RATE);
  const intervals = Math.max(2, Math.round((MINUTES * 60) / INTERVAL_S));
  console.log(`agent RSS under load: nginx, waggle run (default config, UI store on), wrk paced for ~${RATE} req/s (${conns} connections), ${intervals} × ${INTERVAL_S}s`);
  console.log('  t(s)   req/s    requests   agent RSS   store estimate   spans ingested');
  const samples: { t: number; rss: number }[] = [];
  let total = 0;
  const t0 = Date.now();
  for (let i = 0; i < intervals; i++) {
    const r = wrk.run(target.url, conns, true, INTERVAL_S);
    total += r.requests;
    // wrk runs synchronously, so a kept-alive scrape connection may have been closed meanwhile: retry once.
    const m = await agent.metrics().catch(() => agent.metrics());
    const rss = rssMiB(agent.pid);
    const t = Math.round((Date.now() - t0) / 1000);
    samples.push({ t, rss });
    const store = (m.get('waggle_store_memory_bytes') ?? NaN) / 2 ** 20;
    const spans = m.get('waggle_store_spans_ingested_total') ?? NaN;
    console.log(
      `  ${String(t).padStart(4)}  ${Math.round(r.rps).toLocaleString('en-US').padStart(7)}  ${total.toLocaleString('en-US').padStart(10)}   ${rss.toFixed(1).padStart(6)} MiB   ${store.toFixed(1).padStart(8)} MiB   ${Number.isFinite(spans) ? spans.toLocaleString('en-US') : '-'}`,
    );
  }
  const half = samples.slice(Math.floor(samples.length / 2));
  const first = half[0]!;
  const last = half.at(-1)!;
  const max = Math.max(...samples.map((s) => s.rss));
  console.log(
    `RSS over the second half: ${first.rss.toFixed(1)} → ${last.rss.toFixed(1)} MiB (${(last.rss - first.rss >= 0 ? '+' : '') + (last.rss - first.rss).toFixed(1)} MiB in ${last.t - first.t}s); peak ${max.toFixed(1)} MiB; ${total.toLocaleString('en-US')} requests in all`,
  );
} finally {
  await agent.stop();
  target.stop();
}
