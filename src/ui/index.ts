// The UI room: the agent's HTTP listener, the web app, its JSON API and live
// stream. `startUi` is what the agent calls; other parts add their routes
// (/metrics, /readyz) to `ui.server` before or after it listens.
import type { LiveStore } from '../store/index.js';
import { type UiFeatures, registerApiRoutes } from './api.js';
import { AgentHttpServer, type HttpServerOptions } from './http-server.js';
import { LiveStream, type LiveStreamOptions } from './live-stream.js';
import { registerStaticRoutes } from './static-files.js';

export { AgentHttpServer, createHttpServer, isLoopbackHost, parseListenAddress, sendJson, sendText, DEFAULT_UI_HOST, DEFAULT_UI_PORT, TOKEN_COOKIE } from './http-server.js';
export type { HttpMethod, HttpServerOptions, RouteHandler } from './http-server.js';
export type { UiFeatures } from './api.js';

export interface UiOptions extends HttpServerOptions {
  live?: LiveStreamOptions;
  /** Which optional pages have data behind them (default: neither). */
  features?: () => UiFeatures;
  /** Directory of the built web app (default dist/ui). */
  webDir?: string;
}

export interface Ui {
  server: AgentHttpServer;
  live: LiveStream;
  close(): Promise<void>;
}

/**
 * Mounts the UI on a listener: the given one (already shared with /metrics), or
 * a new one built from the options. Does not listen: call `ui.server.listen()`.
 */
export function mountUi(store: LiveStore, opts: UiOptions = {}, server = new AgentHttpServer(opts)): Ui {
  registerStaticRoutes(server, opts.webDir);
  registerApiRoutes(server, store, opts.features ?? (() => ({ security: false, profiling: false })));
  const live = new LiveStream(server, store, opts.live);
  return {
    server,
    live,
    async close() {
      live.close();
      await server.close();
    },
  };
}

/** Mounts the UI on a new listener and starts it. */
export async function startUi(store: LiveStore, opts: UiOptions = {}): Promise<Ui> {
  const ui = mountUi(store, opts);
  await ui.server.listen();
  return ui;
}
