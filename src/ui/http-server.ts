// The agent's single HTTP listener: the UI, its JSON API and live stream,
// /metrics and /readyz all hang off one small route table.
//
// Access control:
// - Bound to loopback (the default, 127.0.0.1:9400) no token is needed, unless one
//   is given. The Host header must then name a loopback host, so a web page
//   cannot reach the agent through DNS rebinding.
// - Bound anywhere else, a token is required: the one given, or one generated at
//   start (`server.token`; the caller prints `server.browserUrl`). Every request,
//   including the live stream and /metrics, must carry it as
//     `Authorization: Bearer <token>`   (Prometheus: `authorization: {credentials: <token>}`),
//     the `waggle_token` cookie         (set for browsers after one `?token=<token>` visit), or
//     `?token=<token>` on the URL       (any client; browsers are redirected to drop it).
//   Anything else gets 401.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { isIP } from 'node:net';

export const DEFAULT_UI_HOST = '127.0.0.1';
export const DEFAULT_UI_PORT = 9400;
export const TOKEN_COOKIE = 'waggle_token';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** `url` is the parsed request URL (path and query), already authorised. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface HttpServerOptions {
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 9400; 0 picks a free one. */
  port?: number;
  /** Required token; generated when the bind is not loopback and none is given. */
  token?: string;
  /** Called with errors thrown by handlers (the client gets a 500). */
  onError?: (err: unknown, req: IncomingMessage) => void;
}

interface Route {
  method: HttpMethod;
  path: string;
  prefix: boolean;
  handler: RouteHandler;
}

export class AgentHttpServer {
  readonly host: string;
  /** The token every request must carry, or undefined when access is open (loopback). */
  readonly token: string | undefined;
  /** True when the token was generated here (the caller should print it). */
  readonly tokenGenerated: boolean;
  private readonly requestedPort: number;
  private readonly exact = new Map<string, Route>();
  private readonly prefixes: Route[] = [];
  private readonly onError: ((err: unknown, req: IncomingMessage) => void) | undefined;
  private readonly tokenDigest: Buffer | undefined;
  private server: Server | undefined;
  private boundPort = 0;

  constructor(opts: HttpServerOptions = {}) {
    this.host = opts.host ?? DEFAULT_UI_HOST;
    this.requestedPort = opts.port ?? DEFAULT_UI_PORT;
    if (!Number.isInteger(this.requestedPort) || this.requestedPort < 0 || this.requestedPort > 65535) {
      throw new RangeError(`ui port: expected an integer 0..65535, got ${String(opts.port)}`);
    }
    if (opts.token !== undefined && !/^[\x21-\x7e]{16,256}$/.test(opts.token)) {
      throw new RangeError('ui token: expected 16 to 256 printable ASCII characters without spaces');
    }
    const needsToken = !isLoopbackHost(this.host);
    this.tokenGenerated = opts.token === undefined && needsToken;
    this.token = opts.token ?? (needsToken ? randomBytes(24).toString('base64url') : undefined);
    this.tokenDigest = this.token === undefined ? undefined : digest(this.token);
    this.onError = opts.onError;
  }

  /**
   * Registers a handler. `path` is matched exactly, or as a prefix when it ends
   * with `/*` (e.g. `/api/services/*`); the longest prefix wins. GET routes also
   * answer HEAD.
   */
  route(method: HttpMethod, path: string, handler: RouteHandler): this {
    const prefix = path.endsWith('/*');
    const clean = prefix ? path.slice(0, -1) : path;
    if (!clean.startsWith('/')) throw new RangeError(`route path must start with "/": ${path}`);
    const r: Route = { method, path: clean, prefix, handler };
    if (prefix) {
      if (this.prefixes.some((p) => p.method === method && p.path === clean)) throw new Error(`route already registered: ${method} ${path}`);
      this.prefixes.push(r);
      this.prefixes.sort((a, b) => b.path.length - a.path.length);
    } else {
      const key = `${method} ${clean}`;
      if (this.exact.has(key)) throw new Error(`route already registered: ${key}`);
      this.exact.set(key, r);
    }
    return this;
  }

