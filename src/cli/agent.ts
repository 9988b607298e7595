// The agent: the one place where the rooms are wired together. Capture feeds
// Exchanges to telemetry; discovery tells capture whom to watch and telemetry
// who each process is; exporters and the HTTP listener take the results out.
//
//   const agent = await startAgent(config);   // programs attached, discovery done
//   agent.url                                  // http://127.0.0.1:9400
//   await agent.close();                       // detaches everything
import { Registry } from 'prom-client';
import type { SocketCapture } from '../capture/index.js';
import type { Discovery } from '../discovery/index.js';
import { ProcessTable } from '../process/index.js';
import { createWriteStream } from 'node:fs';
import { ConsoleSpanPrinter, JsonLinesSpanWriter, OtlpExporter, PrometheusExporter, SelfMetrics } from '../export/index.js';
import { HttpTelemetry, MonotonicClock, type OperationTelemetry } from '../telemetry/index.js';
import { type SpanSource, createSpanSource } from './trace-linking.js';
import { createProtocolStreams } from './protocol-streams.js';
import { type HealthSampler, startHealthSampler } from '../store/index.js';
import { type AttachedUi, attachUi } from '../ui/index.js';
import { type AgentHttpServer, createHttpServer, sendText } from '../ui/http-server.js';
import { agentHealthSources } from './agent-health.js';
import { createOperationTelemetry } from './agent-operations.js';
import type { AgentConfig } from './config/index.js';
import {
  FeatureBoard,
  type FeatureStatus,
  NOT_WANTED,
  type SecurityPart,
  checkFeatures,
  featureFailureReason,
  readinessText,
  registerFeatureMetrics,
  createDiscovery,
  startDiscoveryFeature,
  INJECT_NOT_WANTED,
  httpHooksNote,
  recordInjectFeature,
  recordTlsFeature,
  startHttpFeature,
  startSecurityFeatures,
} from './features/index.js';
import { type Logger, createLogger } from './logger.js';
import { PROFILING_NOT_WANTED, startProfilingFeature } from './features/start-profiling.js';
import { offerCaptureLifecycle, takeOverCaptureLifecycle } from './features/shared-lifecycle.js';

export interface Agent {
  /** Base URL of the listener (metrics, readiness, UI). */
  readonly url: string;
  /** The URL to open in a browser (carries the token when one is needed). */
  readonly browserUrl: string;
  /** Token required on every request when the listener is not on loopback. */
  readonly token: string | undefined;
  /** The web UI and its live store, unless ui.enabled is false. */
  readonly ui: AttachedUi | undefined;
  readonly registry: Registry;
  readonly telemetry: HttpTelemetry;
  /** Protocol operations → metrics and the same span/request listeners as HTTP. */
  readonly operations: OperationTelemetry;
  readonly discovery: Discovery;
  /** The socket capture, unless the `http` feature could not start. */
  readonly capture: SocketCapture | undefined;
  /** Every feature: up, off (with the kernel's reason) or disabled by the configuration. */
  readonly features: readonly FeatureStatus[];
  /** Policies and process events, when configured. */
  readonly security: SecurityPart | undefined;
  /** Exchanges whose process was gone before it could be identified. */
  unidentified(): number;
  close(): Promise<void>;
}

export interface StartAgentOptions {
  logger?: Logger;
  /** Where --print-traces lines go (default stdout). */
  traceOutput?: NodeJS.WritableStream;
}

/** A component's close, run whatever happened to the others. */
type Closer = () => void | Promise<void>;

