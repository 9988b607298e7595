// Service-map edges. A client span from A records an edge A → (peer endpoint);
// a server span on B records an edge (caller address) → B. Endpoints are
// resolved to services when the map is read, from the ports the services were
// seen listening on, so the order in which the two sides first appear does not
// matter. Each edge keeps its own RED series.
//
// A call between two watched services is measured at both ends; the map draws
// it once, from the caller's client spans. Server-side edges are drawn only for
// the calls the watched callers do not explain (curl, unwatched or remote
// clients): the callee's server-span count minus what its watched callers
// measured, taken first from local callers (watched services run here), then
// from remote addresses, largest first. Matching the two ends by the caller's
// ephemeral port is not possible when the map is built: the server span ends
// before the client span of the same exchange.
import { HostAddresses, normaliseAddress } from '../telemetry/host-addresses.js';
import type { Datastore } from './datastore.js';
import { LogHistogram } from './log-histogram.js';
import { RedSeries, type Sample } from './red-series.js';
import type { ClientTarget, Endpoint } from './span-fields.js';
import { type EdgeView, type MapNode, type RedSummary, summarise } from './views.js';

interface ClientEdge {
  from: string;
  endpoint: Endpoint | undefined;
  label: string;
  /** The peer is a database, cache or broker (the client's operations said so). */
  datastore: Datastore | undefined;
  series: RedSeries;
}

/** A map node as view() gives it: datastore nodes with their RED (the calls into them); services' are the store's. */
export type MapViewNode = MapNode & { summary: RedSummary | null };

interface ServerEdge {
  to: string;
  callerAddress: string;
  series: RedSeries;
}

export interface ServiceMapOptions {
  maxEdges: number;
  maxEndpoints: number;
  /** Addresses of this host (loopback is always local). */
  localAddresses?: () => Iterable<string>;
}

export const LOCAL_CALLERS_LABEL = 'local clients';

export class ServiceMap {
  private readonly clientEdges = new Map<string, ClientEdge>();
  private readonly serverEdges = new Map<string, ServerEdge>();
  /** The same server edges by service then caller address: found per span without building a key. */
  private readonly serverEdgeIndex = new Map<string, Map<string, ServerEdge>>();
  /** Per service, the listener keys it last learned (so a span of the same endpoint builds no key). */
  private readonly lastListen = new Map<string, { address: string; port: number; exact: string; any: string }>();
  /** normaliseAddress() of recent addresses (addresses repeat span after span). */
  private readonly normalised = new Map<string, string>();
  /** "addr:port" and "*:port" → service listening there. */
  private readonly listeners = new Map<string, { service: string; lastMs: number }>();
  /** Watched services that answered db or messaging operations themselves: what they are. */
  private readonly serviceDatastores = new Map<string, Datastore>();
  private readonly opts: ServiceMapOptions;
  private readonly hostAddresses: HostAddresses;
  edgesDropped = 0;

  constructor(opts: ServiceMapOptions) {
    this.opts = opts;
    this.hostAddresses = new HostAddresses(opts.localAddresses);
  }

  get edgeCount(): number {
    return this.clientEdges.size + this.serverEdges.size;
  }

  /** A client span from `service` to `target` (see clientTarget), labelled `label` (see peerLabel). */
  onClientSpan(target: ClientTarget, label: string, service: string, sample: Sample, datastore?: Datastore): void {
    const key = `${service}\0${target.peer ? `${target.peer.address}:${target.peer.port ?? ''}` : ''}\0${label}`;
    let edge = this.clientEdges.get(key);
    if (!edge) {
      const endpoint = target.peer && { address: normaliseAddress(target.peer.address), port: target.peer.port };
      if (this.edgeCount >= this.opts.maxEdges) {
        this.edgesDropped++;
        return;
      }
      edge = { from: service, endpoint, label, datastore, series: new RedSeries() };
      this.clientEdges.set(key, edge);
    }
    edge.series.add(sample);
  }

  /**
   * A server span of `service`: callers connected to `listenAddress`:`listenPort`
   * (see serverLocal; no port: unknown), from `callerAddress` (see serverCaller).
   */
  onServerSpan(listenAddress: string, listenPort: number | undefined, callerAddress: string | undefined, service: string, sample: Sample, datastore?: Datastore): void {
    if (datastore !== undefined && this.serviceDatastores.get(service) !== datastore) this.serviceDatastores.set(service, datastore);
    if (listenPort !== undefined) this.learnListenerOf(service, listenAddress, listenPort, sample.ms);
    const caller = callerAddress === undefined ? 'unknown' : this.normalise(callerAddress);
    let byCaller = this.serverEdgeIndex.get(service);
    let edge = byCaller?.get(caller);
    if (!edge) {
      if (this.edgeCount >= this.opts.maxEdges) {
        this.edgesDropped++;
        return;
      }
      edge = { to: service, callerAddress: caller, series: new RedSeries() };
      this.serverEdges.set(`${service}\0${caller}`, edge);
      if (byCaller === undefined) {
        byCaller = new Map();
        this.serverEdgeIndex.set(service, byCaller);
      }
      byCaller.set(caller, edge);
    }
    edge.series.add(sample);
  }