  /** Starts listening; resolves once bound. */
  async listen(): Promise<void> {
    if (this.server) throw new Error('http server already listening');
    const server = createServer((req, res) => this.dispatch(req, res));
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    // The live stream is long-lived: no overall request timeout.
    server.requestTimeout = 0;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server = undefined;
        const where = `${formatHost(this.host)}:${this.requestedPort}`;
        if (err.code === 'EADDRINUSE') reject(new Error(`cannot listen on ${where}: address already in use (choose another with --listen HOST:PORT)`, { cause: err }));
        else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`cannot listen on ${where}: no such local address`, { cause: err }));
        else reject(new Error(`cannot listen on ${where}: ${err.message}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen(this.requestedPort, this.host, () => {
        server.off('error', onError);
        const addr = server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : this.requestedPort;
        resolve();
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Base URL, e.g. http://127.0.0.1:9400 (no token). */
  get url(): string {
    const host = this.host === '0.0.0.0' ? '127.0.0.1' : this.host === '::' ? '::1' : this.host;
    return `http://${formatHost(host)}:${this.port}`;
  }

  /** URL to open in a browser: carries the token when one is required. */
  get browserUrl(): string {
    return this.token === undefined ? `${this.url}/` : `${this.url}/?token=${encodeURIComponent(this.token)}`;
  }

  /** Stops listening and ends every open connection (live streams included). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://agent.invalid');
    } catch {
      return sendText(res, 400, 'bad request target\n');
    }
    if (!this.hostAllowed(req)) return sendText(res, 403, 'forbidden: Host header is not a loopback name (bind a non-loopback address with a token to serve other hosts)\n');
    const auth = this.authorise(req, url);
    if (auth === 'denied') {
      res.setHeader('WWW-Authenticate', 'Bearer realm="waggle"');
      return sendText(res, 401, 'unauthorized: this waggle listener needs its token (Authorization: Bearer <token>, or open the URL the agent printed)\n');
    }
    if (auth === 'redirect') {
      // A browser brought the token on the URL: keep it in a cookie and drop it from the address bar.
      url.searchParams.delete('token');
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${encodeURIComponent(this.token ?? '')}; Path=/; HttpOnly; SameSite=Strict`);
      res.setHeader('Location', url.pathname + url.search);
      res.setHeader('Cache-Control', 'no-store');
      res.writeHead(303).end();
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method as HttpMethod);
    const route = this.match(method, url.pathname);
    if (!route) {
      const other = this.pathKnown(url.pathname);
      if (other) {
        res.setHeader('Allow', other.join(', '));
        return sendText(res, 405, `method ${req.method} not allowed on ${url.pathname}\n`);
      }
      return sendText(res, 404, `not found: ${url.pathname}\n`);
    }
    try {
      const done = route.handler(req, res, url);
      if (done && typeof (done as Promise<void>).then === 'function') (done as Promise<void>).catch((err) => this.fail(err, req, res));
    } catch (err) {
      this.fail(err, req, res);
    }
  }

  private fail(err: unknown, req: IncomingMessage, res: ServerResponse): void {
    this.onError?.(err, req);
    if (!res.headersSent) sendText(res, 500, 'internal error\n');
    else res.destroy();
  }

  private match(method: HttpMethod, path: string): Route | undefined {
    const exact = this.exact.get(`${method} ${path}`);
    if (exact) return exact;
    return this.prefixes.find((r) => r.method === method && path.startsWith(r.path));
  }

  private pathKnown(path: string): HttpMethod[] | undefined {
    const methods = new Set<HttpMethod>();
    for (const r of this.exact.values()) if (r.path === path) methods.add(r.method);
    for (const r of this.prefixes) if (path.startsWith(r.path)) methods.add(r.method);
    return methods.size ? [...methods] : undefined;
  }

  private hostAllowed(req: IncomingMessage): boolean {
    if (this.token !== undefined) return true;
    const host = req.headers.host;
    if (!host) return true; // HTTP/1.0 clients and scrapers without Host cannot be a rebinding browser
    return isLoopbackHost(hostnameOf(host));
  }

  private authorise(req: IncomingMessage, url: URL): 'ok' | 'denied' | 'redirect' {
    if (this.tokenDigest === undefined) return 'ok';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.tokenMatches(bearer)) return 'ok';
    const cookie = readCookie(req.headers.cookie, TOKEN_COOKIE);
    if (cookie !== undefined && this.tokenMatches(cookie)) return 'ok';
    const query = url.searchParams.get('token');
    if (query !== null && this.tokenMatches(query)) {
      const navigating = req.method === 'GET' && (req.headers['sec-fetch-mode'] === 'navigate' || (req.headers.accept ?? '').includes('text/html'));
      return navigating ? 'redirect' : 'ok';
    }
    return 'denied';
  }

  private tokenMatches(candidate: string): boolean {
    // Compare digests so the comparison takes the same time whatever the length.
    return this.tokenDigest !== undefined && timingSafeEqual(digest(candidate), this.tokenDigest);
  }
}

export function createHttpServer(opts: HttpServerOptions = {}): AgentHttpServer {
  return new AgentHttpServer(opts);
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost" (and names under it). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(h);
  return false;
}

/** Parses "HOST:PORT", "[v6]:PORT", ":PORT" or "PORT". */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new RangeError(`listen: expected HOST:PORT (e.g. 127.0.0.1:9400), got "${value}"`);
  const host = m[1] || m[2] || DEFAULT_UI_HOST;
  return { host, port };
}

export function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon >= 0 && hostHeader.indexOf(':') === colon ? hostHeader.slice(0, colon) : hostHeader;
}

function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
