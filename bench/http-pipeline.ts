// User-space cost per exchange record of the agent's pipeline, without the
// kernel: synthetic ring-buffer batches (bench/exchange-records.ts) go through
//   decode       ExchangeDecoder only (what the capture harness does)
//   metrics      + HttpTelemetry (parse, route, metric aggregation): `waggle run --no-ui`
//   spans        + a span built for a no-op listener
//   store        + the UI's live store fed every request (HttpTelemetry.onRequest)
//   linked       + every span through the trace linker into the store's whole traces: `waggle run` (default)
// in batches of 256 with an event-loop turn between them, as ring-buffer batches
// arrive. Workloads: wrk against a Node hello-world (one route, keep-alive), and an
// API mix (1,000 ids under /api/users/{id}/orders, browser-like headers, 10 %
// client exchanges). Interleaved rounds; medians of CPU ns per record (this
// process, GC included). Prints figures; never fails.
//   npm run build && node dist/bench/http-pipeline.js   (BENCH_ROUNDS=5, BENCH_RECORDS=200000,
//   BENCH_STAGES=decode,metrics,spans,store,linked, BENCH_WORKLOADS=wrk-hello,api-mix)
import { ExchangeDecoder } from '../src/capture/index.js';
import type { Exchange } from '../src/capture/exchange.js';
import { offsetOf } from '../src/ebpf/index.js';
import { RecordBatch } from '../src/ebpf/ringbuf.js';
import { LiveStore } from '../src/store/index.js';
import { HttpTelemetry, type ServiceIdentity, TraceLinker } from '../src/telemetry/index.js';
import { type RecordSpec, captureBtf, encodeBatch } from './exchange-records.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const BATCH = 256;
const btf = captureBtf();

const service: ServiceIdentity = { name: 'bench', instanceId: 'bench-1', pid: 4242, executableName: 'node' };
const NODE_RESPONSE = 'HTTP/1.1 200 OK\r\nDate: Thu, 26 Nov 2026 18:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 12\r\n\r\nhello world\n';