  /** Both listener keys of a service's endpoint ("addr:port" and "*:port"), built once per endpoint. */
  private learnListenerOf(service: string, address: string, port: number, ms: number): void {
    let last = this.lastListen.get(service);
    if (last === undefined || last.address !== address || last.port !== port) {
      last = { address, port, exact: `${this.normalise(address)}:${port}`, any: `*:${port}` };
      if (this.lastListen.size >= this.opts.maxEndpoints) this.lastListen.clear();
      this.lastListen.set(service, last);
    }
    this.learnListener(last.exact, service, ms);
    this.learnListener(last.any, service, ms);
  }

  private normalise(address: string): string {
    let n = this.normalised.get(address);
    if (n === undefined) {
      n = normaliseAddress(address);
      if (this.normalised.size >= this.opts.maxEndpoints) this.normalised.clear();
      this.normalised.set(address, n);
    }
    return n;
  }

  /** The service listening on an endpoint, if one was seen. */
  resolve(endpoint: Endpoint | undefined): string | undefined {
    if (!endpoint || endpoint.port === undefined) return undefined;
    const address = normaliseAddress(endpoint.address);
    const exact = this.listeners.get(`${address}:${endpoint.port}`);
    if (exact) return exact.service;
    if (this.isLocal(address)) return this.listeners.get(`*:${endpoint.port}`)?.service;
    return undefined;
  }

  /** Nodes and edges with traffic in the window. Service nodes are named by service name. */
  view(nowMs: number, windowMs: number): { nodes: MapViewNode[]; edges: EdgeView[] } {
    const nodes = new Map<string, MapViewNode>();
    const edges = new Map<string, EdgeAcc>();
    const serviceNode = (name: string, datastore?: Datastore) => {
      const id = `service:${name}`;
      let n = nodes.get(id);
      if (!n) {
        n = { id, label: name, type: 'service', service: name, summary: null };
        nodes.set(id, n);
      }
      const d = datastore ?? this.serviceDatastores.get(name);
      if (d && n.type === 'service') {
        n.type = d.kind;
        n.system = d.system;
      }
      return id;
    };
    const datastoreNode = (d: Datastore, label: string) => {
      const id = `${d.kind}:${label}`;
      if (!nodes.has(id)) nodes.set(id, { id, label, type: d.kind, system: d.system, summary: null });
      return id;
    };
    const externalNode = (label: string) => {
      const id = `external:${label}`;
      if (!nodes.has(id)) nodes.set(id, { id, label, type: 'external', summary: null });
      return id;
    };
    const add = (from: string, to: string, side: 'client' | 'server', series: RedSeries) => {
      const w = series.window(nowMs, windowMs);
      if (w.count === 0) return;
      const key = `${from}\0${to}\0${side}`;
      const cur = edges.get(key);
      if (cur) {
        // Several raw edges (e.g. a peer reached by name and by address) fold into one.
        cur.count += w.count;
        cur.errors += w.errors;
        cur.hist.merge(w.hist);
      } else {
        edges.set(key, { from, to, side, count: w.count, errors: w.errors, hist: w.hist, seconds: w.seconds });
      }
    };

    // Calls into each service that its watched callers measured from their side.
    const measuredByCallers = new Map<string, number>();
    for (const e of this.clientEdges.values()) {
      const target = this.resolve(e.endpoint);
      const from = serviceNode(e.from);
      const to = target ? serviceNode(target, e.datastore) : e.datastore ? datastoreNode(e.datastore, e.label) : externalNode(e.label);
      add(from, to, 'client', e.series);
      if (target) measuredByCallers.set(target, (measuredByCallers.get(target) ?? 0) + e.series.window(nowMs, windowMs).count);
    }
    // Server-side measurements per callee, grouped by caller: all local callers as one.
    const callers = new Map<string, Map<string, EdgeAcc>>();
    for (const e of this.serverEdges.values()) {
      const w = e.series.window(nowMs, windowMs);
      if (w.count === 0) continue;
      const local = this.isLocal(e.callerAddress);
      const from = local ? externalNode(LOCAL_CALLERS_LABEL) : externalNode(e.callerAddress);
      const byCaller = callers.get(e.to) ?? new Map<string, EdgeAcc>();
      callers.set(e.to, byCaller);
      const cur = byCaller.get(from);
      if (cur) {
        cur.count += w.count;
        cur.errors += w.errors;
        cur.hist.merge(w.hist);
      } else {
        byCaller.set(from, { from, to: serviceNode(e.to), side: 'server', count: w.count, errors: w.errors, hist: w.hist, seconds: w.seconds });
      }
    }
    const localId = `external:${LOCAL_CALLERS_LABEL}`;
    for (const [to, byCaller] of callers) {
      let explainedLeft = measuredByCallers.get(to) ?? 0;
      const groups = [...byCaller.values()].sort((a, b) => (a.from === localId ? -1 : b.from === localId ? 1 : b.count - a.count || a.from.localeCompare(b.from)));
      for (const g of groups) {
        const explained = Math.min(explainedLeft, g.count);
        explainedLeft -= explained;
        const surplus = g.count - explained;
        // Both ends' windows differ by a few in-flight calls; ignore such noise.
        if (surplus < Math.max(3, g.count * 0.05)) continue;
        g.errors = Math.round((g.errors * surplus) / g.count);
        g.count = surplus;
        edges.set(`${g.from}\0${g.to}\0server`, g);
      }
    }
    const used = new Set<string>();
    // An unwatched datastore's RED: the calls into it, from every caller.
    const into = new Map<string, { count: number; errors: number; hist: LogHistogram; seconds: number }>();
    for (const e of edges.values()) {
      used.add(e.from);
      used.add(e.to);
      if (e.to.startsWith('service:') || e.to.startsWith('external:')) continue;
      const acc = into.get(e.to);
      if (acc) {
        acc.count += e.count;
        acc.errors += e.errors;
        acc.hist.merge(e.hist);
      } else {
        const hist = new LogHistogram();
        hist.merge(e.hist);
        into.set(e.to, { count: e.count, errors: e.errors, hist, seconds: e.seconds });
      }
    }
    for (const [id, acc] of into) nodes.get(id)!.summary = summarise(acc.count, acc.errors, acc.hist, acc.seconds);
    return { nodes: [...nodes.values()].filter((n) => used.has(n.id)), edges: [...edges.values()].map(toView) };
  }

