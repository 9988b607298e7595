/**
 * HttpTelemetry: the single entry point between captured HTTP/1 Exchanges and
 * everything that leaves the agent. One instance per agent.
 *
 *   const telemetry = new HttpTelemetry({ routes: { patterns: ['/users/{id}'] } });
 *   const prometheus = new PrometheusExporter({ metrics: telemetry.metrics, registry });   // src/export
 *   const otlp = OtlpExporter.fromEnv(process.env, { metrics: telemetry.metrics });       // when configured
 *   if (otlp.traces) telemetry.onSpan(otlp.traces.export);     // also: console printer, JSON lines…
 *   telemetry.onRequest((r) => store.addRequest(r));           // the UI's live store: a Span only for what it keeps
 *   capture.onExchange((ex) => telemetry.handleExchange(ex, discovery.identityOf(ex.pid)));
 *   selfMetrics.registerHttpTelemetry(telemetry);              // parse failures, collapsed routes…
 *   discovery.onExit((identity) => telemetry.forgetService(identity));
 *   …
 *   await otlp.shutdown(); telemetry.close();
 *
 * handleOperation() does the same for a protocol module's 'http' Operation
 * (HTTP/2 from the stream platform): same routes, records, series and spans,
 * with network.protocol.version "2".
 *
 * handleExchange() is synchronous and never throws: it scans the request and
 * response heads (offsets into the captured bytes, decoding only what is used),
 * resolves a bounded route, makes one RequestRecord per request, aggregates
 * it into `metrics` (the histograms every metrics exporter reads), hands it to
 * request listeners and, only when span listeners exist or a request listener
 * asks, builds the request's Span (once, shared). Failures (unparseable bytes, listener exceptions, services over the
 * cap) are counted in stats(), never raised. Memory is bounded by maxServices ×
 * (routes per service + peers per service) and the metrics' series cap.
 */
import type { Exchange } from '../capture/exchange.js';
import type { LocatedOperation } from '../protocols/module.js';
import { type ParseFailureReason, RequestScan, ResponseScan, scanRequest, scanResponse, splitMessages } from '../protocols/http1/index.js';
import { BoundedValues } from './bounded-values.js';
import { FramingLossCounter, type FramingLossSeries } from './framing-loss.js';
import { MonotonicClock } from './clock.js';
import { HttpFacts } from './http-facts.js';
import { HttpOperationFacts } from './http-operation-facts.js';
import type { HttpRequestFacts } from './http-request-facts.js';
import { HttpMetrics, type HttpMetricsOptions } from './http-metrics.js';
import { spanName } from './http-span.js';
import { type RequestListener, RequestListeners, type SpanListener } from './request-listeners.js';
import { type RecordOrigin, RequestRecord } from './request-record.js';
import { type RouteOptions, RouteResolver } from './routes.js';
import { ERROR_TYPE_VALUE_OTHER } from './semconv.js';
import type { ServiceIdentity } from './span.js';

export interface HttpTelemetryOptions {
  routes?: RouteOptions;
  /** Series cap and idle expiry of the metric aggregation. */
  metrics?: HttpMetricsOptions;
  /**
   * Service instances tracked at once. At the cap, instances idle for
   * idleServiceMs are forgotten to make room; if none is, exchanges of the new
   * instance are dropped and counted. Default 1000.
   */
  maxServices?: number;
  /** How long an instance without exchanges keeps its slot once the cap is reached. Default 300000. */
  idleServiceMs?: number;
  /** Distinct server.address:port values per service in client metrics before `_OTHER`. Default 100. */
  maxClientPeersPerService?: number;
  /**
   * Split an exchange whose captured request bytes hold several pipelined requests
   * into one span and observation per request (paired in order with the responses).
   * Default true; capture normally emits one exchange per request already.
   */
  splitPipelined?: boolean;
  clock?: MonotonicClock;
  /** Where records go; share one with OperationTelemetry so subscribers see every protocol. Default: its own. */
  listeners?: RequestListeners;
}


export interface ParseFailureCount {
  /** Which half of the exchange failed to parse. */
  message: 'request' | 'response';
  reason: ParseFailureReason;
  count: number;
}