function workload(name: string, n: number): RecordSpec[] {
  const out: RecordSpec[] = [];
  for (let i = 0; i < n; i++) {
    const base = { pid: 4242, laddr: [127, 0, 0, 1] as [number, number, number, number], raddr: [127, 0, 0, 1] as [number, number, number, number], startNs: 0, durationNs: 80_000 + (i % 50) * 1000 };
    if (name === 'wrk-hello') {
      out.push({ ...base, role: 1, lport: 8080, rport: 40000 + (i % 22), ino: 1000 + (i % 22), request: Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'), response: Buffer.from(NODE_RESPONSE) });
    } else if (i % 10 === 9) {
      const request = Buffer.from(`GET /v1/items/${i % 500}?q=${i} HTTP/1.1\r\nHost: inventory.internal:9000\r\nUser-Agent: node\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n`);
      const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}');
      out.push({ ...base, role: 2, lport: 50000 + (i % 8), rport: 9000, raddr: [10, 0, 0, 7], ino: 5000 + (i % 8), request, response });
    } else {
      const request = Buffer.from(
        `GET /api/users/${i % 1000}/orders?page=${i % 7} HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n`,
      );
      const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\nDate: Thu, 01 May 2025 12:00:00 GMT\r\nConnection: keep-alive\r\n\r\n{"id":1,"name":"x","ok":tr');
      out.push({ ...base, role: 1, lport: 8080, rport: 40000 + (i % 100), ino: 1000 + (i % 100), request, response });
    }
  }
  return out;
}

type Stage = 'decode' | 'metrics' | 'spans' | 'store' | 'linked';
const STAGES = (process.env.BENCH_STAGES ?? 'decode,metrics,spans,store,linked').split(',') as Stage[];

/** Rewrites the batch's timestamps to "now" (outside the measured time), one record per 50 µs. */
function restamp(batch: { buffer: Buffer; count: number }, reqStart: number, reqEnd: number, respStart: number, respEnd: number): void {
  const now = process.hrtime.bigint();
  const b = batch.buffer;
  let p = 0;
  for (let i = 0; i < batch.count; i++) {
    const len = b.readUInt32LE(p);
    const o = p + 8;
    const t = now - BigInt((batch.count - i) * 50_000);
    const d = b.readBigUInt64LE(o + respEnd) - b.readBigUInt64LE(o + reqStart);
    b.writeBigUInt64LE(t - d, o + reqStart);
    b.writeBigUInt64LE(t - d + 1000n, o + reqEnd);
    b.writeBigUInt64LE(t - 2000n, o + respStart);
    b.writeBigUInt64LE(t, o + respEnd);
    p += 8 + ((len + 7) & ~7);
  }
}

async function run(stage: Stage, batches: Array<{ buffer: Buffer; count: number }>, at: (f: string) => number): Promise<number> {
  const decoder = new ExchangeDecoder(btf);
  const telemetry = new HttpTelemetry();
  const store = new LiveStore();
  if (stage === 'spans') telemetry.onSpan(() => {});
  let linker: TraceLinker | undefined;
  if (stage === 'linked') {
    // As the agent wires it (src/cli/trace-linking.ts): every record's span held, linked, then kept by trace.
    const l = new TraceLinker();
    linker = l;
    telemetry.onRequest((r) => store.addRequest(r));
    telemetry.onRequest((r) => l.add(r));
    l.onSpan((s) => store.addLinkedSpan(s), { lone: false });
  }
  if (stage === 'store') {
    // Older checkouts (BENCH before/after runs) feed the store a Span per request.
    const t = telemetry as unknown as { onRequest?: (l: (r: unknown) => void) => void };
    const st = store as unknown as { addRequest?: (r: unknown) => void };
    if (t.onRequest && st.addRequest) t.onRequest((r) => st.addRequest!(r));
    else telemetry.onSpan((s) => store.addSpan(s));
  }
  // Older checkouts have no decodeInto: a new Exchange per record there.
  const into = decoder as unknown as { decodeInto?: (b: Buffer, o: number, l: number, ex: Exchange) => string | undefined };
  const reused = into.decodeInto ? ((await import('../src/capture/exchange-record.js' as string)) as { reusableExchange(): Exchange }).reusableExchange() : undefined;
  const decodeInto = into.decodeInto?.bind(decoder);
  let sink = 0;
  const onRecord =
    stage === 'decode'
      ? (buf: Buffer, off: number, len: number) => {
          const ex = decoder.decode(buf, off, len) as Exchange;
          sink += ex.request.length + ex.response.length;
        }
      : reused
        ? (buf: Buffer, off: number, len: number) => {
            // As the agent does (SocketCapture reuseExchange).
            if (decodeInto!(buf, off, len, reused) === undefined) telemetry.handleExchange(reused, service);
          }
        : (buf: Buffer, off: number, len: number) => {
            const ex = decoder.decode(buf, off, len);
            if (typeof ex !== 'string') telemetry.handleExchange(ex, service);
          };
  const [rs, re, ps, pe] = [at('req_start_ns'), at('req_end_ns'), at('resp_start_ns'), at('resp_end_ns')];
  let cpu = 0;
  let records = 0;
  while (records < RECORDS) {
    for (const batch of batches) {
      restamp(batch, rs, re, ps, pe);
      const t0 = process.cpuUsage();
      new RecordBatch(batch.buffer, batch.count).forEach(onRecord);
      linker?.tick();
      const d = process.cpuUsage(t0);
      cpu += d.user + d.system;
      records += batch.count;
      await new Promise((r) => setImmediate(r));
    }
  }
  telemetry.close();
  linker?.close();
  if (sink < 0) console.log(sink);
  if (stage !== 'decode' && telemetry.stats().requests !== records) console.log(`  (${stage}: ${telemetry.stats().requests} requests for ${records} records)`);
  return (cpu * 1000) / records;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const at = (f: string) => offsetOf(btf, 'exchange_event', f);

console.log(`user-space pipeline, ns per record (CPU, median [min–max] of ${ROUNDS} interleaved rounds × ${RECORDS} records, batches of ${BATCH})`);
for (const name of (process.env.BENCH_WORKLOADS ?? 'wrk-hello,api-mix').split(',')) {
  const specs = workload(name, 4096);
  const batches: Array<{ buffer: Buffer; count: number }> = [];
  for (let i = 0; i < specs.length; i += BATCH) batches.push(encodeBatch(btf, specs.slice(i, i + BATCH)));
  const results = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
  for (let r = 0; r < ROUNDS; r++) for (const s of STAGES) results.get(s)!.push(await run(s, batches, at));
  console.log(`${name}:`);
  for (const [s, xs] of results) console.log(`  ${s.padEnd(8)} ${median(xs).toFixed(0).padStart(6)} ns  [${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}]`);
}
console.log('re-run: npm run build && node dist/bench/http-pipeline.js');