  /** Forgets edges and listeners idle for longer than `idleMs`. */
  sweep(nowMs: number, idleMs: number): void {
    for (const [k, e] of this.clientEdges) if (nowMs - e.series.lastMs > idleMs) this.clientEdges.delete(k);
    for (const [k, e] of this.serverEdges) if (nowMs - e.series.lastMs > idleMs) this.deleteServerEdge(k, e);
    for (const [k, l] of this.listeners) if (nowMs - l.lastMs > idleMs) this.listeners.delete(k);
  }

  private deleteServerEdge(key: string, e: ServerEdge): void {
    this.serverEdges.delete(key);
    const byCaller = this.serverEdgeIndex.get(e.to);
    byCaller?.delete(e.callerAddress);
    if (byCaller?.size === 0) this.serverEdgeIndex.delete(e.to);
  }

  /** Forgets every edge from or to a service (when the service is forgotten). */
  forgetService(name: string): void {
    for (const [k, e] of this.clientEdges) if (e.from === name) this.clientEdges.delete(k);
    for (const [k, e] of this.serverEdges) if (e.to === name) this.deleteServerEdge(k, e);
    this.lastListen.delete(name);
    this.serviceDatastores.delete(name);
  }

  byteEstimate(): number {
    let bytes = this.listeners.size * 120;
    for (const e of this.clientEdges.values()) bytes += 200 + e.series.byteEstimate();
    for (const e of this.serverEdges.values()) bytes += 200 + e.series.byteEstimate();
    return bytes;
  }

  private learnListener(key: string, service: string, ms: number): void {
    const cur = this.listeners.get(key);
    if (cur) {
      cur.service = service;
      cur.lastMs = ms;
      return;
    }
    if (this.listeners.size >= this.opts.maxEndpoints) {
      const oldest = this.listeners.keys().next().value;
      if (oldest !== undefined) this.listeners.delete(oldest);
    }
    this.listeners.set(key, { service, lastMs: ms });
  }

  private isLocal(address: string): boolean {
    return this.hostAddresses.has(address);
  }
}

interface EdgeAcc {
  from: string;
  to: string;
  side: 'client' | 'server';
  count: number;
  errors: number;
  hist: LogHistogram;
  seconds: number;
}

function toView(e: EdgeAcc): EdgeView {
  return {
    from: e.from,
    to: e.to,
    side: e.side,
    count: e.count,
    errors: e.errors,
    rate: e.count / e.seconds,
    errorRatio: e.count ? e.errors / e.count : 0,
    p50Ms: e.hist.quantileNs(0.5) / 1e6,
    p95Ms: e.hist.quantileNs(0.95) / 1e6,
    p99Ms: e.hist.quantileNs(0.99) / 1e6,
  };
}
