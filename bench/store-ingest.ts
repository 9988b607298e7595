// The live store under a sustained span rate (default 20,000 spans/s): CPU per
// span added by the store and RSS over time. Interleaved runs: A generates the
// spans and drops them, B generates them and feeds one long-lived store, so
// A/B isolates the store's cost; RSS is sampled through all B runs to show it
// stays flat. Prints figures, never fails.
//
//   node dist/bench/store-ingest.js [--rate 20000] [--seconds 20] [--rounds 3]
import { parseArgs } from 'node:util';
import { LiveStore } from '../src/store/index.js';
import type { Span } from '../src/telemetry/span.js';
import { demoRequest, httpSpan } from '../test/store/synthetic-spans.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '20000' }, seconds: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' } },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const TICK_MS = 10;

let request = 0;
/** About `n` spans shaped like the demo's, plus a high-cardinality route and many peers. */
function makeSpans(n: number, nowMs: number): Span[] {
  const out: Span[] = [];
  while (out.length < n) {
    request++;
    if (request % 10 === 0) {
      out.push(httpSpan({ service: 'api', kind: 'server', route: `/users/${request}`, endMs: nowMs, durationMs: 1 + (request % 50), port: 8081 }));
      out.push(httpSpan({ service: 'api', kind: 'client', route: '/x', host: `10.0.${(request >> 8) & 255}.${request & 255}`, port: 80, endMs: nowMs, durationMs: 3, noLocalEndpoint: true }));
    } else {
      out.push(...demoRequest(nowMs, request));
    }
  }
  return out;
}

/** Runs for SECONDS at RATE; returns CPU µs per span. */
async function run(store: LiveStore | undefined, rss: number[], heap: number[] = []): Promise<{ cpuUsPerSpan: number; spans: number; lagMs: number }> {
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  let spans = 0;
  let lagMs = 0;
  let nextSample = start + 5000;
  for (let tick = 1; ; tick++) {
    const due = start + tick * TICK_MS;
    if (due > start + SECONDS * 1000) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else lagMs = Math.max(lagMs, -wait);
    const batch = makeSpans((RATE * TICK_MS) / 1000, Date.now());
    if (store) for (const s of batch) store.addSpan(s);
    spans += batch.length;
    if (Date.now() >= nextSample) {
      const m = process.memoryUsage();
      rss.push(m.rss / 2 ** 20);
      heap.push(m.heapUsed / 2 ** 20);
      nextSample += 5000;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuUsPerSpan: (cpu.user + cpu.system) / spans, spans, lagMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  console.log(`store-ingest: ${RATE} spans/s, ${SECONDS} s per run, ${ROUNDS} rounds of A (generate only) / B (generate + store)`);
  const store = new LiveStore();
  const rss: number[] = [];
  const heap: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const ra = await run(undefined, []);
    const rb = await run(store, rss, heap);
    a.push(ra.cpuUsPerSpan);
    b.push(rb.cpuUsPerSpan);
    console.log(
      `  round ${round}: A ${ra.cpuUsPerSpan.toFixed(2)} µs/span (${ra.spans} spans, max lag ${ra.lagMs} ms)  B ${rb.cpuUsPerSpan.toFixed(2)} µs/span (${rb.spans} spans, max lag ${rb.lagMs} ms)  store ${store.spanCount} spans, ~${(store.byteEstimate() / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  const added = median(b) - median(a);
  console.log(`store CPU per span (median B − median A): ${added.toFixed(2)} µs = ${((added * RATE) / 1e4).toFixed(1)} % of one core at ${RATE} spans/s`);
  console.log(`RSS during B runs, every 5 s (MiB): ${rss.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`heap used at the same moments (MiB, includes garbage not yet collected): ${heap.map((x) => x.toFixed(0)).join(' ')}`);
  const firstHalf = rss.slice(0, Math.ceil(rss.length / 2));
  const secondHalf = rss.slice(Math.ceil(rss.length / 2));
  console.log(`RSS median first half ${median(firstHalf).toFixed(0)} MiB, second half ${median(secondHalf).toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB`);
  console.log(`store: ${store.spansIngested} spans ingested, ${store.spanCount} kept, ${store.spansNotKept} not kept (sampling), ${store.spansEvicted} evicted, ${store.operationsCollapsed} collapsed into "(other operations)", ${store.edgesDropped} past the edge cap`);
}

await main();
