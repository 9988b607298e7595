// User-space cost per HTTP exchange: HttpTelemetry.handleExchange (parse, route,
// metrics aggregation, span) with the sinks the agent may have attached. Exchanges are
// realistic curl/browser-like requests over 1,000 distinct ids, fed in batches
// of 256 with an event-loop turn between them (as ring-buffer batches arrive).
// Configurations run interleaved, ROUNDS times; medians of µs per exchange (CPU
// time of this process, GC included) are printed. Prints figures; never fails.
//   npm run build && node dist/bench/http-telemetry.js   (BENCH_ROUNDS, BENCH_EXCHANGES)
import { spawn } from 'node:child_process';
import type { Exchange } from '../src/capture/exchange.js';
import { OtlpTraceExporter, PrometheusExporter } from '../src/export/index.js';
import { HttpTelemetry, type ServiceIdentity } from '../src/telemetry/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** A collector stand-in in its own process that reads and discards OTLP requests. */
async function startCollector(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', "require('http').createServer((q, r) => { q.resume(); q.on('end', () => r.end()); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); })"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}
const collector = await startCollector();
const N = Number(process.env.BENCH_EXCHANGES ?? 100_000);

const service: ServiceIdentity = { name: 'bench', instanceId: 'bench-1', pid: 1, executableName: 'node' };

function exchanges(n: number): Exchange[] {
  const out: Exchange[] = [];
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\nDate: Thu, 01 May 2025 12:00:00 GMT\r\nConnection: keep-alive\r\n\r\n{"id":1,"name":"x","ok":tr', 'latin1');
  for (let i = 0; i < n; i++) {
    const request = Buffer.from(
      `GET /api/users/${i % 1000}/orders?page=${i % 7} HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n`,
      'latin1',
    ).subarray(0, 256);
    const t = 1e12 + i * 1e5;
    out.push({
      pid: 1, tid: 1, role: 'server',
      local: { address: '127.0.0.1', port: 8080 }, remote: { address: '127.0.0.1', port: 40000 + (i % 1000) },
      requestStartNs: t, requestEndNs: t + 1000, responseStartNs: t + 50_000, responseEndNs: t + 60_000,
      request, response, requestBytes: request.length, responseBytes: response.length + 1,
      protocol: 'http1', connectionId: `c${i % 100}`,
    });
  }
  return out;
}

interface Config {
  name: string;
  make(): { telemetry: HttpTelemetry; close(): Promise<void> };
}

const noop = () => {};
const configs: Config[] = [
  {
    name: 'parse + route + metrics aggregation',
    make() {
      const telemetry = new HttpTelemetry();
      return { telemetry, close: async () => telemetry.close() };
    },
  },
  {
    name: '+ span built for a listener',
    make() {
      const telemetry = new HttpTelemetry();
      telemetry.onSpan(noop);
      return { telemetry, close: async () => telemetry.close() };
    },
  },
  {
    name: '+ OTLP/protobuf trace export (batch 512)',
    make() {
      const telemetry = new HttpTelemetry();
      // To a discarding collector in another process: this counts queueing,
      // conversion, protobuf encoding and the HTTP client, all agent CPU.
      const traces = new OtlpTraceExporter({ url: `${collector.url}/v1/traces`, protocol: 'http/protobuf', headers: {}, timeoutMs: 10_000, compression: 'none', maxQueueSize: 8192, maxExportBatchSize: 512, scheduleDelayMs: 200 });
      telemetry.onSpan(traces.export);
      return {
        telemetry,
        close: async () => {
          telemetry.close();
          await traces.shutdown();
          const st = traces.stats();
          if (st.dropped + st.failed > 0) console.log(`  (OTLP round: ${st.exported} exported, ${st.dropped} dropped, ${st.failed} failed)`);
        },
      };
    },
  },
];

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const data = exchanges(N);
const results = new Map<string, number[]>(configs.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const c of configs) {
    const { telemetry, close } = c.make();
    for (let i = 0; i < 2000; i++) telemetry.handleExchange(data[i]!, service); // warm-up
    const before = cpuMicros();
    // Batches of 256 with an event-loop turn between them, as ring-buffer batches arrive.
    for (let i = 0; i < data.length; i += 256) {
      for (let j = i; j < Math.min(i + 256, data.length); j++) telemetry.handleExchange(data[j]!, service);
      await new Promise((r) => setImmediate(r));
    }
    await close(); // includes the final flush of whatever is queued
    const perExchange = (cpuMicros() - before) / N;
    results.get(c.name)!.push(perExchange);
  }
}

// Scrape cost, for scale: one Prometheus rendering of what the last round aggregated.
const scrapeTelemetry = new HttpTelemetry();
for (const ex of data) scrapeTelemetry.handleExchange(ex, service);
const prom = new PrometheusExporter({ metrics: scrapeTelemetry.metrics });
const t0 = performance.now();
const text = await prom.metricsText();
const scrapeMs = performance.now() - t0;
scrapeTelemetry.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`HttpTelemetry.handleExchange, ${N} exchanges × ${ROUNDS} interleaved rounds (CPU µs per exchange, median [min–max])`);
collector.stop();
console.log(`  (one /metrics rendering: ${scrapeMs.toFixed(1)} ms for ${text.split('\n').length} lines)`);
for (const [name, xs] of results) {
  console.log(`  ${name.padEnd(50)} ${median(xs).toFixed(2)} µs  [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`);
}