export async function startAgent(config: AgentConfig, opts: StartAgentOptions = {}): Promise<Agent> {
  const log = opts.logger ?? createLogger(config.log_level);
  const closers: Closer[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (e) {
        log.warn({ err: e }, 'error while stopping a component');
      }
    }
  };

  try {
    const registry = new Registry();
    // One clock for every protocol: trace linking compares their spans' times.
    const clock = new MonotonicClock();
    const telemetry = new HttpTelemetry({
      clock,
      routes: {
        patterns: config.routes.patterns,
        unmatched: config.routes.unmatched,
        maxRoutesPerService: config.routes.max_per_service,
      },
    });
    closers.push(() => telemetry.close());
    const self = new SelfMetrics(registry);
    self.registerHttpTelemetry(telemetry);
    const operations = createOperationTelemetry(telemetry, self, clock);
    closers.push(() => operations.close());
    const prometheus = new PrometheusExporter({ metrics: telemetry.metrics, operations: operations.metrics, registry });

    // Span consumers read linked spans (traces.link): held briefly, parented, one trace id per trace.
    const spans: SpanSource = createSpanSource(config, telemetry.listeners, self);

    const otlp = new OtlpExporter(config.otlp, { metrics: telemetry.metrics, operations: operations.metrics, resourceAttributes: config.resource_attributes });
    if (otlp.traces) {
      const traces = otlp.traces;
      spans.onSpan((span) => traces.export(span));
      self.registerExporter('otlp_traces', traces);
      self.counter('spans_sampled_out_total', 'Spans the trace sampler (OTEL_TRACES_SAMPLER) left out of the OTLP export.', () => traces.sampledOut);
    }
    if (otlp.metrics) self.registerExporter('otlp_metrics', otlp.metrics);
    if (otlp.enabled) closers.push(() => otlp.shutdown());
    if (config.print_traces) {
      const printer = new ConsoleSpanPrinter(opts.traceOutput as never);
      spans.onSpan(printer.print);
      self.registerExporter('console', printer);
    }
    if (config.spans_file) {
      const stream = createWriteStream(config.spans_file, { flags: 'a' });
      stream.on('error', (e) => log.error({ err: e, path: config.spans_file }, 'cannot write the spans file'));
      const writer = new JsonLinesSpanWriter(stream);
      spans.onSpan((span) => writer.write(span));
      self.registerExporter('spans_file', writer);
      closers.push(() => new Promise<void>((resolve) => stream.end(resolve)));
    }
    // Closed after capture and before the exporters: what is held is released to them.
    closers.push(() => spans.close());

    const board = new FeatureBoard({ ...NOT_WANTED, ...PROFILING_NOT_WANTED, 'context-propagation': INJECT_NOT_WANTED });
    registerFeatureMetrics(self, board);

    // One process table for every room (src/process): discovery's kernel events
    // feed it; discovery, security and profiling read processes through it.
    const processes = new ProcessTable();
    // Discovery is created first so that capture can ask it who a pid is; it starts
    // scanning only once capture is attached, so no selected process is missed.
    const discovery = createDiscovery(config, processes);
    closers.push(() => discovery.close());
    discovery.on('error', (e) => log.warn({ err: e }, 'discovery error'));
    let unidentified = 0;
    let capture: SocketCapture | undefined;
    // Operations of the protocol modules (PostgreSQL, Redis, …), on the stream platform.
    const streams = createProtocolStreams(
      config,
      (located) => {
        const identity = discovery.identity(located.pid);
        // HTTP/2's requests are HTTP requests: the same telemetry as HTTP/1's.
        if (identity === undefined) unidentified++;
        else if (located.op.family === 'http') telemetry.handleOperation(located, identity);
        else operations.handle(located, identity);
      },
      (e) => log.warn({ err: e }, 'protocol stream error'),
    );
    closers.push(() => streams.close());
    try {
      capture = await startHttpFeature(config, {
        ...streams.hooks,
        onExchange: (exchange) => {
          const identity = discovery.identity(exchange.pid);
          if (identity) telemetry.handleExchange(exchange, identity);
          else unidentified++;
        },
        onError: (e) => log.warn({ err: e }, 'capture error'),
      });
      const attached = capture;
      closers.push(() => attached.close());
      board.up('http', httpHooksNote(attached));
      recordTlsFeature(board, attached);
      recordInjectFeature(board, attached);
      registerCaptureMetrics(self, attached, () => unidentified);
      streams.attach(attached, self);
      registerBpfProgramMetrics(self, attached);
      discovery.on('added', (proc) => attached.watch(proc.pid));
      discovery.on('removed', (pid) => attached.unwatch(pid));
    } catch (e) {
      board.off('http', featureFailureReason(e));
      if (config.capture.tls) board.disabled('tls', 'needs the http feature (the capture object), which is off');
      if (config.traces.inject_traceparent) board.disabled('context-propagation', 'needs the http feature (the capture object), which is off');
    }
    discovery.on('removed', (_pid, identity) => {
      telemetry.forgetService(identity);
      otlp.forgetService(identity);
    });
    if (capture) offerCaptureLifecycle(config, discovery, capture);
    await startDiscoveryFeature(discovery, config, board);
    if (capture) takeOverCaptureLifecycle(discovery, capture, log);
    if (discovery.mode === 'all') capture?.watchAllExcept(discovery.excludedPids());
    self.gauge('watched_processes', 'Processes selected by discovery.', () => discovery.watched().size);
    self.counter('identities_from_exec_events_total', 'Processes named from their exec event alone (gone before /proc was read: short-lived clients).', () => discovery.stats().identitiesFromExecEvents);
    self.counter('exec_tracked_total', 'Processes the kernel began watching at exec, from their executable alone (a selector on the executable): short-lived clients seen from their first instruction.', () => discovery.stats().execTracked);
    self.gauge('exec_selected_executables', 'Executables (device, inode) whose processes the kernel watches from exec.', () => discovery.stats().execSelectedExecutables);
    self.counter('exec_selected_full_total', 'Executables not handed to the kernel because its map was full (their processes are watched once user space examines them).', () => discovery.stats().execSelectedFull);
    self.counter('exec_selection_untracked_total', 'Processes watched at exec that discovery then rejected (an exclusion matched): unwatched again.', () => discovery.stats().execSelectionUndone);
    self.counter('identities_from_fork_events_total', 'Forked children that never exec\'d, named from their parent (gone before /proc was read: a PostgreSQL backend of one psql run).', () => discovery.stats().identitiesFromForkEvents);

    const server: AgentHttpServer = createHttpServer({
      host: config.listen.host,
      port: config.listen.port,
      ...(config.ui.token ? { token: config.ui.token } : {}),
    });
    let ready = false;
    server.route('GET', '/metrics', async (_req, res) => {
      const body = await prometheus.metricsText();
      res.writeHead(200, { 'content-type': prometheus.contentType });
      res.end(body);
    });
    server.route('GET', '/readyz', (_req, res) => sendText(res, ready ? 200 : 503, readinessText(ready, board)));
    let ui: AttachedUi | undefined;
    let sampler: HealthSampler | undefined;
    if (config.ui.enabled) {
      // Per request, the store aggregates a summary and builds a Span only for the
      // few it keeps: a Span per request cost about 1 µs (bench:http-pipeline).
      const attached = attachUi(server, {
        onRequest: (listener) => telemetry.onRequest(listener),
        // The trace view keeps only joined traces: lone roots need no Span.
        ...(spans.linker ? { onLinkedSpan: (listener: Parameters<SpanSource['onSpan']>[0]) => spans.onSpan(listener, { lone: false }) } : {}),
        registry,
        features: () => ({ security: board.get('process-events').state === 'up', profiling: board.get('profiling').state === 'up' }),
      });
      const health = startHealthSampler(attached.store, agentHealthSources({ discovery, capture, telemetry, features: () => board.list(), unidentified: () => unidentified }));
      sampler = health;
      closers.push(() => {
        health.stop();
        attached.close();
      });
      ui = attached;
    }
    const security = await startSecurityFeatures(config, board, { registry, store: ui?.store, log, processes });
    if (security) closers.push(() => security.close());
    const profiling = await startProfilingFeature(config, board, { server, discovery, log, self, ui: config.ui.enabled });
    if (profiling) closers.push(() => profiling.close());
    for (const f of board.list()) if (f.state === 'off') log.warn({ feature: f.name, reason: f.reason }, `feature ${f.name} is off`);

    // kernel_events: on is the older way of requiring discovery's kernel events.
    const required = [...config.require, ...(config.discovery.kernel_events === 'on' ? (['discovery'] as const) : [])];
    const refusal = checkFeatures(board, required);
    if (refusal) throw refusal;
    sampler?.sample(); // the health page shows every feature's final state from the first load
    await server.listen();
    closers.push(() => server.close());
    ready = true;
    const running = board.list().filter((f) => f.state === 'up').map((f) => f.name);
    const off = board.list().filter((f) => f.state === 'off').map((f) => f.name);
    log.info({ url: server.url, mode: discovery.mode, watched: discovery.watched().size, features: running, off }, 'waggle agent ready');

    return {
      url: server.url,
      browserUrl: server.browserUrl,
      token: server.token,
      ui,
      security,
      registry,
      telemetry,
      operations,
      discovery,
      capture,
      features: board.list(),
      unidentified: () => unidentified,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function registerCaptureMetrics(self: SelfMetrics, capture: SocketCapture, unidentified: () => number): void {
  // stats() and injectStats() walk kernel maps; read each once per scrape, not once per metric.
  const stats = oncePerScrape(() => capture.stats());
  self.counter('records_received_total', 'Exchange records read from the kernel ring buffer.', () => stats().delivered);
  self.counter('records_dropped_kernel_total', 'Exchange records lost because the kernel ring buffer was full.', () => stats().ringBufferDrops);
  self.counter('capture_evicted_total', 'Connection states evicted by the LRU with an exchange in flight (exchanges lost).', () => stats().evicted);
  self.counter('capture_incomplete_total', 'Exchanges reported incomplete (closed or timed out).', () => stats().incomplete);
  self.counter('capture_socket_other_io_total', "Socket I/O of watched processes the socket tracepoints or fexit hooks saw but the capture did not take: through another call than the read/write family (io_uring, recvmmsg, splice) or kernel-internal I/O on another socket than the syscall's (the syscall hooks miss these too).", () => stats().socketOtherIo);
  self.counter('capture_stale_states_total', "HTTP/1 connection states of a closed socket found at a new connection's socket address and dropped (a run read after the close had recreated them).", () => stats().connStale);
  self.counter('capture_framing_lost_total', 'Messages (requests or responses) whose length the kernel could not follow; see waggle_http_framing_lost_total for the exchanges, by service and peer.', () => stats().framingLost);
  self.counter('capture_pipeline_overflow_total', 'Pipelined requests past the kernel per-connection depth, not reported.', () => stats().pipelineOverflow);
  self.counter('capture_decode_errors_total', 'Records user space could not decode.', () => stats().decodeErrors);
  self.gauge('capture_in_flight', 'Exchanges in flight (requests seen, responses not yet complete).', () => stats().inFlight);
  self.gauge('capture_connections', 'TCP connections whose state the kernel tracks.', () => stats().connections);
  self.counter('capture_tls_runs_total', 'Runs of TLS plaintext fed from SSL_read/SSL_write returns.', () => stats().tlsRuns);
  self.counter('capture_tls_unbound_total', 'TLS plaintext runs of an SSL object whose socket was unknown (a pseudo connection: no addresses, HTTP/1 only).', () => stats().tlsUnbound);
  self.counter('capture_tls_ciphertext_skipped_total', 'Reads and writes of TLS sockets skipped (ciphertext).', () => stats().tlsCipherSkipped);
  self.gauge('capture_tls_binaries', 'Binaries whose OpenSSL SSL_read/SSL_write are hooked (libssl, node, …).', () => capture.tlsStats()?.binaries ?? 0);
  const inject = oncePerScrape(() => capture.injectStats());
  self.counter('traceparent_injected_total', 'Requests the kernel wrote a traceparent into (context propagation).', () => inject()?.injected ?? 0);
  self.counter('traceparent_skipped_total', 'Sends of watched processes on outgoing connections the kernel wrote no traceparent into, by reason.', () => {
    const s = inject();
    if (s === undefined) return [];
    return [
      [{ reason: 'already_present' }, s.alreadyPresent],
      [{ reason: 'not_request' }, s.notRequest],
      [{ reason: 'headers_unseen' }, s.headersUnseen],
      [{ reason: 'ring_full' }, s.ringFull],
      [{ reason: 'failed' }, s.failed],
    ] as const;
  }, ['reason']);
  self.counter('traceparent_connections_untracked_total', 'Outgoing connections whose requests could not be written into (the sockhash was full).', () => inject()?.connectionsUntracked ?? 0);
  self.counter('traceparent_unclaimed_total', 'traceparents written whose client exchange never came (its record was lost), so no span took their ids.', () => inject()?.unclaimed ?? 0);
  self.counter('exchanges_unidentified_total', 'Exchanges whose process exited before it could be identified.', unidentified);
}

/** `read` at most every 500 ms: the metrics of one scrape share one reading. */
function oncePerScrape<T>(read: () => T): () => T {
  let cached: { at: number; value: T } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > 500) cached = { at: now, value: read() };
    return cached.value;
  };
}

/**
 * Run time and run count of each capture program, from the kernel's bpf_stats:
 * zero unless run-time accounting is on (sysctl kernel.bpf_stats_enabled, or a
 * BPF_ENABLE_STATS handle such as bench:http holds), as it costs on every run.
 */
function registerBpfProgramMetrics(self: SelfMetrics, capture: SocketCapture): void {
  const info = oncePerScrape(() => {
    const coll = capture.collection;
    return [...coll.spec.programs.values()]
      .filter((p) => p.autoload)
      .map((p) => {
        const { runTimeNs, runCount } = coll.program(p.name).info();
        return { name: p.name, runTimeNs, runCount };
      });
  });
  self.counter('bpf_program_run_seconds_total', 'Kernel run time of each capture program (bpf_stats; 0 while run-time accounting is off).', () => info().map((p) => [{ program: p.name }, p.runTimeNs / 1e9] as const), ['program']);
  self.counter('bpf_program_runs_total', 'Runs of each capture program (bpf_stats; 0 while run-time accounting is off).', () => info().map((p) => [{ program: p.name }, p.runCount] as const), ['program']);
}
