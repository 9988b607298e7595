// The UI room: the agent's HTTP listener, the web app, its JSON API and live
// stream. The agent mounts the UI on its one listener (next to /metrics and
// /readyz) with `attachUi`, which also creates the live store and feeds it:
//
//   const ui = attachUi(server, { onRequest: (l) => telemetry.onRequest(l), registry });
//   const sampler = startHealthSampler(ui.store, { watched, counters });   // from ../store
//   …
//   sampler.stop(); ui.close();
import type { Registry } from 'prom-client';
import { LiveStore, type LiveStoreOptions, registerStoreMetrics } from '../store/index.js';
import type { RequestRecord, Span } from '../telemetry/index.js';
import { type UiFeatures, registerApiRoutes } from './api.js';
import { AgentHttpServer, type HttpServerOptions } from './http-server.js';
import { LiveStream, type LiveStreamOptions } from './live-stream.js';
import { registerStaticRoutes } from './static-files.js';

export { AgentHttpServer, createHttpServer, isLoopbackHost, parseListenAddress, sendJson, sendText, DEFAULT_UI_HOST, DEFAULT_UI_PORT, TOKEN_COOKIE } from './http-server.js';
export type { HttpMethod, HttpServerOptions, RouteHandler } from './http-server.js';
export type { UiFeatures } from './api.js';

export interface MountOptions {
  live?: LiveStreamOptions;
  /** Which optional pages have data behind them (default: neither). */
  features?: () => UiFeatures;
  /** Directory of the built web app (default dist/ui). */
  webDir?: string;
}

export interface MountedUi {
  live: LiveStream;
  /** Stops the live stream (the listener belongs to whoever created it). */
  close(): void;
}

/** Adds the web app, its API and live stream to a listener (listening or not yet). */
export function mountUi(store: LiveStore, server: AgentHttpServer, opts: MountOptions = {}): MountedUi {
  registerStaticRoutes(server, opts.webDir);
  registerApiRoutes(server, store, opts.features ?? (() => ({ security: false, profiling: false })));
  const live = new LiveStream(server, store, opts.live);
  return { live, close: () => live.close() };
}

export interface AttachUiOptions extends MountOptions {
  /**
   * Subscribes to finished requests; returns the unsubscribe (HttpTelemetry.onRequest).
   * The store aggregates every request and builds a Span only for those it keeps.
   */
  onRequest: (listener: (request: RequestRecord) => void) => () => void;
  /** Subscribes to linked spans (the trace linker's output) for the trace view; none: no whole traces. */
  onLinkedSpan?: (listener: (span: Span) => void) => () => void;
  /** Where the store's self-metrics go (waggle_store_*). */
  registry?: Registry;
  store?: LiveStoreOptions;
}

export interface AttachedUi extends MountedUi {
  store: LiveStore;
}

/** Creates the live store, feeds it every request, and mounts the UI on the agent's listener. */
export function attachUi(server: AgentHttpServer, opts: AttachUiOptions): AttachedUi {
  const store = new LiveStore(opts.store);
  const unsubscribeRequests = opts.onRequest((request) => store.addRequest(request));
  const unsubscribeSpans = opts.onLinkedSpan?.((span) => store.addLinkedSpan(span));
  const unsubscribe = () => {
    unsubscribeRequests();
    unsubscribeSpans?.();
  };
  if (opts.registry) registerStoreMetrics(store, opts.registry);
  const mounted = mountUi(store, server, opts);
  return {
    store,
    live: mounted.live,
    close() {
      unsubscribe();
      mounted.close();
    },
  };
}

export interface StandaloneUi {
  server: AgentHttpServer;
  live: LiveStream;
  close(): Promise<void>;
}

/** The UI on a listener of its own, started (tests, and tools without an agent). */
export async function startUi(store: LiveStore, opts: MountOptions & HttpServerOptions = {}): Promise<StandaloneUi> {
  const server = new AgentHttpServer(opts);
  const mounted = mountUi(store, server, opts);
  try {
    await server.listen();
  } catch (e) {
    mounted.close();
    throw e;
  }
  return {
    server,
    live: mounted.live,
    async close() {
      mounted.close();
      await server.close();
    },
  };
}