export interface HttpTelemetryStats {
  /** HTTP/1 exchanges handed to handleExchange. */
  exchanges: number;
  /** HTTP operations of protocol modules (HTTP/2) handed to handleOperation. */
  operations: number;
  /** Exchanges of another protocol, ignored. */
  otherProtocol: number;
  /** Requests turned into an observation (and a span when listened to). */
  requests: number;
  parseFailures: ParseFailureCount[];
  /** Resolutions that collapsed to `/**` because a service hit its route cap, by service.name. */
  routesCollapsed: Map<string, number>;
  /** Client observations whose server.address was replaced by `_OTHER`. */
  peersCollapsed: number;
  /** Exchanges dropped because maxServices instances were already tracked. */
  servicesRejected: number;
  /** Service instances currently tracked. */
  services: number;
  /** Exceptions thrown by span listeners or metrics recorders (swallowed). */
  listenerErrors: number;
  /** Exchanges whose framing the kernel lost, by service, side and peer (bounded). */
  framingLost: FramingLossSeries[];
  /** Their total. */
  framingLostTotal: number;
  /** Unexpected internal exceptions (swallowed, the exchange is lost). */
  internalErrors: number;
}

/** Per service (namespace/name): shared by its instances. */
interface ServiceState {
  key: string;
  /** Route table keys, built once. */
  serverRoutes: string;
  clientRoutes: string;
  instances: number;
  peers: BoundedValues;
}

const EMPTY = Buffer.alloc(0);
/** Distinct routes whose span names are remembered before the cache starts over. */
const MAX_CACHED_ROUTE_NAMES = 4096;

/** The captured request bytes may hold more than the first request (pipelining). */
function mayHoldMore(bytes: Uint8Array, first: RequestScan): boolean {
  if (!first.headersComplete || first.headLength >= bytes.length) return false;
  return first.chunked || first.contentLength < 0 || first.headLength + first.contentLength < bytes.length;
}

export const HTTP_TELEMETRY_DEFAULTS = { maxServices: 1000, maxClientPeersPerService: 100, idleServiceMs: 300_000 };

interface InstanceEntry {
  state: ServiceState;
  identity: ServiceIdentity;
  lastSeenMs: number;
}

export class HttpTelemetry {
  /** The RED histograms, read by the Prometheus and OTLP exporters (and the UI). */
  readonly metrics: HttpMetrics;
  readonly #routes: RouteResolver;
  readonly #clock: MonotonicClock;
  readonly #maxServices: number;
  readonly #maxPeers: number;
  readonly #splitPipelined: boolean;
  /** Request and span listeners (maybe shared with OperationTelemetry). */
  readonly listeners: RequestListeners;
  /** Reused for every exchange (nothing of them outlives #handle). */
  readonly #requestScan = new RequestScan();
  readonly #responseScan = new ResponseScan();
  /** route → method → span name */
  readonly #spanNames = new Map<string, Map<string, string>>();
  readonly #idleServiceMs: number;
  /** instance id → its service's state and last activity */
  readonly #instances = new Map<string, InstanceEntry>();
  #lastReclaimMs = 0;
  /** service key ("namespace/name") → state */
  readonly #services = new Map<string, ServiceState>();
  readonly #parseFailures = new Map<string, ParseFailureCount>();
  readonly #routesCollapsed = new Map<string, number>();
  readonly #framingLoss = new FramingLossCounter();
  #exchanges = 0;
  #operations = 0;
  #otherProtocol = 0;
  #requests = 0;
  #servicesRejected = 0;
  #internalErrors = 0;

  constructor(opts: HttpTelemetryOptions = {}) {
    this.#routes = new RouteResolver(opts.routes);
    this.metrics = new HttpMetrics(opts.metrics);
    this.#clock = opts.clock ?? new MonotonicClock();
    this.#maxServices = opts.maxServices ?? HTTP_TELEMETRY_DEFAULTS.maxServices;
    this.#idleServiceMs = opts.idleServiceMs ?? HTTP_TELEMETRY_DEFAULTS.idleServiceMs;
    this.#maxPeers = opts.maxClientPeersPerService ?? HTTP_TELEMETRY_DEFAULTS.maxClientPeersPerService;
    this.#splitPipelined = opts.splitPipelined ?? true;
    this.listeners = opts.listeners ?? new RequestListeners();
  }

  /** Subscribes to finished spans (one Span built per request); returns the unsubscribe function. */
  onSpan(listener: SpanListener): () => void {
    return this.listeners.onSpan(listener);
  }

  /**
   * Subscribes to every request as a RequestRecord, whose Span is built only if
   * the listener asks for it (consumers that aggregate every request and keep a
   * few spans, such as the UI's live store); returns the unsubscribe function.
   */
  onRequest(listener: RequestListener): () => void {
    return this.listeners.onRequest(listener);
  }

  handleExchange(ex: Exchange, service: ServiceIdentity): void {
    try {
      this.#handle(ex, service);
    } catch {
      this.#internalErrors++;
    }
  }

  /** One 'http' Operation of a protocol module (HTTP/2): the same request record as an HTTP/1 exchange's. */
  handleOperation(located: LocatedOperation, service: ServiceIdentity): void {
    try {
      this.#operations++;
      const nowMs = Date.now();
      const state = this.#admit(service, nowMs);
      if (state === undefined) return;
      const origin = located.tid === undefined ? undefined : { tid: located.tid, localAddress: located.local.address, localPort: located.local.port };
      this.#record(new HttpOperationFacts(located), service, state, nowMs, located.remote.address, located.remote.port, origin);
    } catch {
      this.#internalErrors++;
    }
  }

  /** Stops the metrics' expiry timer. */
  close(): void {
    this.metrics.close();
  }

  /** The instance is gone: release its route state (its metric series expire with the idle TTL). */
  forgetService(service: ServiceIdentity): void {
    const entry = this.#instances.get(service.instanceId);
    if (entry === undefined) return;
    this.#instances.delete(service.instanceId);
    const s = entry.state;
    if (--s.instances === 0) {
      this.#services.delete(s.key);
      this.#routes.forget(s.serverRoutes);
      this.#routes.forget(s.clientRoutes);
    }
  }

  stats(): HttpTelemetryStats {
    let peersCollapsed = 0;
    for (const s of this.#services.values()) peersCollapsed += s.peers.overflowed;
    return {
      exchanges: this.#exchanges,
      operations: this.#operations,
      otherProtocol: this.#otherProtocol,
      requests: this.#requests,
      parseFailures: [...this.#parseFailures.values()].map((f) => ({ ...f })),
      routesCollapsed: new Map(this.#routesCollapsed),
      peersCollapsed,
      servicesRejected: this.#servicesRejected,
      services: this.#instances.size,
      listenerErrors: this.listeners.errors,
      internalErrors: this.#internalErrors,
      framingLost: this.#framingLoss.series(),
      framingLostTotal: this.#framingLoss.total,
    };
  }

  #handle(ex: Exchange, service: ServiceIdentity): void {
    if (ex.protocol !== 'http1') {
      this.#otherProtocol++;
      return;
    }
    this.#exchanges++;
    if (ex.framingLost) this.#framingLoss.add(service.name, ex);
    const nowMs = Date.now();
    const state = this.#admit(service, nowMs);
    if (state === undefined) return;
    const req = this.#requestScan;
    const reason = scanRequest(ex.request, req);
    if (reason !== undefined) {
      this.#countFailure('request', reason);
      return;
    }
    if (this.#splitPipelined && mayHoldMore(ex.request, req)) this.#handlePipelined(ex, service, state, req, nowMs);
    else this.#emit(ex, service, state, req, ex.response, false, nowMs);
  }

  /** The captured request bytes go on past the first request: one observation per request they hold. */
  #handlePipelined(ex: Exchange, service: ServiceIdentity, state: ServiceState, first: RequestScan, nowMs: number): void {
    const requests = [first];
    const pieces = splitMessages(ex.request, 'request');
    for (let i = 1; i < pieces.length; i++) {
      const scan = new RequestScan();
      const reason = scanRequest(pieces[i]!, scan);
      if (reason === undefined) requests.push(scan);
      else this.#countFailure('request', reason);
    }
    if (requests.length === 1) {
      this.#emit(ex, service, state, first, ex.response, false, nowMs);
      return;
    }
    const responses = splitMessages(ex.response, 'response', { requestMethods: requests.map((r) => r.method()) });
    requests.forEach((r, i) => this.#emit(ex, service, state, r, responses[i] ?? EMPTY, true, nowMs));
  }

  #emit(ex: Exchange, service: ServiceIdentity, state: ServiceState, req: RequestScan, responseBytes: Uint8Array, pipelined: boolean, nowMs: number): void {
    let res: ResponseScan | undefined;
    let responseMalformed = false;
    if (responseBytes.length > 0) {
      const reason = scanResponse(responseBytes, this.#responseScan);
      if (reason === undefined) {
        res = this.#responseScan;
      } else {
        responseMalformed = true;
        this.#countFailure('response', reason);
      }
    }
    this.#record(new HttpFacts(ex, req, res, responseMalformed, pipelined), service, state, nowMs, ex.remote.address, ex.remote.port, { tid: ex.tid, localAddress: ex.local.address, localPort: ex.local.port });
  }

  /** Route, bounded peer, the record; then metrics and listeners. */
  #record(facts: HttpRequestFacts, service: ServiceIdentity, state: ServiceState, nowMs: number, peerAddress: string, peerPort: number, origin: RecordOrigin | undefined): void {
    const resolved = this.#routes.resolve(facts.kind === 'server' ? state.serverRoutes : state.clientRoutes, facts.target.path);
    if (resolved.collapsed) this.#routesCollapsed.set(service.name, (this.#routesCollapsed.get(service.name) ?? 0) + 1);
    this.#requests++;
    facts.route = resolved.route;
    if (facts.kind === 'client') this.#boundPeer(facts, state);
    const clock = this.#clock;
    const record = new RequestRecord(
      facts,
      service,
      facts.kind,
      this.#spanName(facts.method, resolved.route),
      clock.toEpochNs(facts.startNs),
      clock.toEpochNs(facts.endNs),
      facts.errorType !== undefined,
      facts.errorType,
      peerAddress,
      peerPort,
      undefined,
      undefined,
      origin,
    );
    this.metrics.record(record, nowMs);
    this.listeners.publish(record);
  }

  /** spanName(method, route), one string per (route, method) rather than one per request. */
  #spanName(method: string, route: string | undefined): string {
    if (route === undefined) return spanName(method, undefined);
    let byMethod = this.#spanNames.get(route);
    if (byMethod === undefined) {
      if (this.#spanNames.size >= MAX_CACHED_ROUTE_NAMES) this.#spanNames.clear();
      byMethod = new Map();
      this.#spanNames.set(route, byMethod);
    }
    let name = byMethod.get(method);
    if (name === undefined) {
      name = spanName(method, route);
      byMethod.set(method, name);
    }
    return name;
  }

  /** The client metrics' server.address/port: the real ones for the first maxClientPeersPerService peers of a service, then `_OTHER`. */
  #boundPeer(f: HttpRequestFacts, state: ServiceState): void {
    const address = f.serverAddress();
    if (address === undefined) return;
    const port = f.serverPort();
    if (state.peers.admit(`${address}:${port ?? ''}`)) {
      f.metricServerAddress = address;
      f.metricServerPort = port;
    } else {
      f.metricServerAddress = ERROR_TYPE_VALUE_OTHER;
    }
  }

  /** The service state for this instance, or undefined when over the cap. */
  #admit(service: ServiceIdentity, now: number): ServiceState | undefined {
    const known = this.#instances.get(service.instanceId);
    if (known !== undefined) {
      known.lastSeenMs = now;
      return known.state;
    }
    if (this.#instances.size >= this.#maxServices && !this.#reclaimIdle(now)) {
      this.#servicesRejected++;
      return undefined;
    }
    const key = `${service.namespace ?? ''}/${service.name}`;
    let s = this.#services.get(key);
    if (s === undefined) {
      s = { key, serverRoutes: `${key}\0server`, clientRoutes: `${key}\0client`, instances: 0, peers: new BoundedValues(this.#maxPeers) };
      this.#services.set(key, s);
    }
    s.instances++;
    this.#instances.set(service.instanceId, { state: s, identity: service, lastSeenMs: now });
    return s;
  }

  /** Forgets instances idle past idleServiceMs (a scan at most once a second); true if room was made. */
  #reclaimIdle(now: number): boolean {
    if (now - this.#lastReclaimMs < 1000) return false;
    this.#lastReclaimMs = now;
    const idle = [...this.#instances.values()].filter((e) => now - e.lastSeenMs > this.#idleServiceMs);
    for (const e of idle) this.forgetService(e.identity);
    return idle.length > 0;
  }

  #countFailure(message: 'request' | 'response', reason: ParseFailureReason): void {
    const k = `${message}:${reason}`;
    const c = this.#parseFailures.get(k);
    if (c === undefined) this.#parseFailures.set(k, { message, reason, count: 1 });
    else c.count++;
  }
}
